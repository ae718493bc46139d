// The fuzz seeds must parse (they are valid files), and every input the fuzzers ever
// crashed on (fuzz/regressions) must now give a clean InputError or parse.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/safetensors.h"
#include "support/sample_gguf.h"

namespace lp {
namespace {

const std::filesystem::path kFuzzDir = LP_FUZZ_DIR;

template <class Parse>
void for_each_file(const std::filesystem::path& dir, Parse parse) {
  if (!std::filesystem::exists(dir)) return;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) parse(entry.path(), testing::read_file_bytes(entry.path()));
  }
}

TEST(FuzzCorpus, SeedsAreValidFiles) {
  int seeds = 0;
  for_each_file(kFuzzDir / "corpus" / "gguf", [&](const auto& path, const auto& bytes) {
    EXPECT_NO_THROW(parse_gguf(bytes, path.string())) << path;
    ++seeds;
  });
  for_each_file(kFuzzDir / "corpus" / "safetensors", [&](const auto& path, const auto& bytes) {
    EXPECT_NO_THROW(parse_safetensors(bytes, path.string())) << path;
    ++seeds;
  });
  EXPECT_GE(seeds, 3);
}

TEST(FuzzCorpus, KeptCrashInputsFailCleanly) {
  for (const char* format : {"gguf", "safetensors"}) {
    for_each_file(kFuzzDir / "regressions" / format, [&](const auto& path, const auto& bytes) {
      try {
        if (std::string_view(format) == "gguf") {
          parse_gguf(bytes, path.string());
        } else {
          parse_safetensors(bytes, path.string());
        }
      } catch (const InputError&) {
      }
    });
  }
}

}  // namespace
}  // namespace lp
