// The fuzz seeds must parse (they are valid files), and every input the fuzzers ever
// crashed on (fuzz/regressions) must now give a clean InputError or parse. Each target's
// entry below reads an input the way its fuzz/fuzz_<name>.cpp does (same splitting rules,
// from fuzz_input.h), through the normal, uninstrumented build.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "decide/device_catalog.h"
#include "decide/matrix_report.h"
#include "formats/gguf_reader.h"
#include "formats/hub_id.h"
#include "formats/hub_listing.h"
#include "formats/json_guard.h"
#include "serve/api_request.h"
#include "formats/safetensors.h"
#include "fuzz_input.h"
#include "model/hparams.h"
#include "quant/imatrix.h"
#include "quant/recipes.h"
#include "support/sample_gguf.h"
#include "temp_dir.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer_load.h"
#include "core/gzip_text.h"
#include "validate/humaneval_problems.h"
#include "validate/reference_logits_file.h"

namespace lp {
namespace {

const std::filesystem::path kFuzzDir = LP_FUZZ_DIR;

// One fuzz target's parse of one file: throws InputError for a bad input.
using Parse = std::function<void(const std::filesystem::path& path, std::string_view bytes, const testing::TempDir& tmp)>;

std::filesystem::path write_file(const testing::TempDir& tmp, const std::string& name, std::string_view bytes) {
  const auto path = tmp / name;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

const std::map<std::string, Parse>& targets() {
  static const std::map<std::string, Parse> parsers = {
      {"gguf", [](const auto& path, std::string_view b, const auto&) {
         parse_gguf({reinterpret_cast<const uint8_t*>(b.data()), b.size()}, path.string());
       }},
      {"safetensors", [](const auto& path, std::string_view b, const auto&) {
         parse_safetensors({reinterpret_cast<const uint8_t*>(b.data()), b.size()}, path.string());
       }},
      {"tokenizer_json", [](const auto& path, std::string_view b, const auto&) {
         const auto [json_text, text] = fuzz::split_at_nul(b);
         const Tokenizer tok = load_tokenizer_from_json_text(json_text, path.string());
         tok.decode(tok.encode(text, true));
       }},
      {"chat_template", [](const auto& path, std::string_view b, const auto&) {
         const auto [template_text, conversation] = fuzz::split_at_nul(b);
         // As the fuzzer: a bad conversation falls back to a fixed one, so the template still renders.
         ChatRequest request;
         request.messages = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "Hi"}])");
         try {
           request = parse_chat_request(conversation, path.string());
         } catch (const InputError&) {
           if (path.parent_path().parent_path().filename() == "corpus") throw;  // seeds hold valid conversations
         }
         render_chat_template({std::string(template_text), "<s>", "</s>"}, request,
                              {.max_output_bytes = size_t{1} << 20, .max_steps = 100'000});
       }},
      {"hf_config", [](const auto& path, std::string_view b, const auto&) {
         hparams_from_hf_config(parse_untrusted_json(b, path.string()), path.string());
       }},
      {"recipe", [](const auto& path, std::string_view, const auto&) { load_recipe_file(path.string()); }},
      {"imatrix", [](const auto& path, std::string_view, const auto&) { load_imatrix(path); }},
      {"reference_logits", [](const auto& path, std::string_view, const auto&) {
         const validate::ReferenceLogitsReader reader(path);
         for (int64_t c = 0; c < reader.n_chunks(); ++c)
           for (int64_t i = 0; i < reader.rows_per_chunk(); ++i) reader.row(c, i).log_prob(reader.n_vocab() - 1);
       }},
      {"gguf_tokenizer", [](const auto& path, std::string_view, const auto&) {
         const Tokenizer tok = load_tokenizer_from_gguf(GgufModel::open(path), path.string());
         tok.decode(tok.encode("Hello world! 12345 caf\xC3\xA9", true));
       }},
      {"device_catalog", [](const auto& path, std::string_view, const auto&) {
         decide::DeviceCatalog catalog = decide::builtin_device_catalog();
         decide::add_devices_file(catalog, path);
         decide::select_devices(catalog, "all");
       }},
      {"hub_listing", [](const auto& path, std::string_view b, const auto&) {
         const auto parts = fuzz::split_all_at_nul(b, 3);
         const HubListing listing = parse_hub_listing(parts[0], path.string());
         std::vector<std::string> names;
         for (const auto& file : listing.files) names.push_back(file.path);
         const auto id = parse_hub_id(parts.size() > 1 ? parts[1] : "org/repo");
         if (!id) throw InputError(path.string() + ": not a hub id");
         std::vector<std::string> include;
         if (parts.size() > 2 && !parts[2].empty()) include.emplace_back(parts[2]);
         select_hub_files(names, *id, include);
       }},
      {"humaneval_problems", [](const auto& path, std::string_view b, const auto&) {
         validate::parse_humaneval_problems(maybe_gunzip(b, path.string(), 1 << 20), path.string());
       }},
      {"api_request", [](const auto&, std::string_view b, const auto&) {
         if (b.empty()) return;
         try {
           serve::parse_api_request(static_cast<serve::Api>(static_cast<unsigned char>(b[0]) % 4), b.substr(1));
         } catch (const serve::ApiError& e) {
           throw InputError(e.what());  // the server's 400: a clean refusal
         }
       }},
      {"matrix_records", [](const auto&, std::string_view b, const testing::TempDir& tmp) {
         const auto dir = tmp / "records";
         std::filesystem::remove_all(dir);
         std::filesystem::create_directories(dir);
         const auto parts = fuzz::split_all_at_nul(b, 16);
         for (size_t i = 0; i < parts.size(); ++i) write_file(tmp, "records/" + std::to_string(100 + i) + ".json", parts[i]);
         decide::MatrixReportInputs in;
         in.record_dirs = {dir};
         const nlohmann::json report = decide::build_matrix_report(in);
         decide::matrix_report_markdown(report);
         decide::matrix_report_csv(report);
       }},
  };
  return parsers;
}

template <class Each>
void for_each_file(const std::filesystem::path& dir, Each each) {
  if (!std::filesystem::exists(dir)) return;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      const auto bytes = testing::read_file_bytes(entry.path());
      each(entry.path(), std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    }
  }
}

TEST(FuzzCorpus, EveryTargetHasSeeds) {
  for (const auto& [name, parse] : targets()) {
    int seeds = 0;
    for_each_file(kFuzzDir / "corpus" / name, [&](const auto&, std::string_view) { ++seeds; });
    EXPECT_GE(seeds, 1) << name;
    EXPECT_TRUE(std::filesystem::exists(kFuzzDir / ("fuzz_" + name + ".cpp"))) << name;
  }
}

TEST(FuzzCorpus, SeedsAreValidFiles) {
  testing::TempDir tmp;
  // Named copies, not structured bindings: clang 14 cannot capture those in a lambda.
  for (const auto& target : targets()) {
    const auto& name = target.first;
    const auto& parse = target.second;
    for_each_file(kFuzzDir / "corpus" / name, [&](const auto& path, std::string_view bytes) {
      try {
        parse(path, bytes, tmp);
      } catch (const std::exception& e) {
        ADD_FAILURE() << name << " seed " << path << ": " << e.what();
      }
    });
  }
}

TEST(FuzzCorpus, KeptCrashInputsFailCleanly) {
  testing::TempDir tmp;
  for (const auto& target : targets()) {
    const auto& parse = target.second;
    for_each_file(kFuzzDir / "regressions" / target.first, [&](const auto& path, std::string_view bytes) {
      try {
        parse(path, bytes, tmp);
      } catch (const InputError&) {
      }
    });
  }
}

}  // namespace
}  // namespace lp
