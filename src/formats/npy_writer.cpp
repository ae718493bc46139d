#include "formats/npy_writer.h"

#include <bit>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"

namespace lp {

struct NpyWriter::Impl {
  AtomicFile file;
  uint64_t expected = 1;
  uint64_t written = 0;
  explicit Impl(const std::filesystem::path& p) : file(p) {}
};

NpyWriter::NpyWriter(const std::filesystem::path& path, std::vector<uint64_t> shape) : impl_(new Impl(path)) {
  static_assert(std::endian::native == std::endian::little, "the .npy writer assumes a little-endian host");
  std::string dims;
  for (uint64_t d : shape) {
    dims += std::to_string(d) + ", ";
    impl_->expected *= d;
  }
  if (shape.size() > 1) dims.resize(dims.size() - 1);  // (a, b) but (a,)
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + length (2) + header, padded with spaces to 64 bytes, newline-terminated.
  const size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  const auto len = static_cast<uint16_t>(header.size());
  impl_->file.write(std::string_view("\x93NUMPY\x01\x00", 8));
  const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  impl_->file.write(std::string_view(len_bytes, 2));
  impl_->file.write(header);
}

NpyWriter::~NpyWriter() { delete impl_; }

void NpyWriter::append(std::span<const float> values) {
  if (impl_->written + values.size() > impl_->expected) fail("internal: more values than the .npy shape holds");
  impl_->file.write({reinterpret_cast<const uint8_t*>(values.data()), values.size() * sizeof(float)});
  impl_->written += values.size();
}

void NpyWriter::commit() {
  if (impl_->written != impl_->expected) fail("internal: .npy has {} of {} values", impl_->written, impl_->expected);
  impl_->file.commit();
}

}  // namespace lp
