#include <gtest/gtest.h>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "support/sample_gguf.h"
#include "temp_dir.h"

namespace lp {
namespace {

using testing::TempDir;

// Writes a model split like llama.cpp's gguf-split does: the first part carries the
// metadata, every part carries split.no / split.count / split.tensors.count.
void write_split(const TempDir& dir, uint16_t parts, const std::vector<testing::SampleTensor>& tensors,
                 uint16_t wrong_no_in_part = 0xffff) {
  for (uint16_t p = 0; p < parts; ++p) {
    GgufWriter w;
    if (p == 0) w.set("general.architecture", GgufValue("llama"));
    w.set("split.no", GgufValue(static_cast<uint16_t>(p == wrong_no_in_part ? p + 1 : p)));
    w.set("split.count", GgufValue(parts));
    w.set("split.tensors.count", GgufValue(static_cast<int32_t>(tensors.size())));
    for (size_t i = p; i < tensors.size(); i += parts) {
      w.add_tensor(tensors[i].name, tensors[i].type, tensors[i].shape, std::span<const uint8_t>(tensors[i].bytes));
    }
    w.write(dir / fmt::format("m-{:05d}-of-{:05d}.gguf", p + 1, parts));
  }
}

TEST(GgufSplit, ReadsAllPartsAsOneModelFromAnyPart) {
  TempDir dir;
  const auto tensors = testing::sample_tensors();
  write_split(dir, 3, tensors);
  for (const char* part : {"m-00001-of-00003.gguf", "m-00002-of-00003.gguf"}) {
    const GgufModel model = GgufModel::open(dir / part);
    EXPECT_EQ(model.files().size(), 3u);
    ASSERT_NE(model.find("general.architecture"), nullptr) << "metadata comes from the first part";
    ASSERT_EQ(model.tensors().size(), tensors.size());
    for (const auto& e : tensors) {
      const auto* t = model.find_tensor(e.name);
      ASSERT_NE(t, nullptr);
      EXPECT_TRUE(std::ranges::equal(t->data, e.bytes)) << e.name;
    }
    EXPECT_EQ(model.find_tensor(tensors[1].name)->file_index, 1u);
  }
}

TEST(GgufSplit, MissingPartIsAnError) {
  TempDir dir;
  write_split(dir, 3, testing::sample_tensors());
  std::filesystem::remove(dir / "m-00003-of-00003.gguf");
  EXPECT_THROW(GgufModel::open(dir / "m-00001-of-00003.gguf"), InputError);
}

TEST(GgufSplit, PartWithWrongNumberIsAnError) {
  TempDir dir;
  write_split(dir, 2, testing::sample_tensors(), 1);
  EXPECT_THROW(GgufModel::open(dir / "m-00001-of-00002.gguf"), InputError);
}

TEST(GgufSplit, RenamedPartIsExplained) {
  TempDir dir;
  write_split(dir, 2, testing::sample_tensors());
  std::filesystem::rename(dir / "m-00001-of-00002.gguf", dir / "renamed.gguf");
  try {
    GgufModel::open(dir / "renamed.gguf");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("split into 2 files"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lp
