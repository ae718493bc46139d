#include <gtest/gtest.h>

#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "support/sample_gguf.h"
#include "temp_dir.h"

namespace lp {
namespace {

using testing::TempDir;

class GgufRoundTrip : public ::testing::TestWithParam<uint32_t> {};

TEST_P(GgufRoundTrip, EveryMetadataTypeAndEveryTensorTypeSurvives) {
  TempDir dir;
  const uint32_t alignment = GetParam();
  testing::write_sample_gguf(dir / "sample.gguf", alignment);
  const GgufModel model = GgufModel::open(dir / "sample.gguf");

  EXPECT_EQ(model.version(), 3u);
  EXPECT_EQ(model.alignment(), alignment);
  const auto expected_kv = testing::sample_metadata();
  // A non-default alignment is itself stored as the first key.
  const size_t skip = alignment == kGgufDefaultAlignment ? 0 : 1;
  ASSERT_EQ(model.metadata().size(), expected_kv.size() + skip);
  for (size_t i = 0; i < expected_kv.size(); ++i) {
    EXPECT_EQ(model.metadata()[i + skip].key, expected_kv[i].key);
    EXPECT_TRUE(model.metadata()[i + skip].value == expected_kv[i].value) << expected_kv[i].key;
    EXPECT_EQ(model.metadata()[i + skip].value.type(), expected_kv[i].value.type()) << expected_kv[i].key;
  }

  const auto expected_tensors = testing::sample_tensors();
  ASSERT_EQ(model.tensors().size(), expected_tensors.size());
  for (const auto& e : expected_tensors) {
    const GgufTensorInfo* t = model.find_tensor(e.name);
    ASSERT_NE(t, nullptr) << e.name;
    EXPECT_EQ(t->type, e.type);
    EXPECT_EQ(t->shape, e.shape);
    EXPECT_EQ(t->offset % alignment, 0u);
    ASSERT_EQ(t->n_bytes, e.bytes.size()) << e.name;
    EXPECT_TRUE(std::equal(t->data.begin(), t->data.end(), e.bytes.begin())) << e.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Alignments, GgufRoundTrip, ::testing::Values(32u, 64u, 1u, 4096u));

TEST(GgufWriter, EmptyModelRoundTrips) {
  TempDir dir;
  GgufWriter().write(dir / "empty.gguf");
  const GgufModel model = GgufModel::open(dir / "empty.gguf");
  EXPECT_TRUE(model.metadata().empty());
  EXPECT_TRUE(model.tensors().empty());
  EXPECT_EQ(model.file_bytes(), 32u);  // 24-byte header padded to the alignment
}

TEST(GgufWriter, StreamsATensorInPieces) {
  TempDir dir;
  const auto bytes = testing::pseudo_random_bytes(34 * 1000, 7);
  GgufWriter writer;
  writer.add_tensor("t", GgmlType::Q8_0, {32 * 100, 10}, [&bytes](ByteSink& sink) {
    for (size_t i = 0; i < bytes.size(); i += 1000) sink.write(std::span(bytes).subspan(i, 1000));
  });
  writer.write(dir / "t.gguf");
  const GgufModel model = GgufModel::open(dir / "t.gguf");
  ASSERT_EQ(model.tensors().size(), 1u);
  EXPECT_TRUE(std::ranges::equal(model.tensors()[0].data, bytes));
}

TEST(GgufWriter, WrongProducerSizeLeavesNoFile) {
  TempDir dir;
  GgufWriter writer;
  const std::vector<uint8_t> too_short(10);
  writer.add_tensor("t", GgmlType::F32, {4}, std::span<const uint8_t>(too_short));
  EXPECT_THROW(writer.write(dir / "bad.gguf"), std::logic_error);
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.gguf"));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "the temporary file must be removed too";
}

TEST(GgufWriter, RejectsRowsThatAreNotWholeBlocks) {
  GgufWriter writer;
  EXPECT_THROW(writer.add_tensor("t", GgmlType::Q4_K, {100, 2}, std::span<const uint8_t>()), std::invalid_argument);
}

TEST(GgufWriter, SettingAKeyTwiceKeepsOnePlace) {
  TempDir dir;
  GgufWriter writer;
  writer.set("a", GgufValue(uint32_t{1}));
  writer.set("b", GgufValue("x"));
  writer.set("a", GgufValue(uint32_t{2}));
  writer.write(dir / "k.gguf");
  const GgufModel model = GgufModel::open(dir / "k.gguf");
  ASSERT_EQ(model.metadata().size(), 2u);
  EXPECT_EQ(model.metadata()[0].key, "a");
  EXPECT_EQ(model.find("a")->as_uint(), 2u);
}

}  // namespace
}  // namespace lp
