#include "model/hf_checkpoint.h"

#include "core/error.h"
#include "formats/json_guard.h"

namespace lp {
namespace {

GenerationDefaults read_generation_config(const std::filesystem::path& path) {
  const auto j = read_json_file(path.string());
  if (!j.is_object()) fail("{} is not a JSON object", path.string());
  GenerationDefaults g;
  auto real = [&](const char* key, std::optional<double>& out) {
    if (j.contains(key) && j[key].is_number()) out = j[key].get<double>();
  };
  auto integer = [&](const char* key, std::optional<int64_t>& out) {
    if (j.contains(key) && j[key].is_number_integer()) out = j[key].get<int64_t>();
  };
  if (j.contains("do_sample") && j["do_sample"].is_boolean()) g.do_sample = j["do_sample"].get<bool>();
  real("temperature", g.temperature);
  real("top_p", g.top_p);
  real("min_p", g.min_p);
  real("repetition_penalty", g.repetition_penalty);
  integer("top_k", g.top_k);
  integer("max_new_tokens", g.max_new_tokens);
  if (const auto eos = j.find("eos_token_id"); eos != j.end()) {
    for (const auto& id : eos->is_array() ? *eos : nlohmann::json::array({*eos})) {
      if (id.is_number_integer()) g.eos_token_ids.push_back(id.get<int64_t>());
    }
  }
  return g;
}

}  // namespace

HfCheckpoint HfCheckpoint::open(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) fail("{} does not exist", dir.string());
  if (!std::filesystem::is_directory(dir, ec)) fail("{} is not a directory", dir.string());
  const auto config_path = dir / "config.json";
  if (!std::filesystem::exists(config_path, ec)) {
    fail("{} is not a Hugging Face model directory: it has no config.json", dir.string());
  }
  HfCheckpoint c;
  c.dir_ = dir;
  c.config_ = read_json_file(config_path.string());
  c.hparams_ = hparams_from_hf_config(c.config_, config_path.string());
  c.tokenizer_ = tokenizer_summary_from_hf(dir);
  if (const auto gen = dir / "generation_config.json"; std::filesystem::exists(gen, ec)) {
    c.generation_ = read_generation_config(gen);
    // generation_config.json's stop tokens win: chat models list their end-of-turn token there.
    if (!c.generation_->eos_token_ids.empty()) c.hparams_.eos_token_ids = c.generation_->eos_token_ids;
  }
  c.weights_ = SafetensorsModel::open(dir);
  return c;
}

nlohmann::json generation_defaults_to_json(const GenerationDefaults& g) {
  nlohmann::json j = nlohmann::json::object();
  if (g.do_sample) j["do_sample"] = *g.do_sample;
  if (g.temperature) j["temperature"] = *g.temperature;
  if (g.top_p) j["top_p"] = *g.top_p;
  if (g.min_p) j["min_p"] = *g.min_p;
  if (g.repetition_penalty) j["repetition_penalty"] = *g.repetition_penalty;
  if (g.top_k) j["top_k"] = *g.top_k;
  if (g.max_new_tokens) j["max_new_tokens"] = *g.max_new_tokens;
  if (!g.eos_token_ids.empty()) j["eos_token_ids"] = g.eos_token_ids;
  return j;
}

}  // namespace lp
