#include "validate/validate_record.h"

#include <chrono>
#include <ctime>

#include "core/sha256.h"
#include "model/model_summary.h"

namespace lp::validate {

nlohmann::json describe_file(const std::filesystem::path& path) {
  return {{"path", path.string()}, {"bytes", std::filesystem::file_size(path)}, {"sha256", sha256_file(path)}};
}

nlohmann::json describe_model(const LoadedModel& model) {
  const ModelSummary s = summarize_model(model.path());
  std::vector<std::filesystem::path> files(s.files.begin(), s.files.end());
  if (s.format == "huggingface") {
    // What else decides a Hugging Face model's outputs besides its weights.
    for (const char* name : {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
      const auto p = model.path() / name;
      if (std::filesystem::exists(p)) files.push_back(p);
    }
  }
  nlohmann::json list = nlohmann::json::array();
  std::string manifest;
  for (const auto& f : files) {
    list.push_back(describe_file(f));
    manifest += list.back()["sha256"].get<std::string>() + "  " + f.filename().string() + "\n";
  }
  const std::string hash = list.size() == 1 ? list[0]["sha256"].get<std::string>() : sha256_hex(manifest);
  return {{"path", model.path().string()},
          {"name", s.name},
          {"architecture", s.hparams.architecture},
          {"format", s.format},
          {"sha256", hash},
          {"files", list},
          {"quant_type", model.quant_type_name()},
          {"parameters", s.parameter_count},
          {"tensor_bytes", s.tensor_bytes},
          {"bits_per_weight", s.bits_per_weight()}};
}

std::string utc_timestamp_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace lp::validate
