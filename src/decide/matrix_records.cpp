#include "decide/matrix_records.h"

#include <fmt/core.h>

#include <algorithm>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/sha256.h"
#include "formats/json_guard.h"

namespace lp::decide {

std::string record_key(const nlohmann::json& inputs) { return sha256_hex(inputs.dump()); }

std::string step_file_stem(const std::string& step, const std::string& level) {
  std::string stem = step;
  if (const auto slash = stem.find('/'); slash != std::string::npos) stem.replace(slash, 1, "of");
  return stem + "-" + level;
}

std::filesystem::path record_path(const std::filesystem::path& records_dir, const std::string& step,
                                  const std::string& level, const std::string& key) {
  return records_dir / fmt::format("{}-{}.json", step_file_stem(step, level), key.substr(0, 16));
}

std::optional<nlohmann::json> read_record(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  try {
    nlohmann::json j = read_json_file(path.string());
    if (!j.is_object() || j.value("schema", "") != kMatrixStepSchema || !j.contains("result") || !j.contains("key"))
      return std::nullopt;
    return j;
  } catch (const InputError&) {
    return std::nullopt;
  }
}

void write_record(const std::filesystem::path& path, const nlohmann::json& record) {
  AtomicFile out(path);
  out.write(record.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  out.commit();
}

std::vector<nlohmann::json> read_records(const std::vector<std::filesystem::path>& dirs) {
  std::vector<nlohmann::json> out;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) fail("{} is not a folder of matrix records", dir.string());
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
      if (auto r = read_record(f)) out.push_back(std::move(*r));
  }
  return out;
}

std::string content_sha256(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return sha256_file(path);
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(path))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::string manifest;
  for (const auto& f : files) manifest += sha256_file(f) + "  " + f.filename().string() + "\n";
  return sha256_hex(manifest);
}

}  // namespace lp::decide
