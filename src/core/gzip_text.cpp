#include "core/gzip_text.h"

#include <zlib.h>

#include <limits>

#include "core/error.h"
#include "core/text_file.h"

namespace lp {

std::string maybe_gunzip(std::string_view bytes, const std::string& source, uint64_t max_bytes) {
  const bool gzip = bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f && static_cast<uint8_t>(bytes[1]) == 0x8b;
  if (!gzip) {
    if (bytes.size() > max_bytes) fail("{} is {} bytes; at most {} are read", source, bytes.size(), max_bytes);
    return std::string(bytes);
  }
  if (bytes.size() > std::numeric_limits<uInt>::max()) fail("{} is too large to decompress", source);
  z_stream z{};
  // 16 + MAX_WBITS: a gzip header and trailer (CRC and length checked), not raw zlib.
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) fail("cannot start decompressing {}", source);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char chunk[1 << 16];
  int rc = Z_OK;
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      fail("{} is not a valid gzip file (it is damaged or truncated)", source);
    }
    const size_t produced = sizeof chunk - z.avail_out;
    if (out.size() + produced > max_bytes) {
      inflateEnd(&z);
      fail("{} decompresses to more than {} bytes", source, max_bytes);
    }
    out.append(chunk, produced);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      // Another gzip member follows (`cat a.gz b.gz` is a valid gzip file): read it too.
      if (inflateReset(&z) != Z_OK) {
        inflateEnd(&z);
        fail("{} is not a valid gzip file", source);
      }
      continue;
    }
    if (produced == 0 && z.avail_in == 0) {
      inflateEnd(&z);
      fail("{} is not a valid gzip file (it is truncated)", source);
    }
  }
  inflateEnd(&z);
  return out;
}

std::string read_maybe_gzipped_file(const std::filesystem::path& path, uint64_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes) fail("{} is {} bytes; at most {} are read", path.string(), size, max_bytes);
  return maybe_gunzip(read_text_file(path), path.string(), max_bytes);
}

}  // namespace lp
