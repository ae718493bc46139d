#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/float_convert.h"
#include "formats/safetensors.h"
#include "support/safetensors_builder.h"
#include "temp_dir.h"

namespace lp {
namespace {

using testing::StTensor;
using testing::TempDir;

template <class T>
std::vector<uint8_t> as_bytes(const std::vector<T>& values) {
  std::vector<uint8_t> out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

std::vector<StTensor> sample() {
  return {
      {"f32", "F32", {2, 2}, as_bytes(std::vector<float>{1.0f, -2.5f, 3.0f, 0.125f})},
      {"f16", "F16", {3}, as_bytes(std::vector<uint16_t>{f32_to_f16(1.5f), f32_to_f16(-0.25f), f32_to_f16(65504.0f)})},
      {"bf16", "BF16", {1, 2}, as_bytes(std::vector<uint16_t>{f32_to_bf16(2.0f), f32_to_bf16(-3.0f)})},
      {"ids", "I64", {2}, as_bytes(std::vector<int64_t>{7, -9})},
      {"scalar", "F32", {}, as_bytes(std::vector<float>{42.0f})},
  };
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    parse_safetensors(bytes, "damaged.safetensors");
    return "";
  } catch (const InputError& e) {
    return e.what();
  }
}

TEST(Safetensors, ReadsFloatTypesAsF32AndOthersAsRawBytes) {
  const auto bytes = testing::build_safetensors(sample(), {{"format", "pt"}});
  const auto st = parse_safetensors(bytes, "s.safetensors");
  EXPECT_EQ(st.metadata.at("format"), "pt");
  ASSERT_EQ(st.tensors.size(), 5u);
  auto find = [&](std::string_view n) { return *std::ranges::find(st.tensors, n, &SafetensorsTensor::name); };
  EXPECT_EQ(safetensors_to_f32(find("f32")), (std::vector<float>{1.0f, -2.5f, 3.0f, 0.125f}));
  EXPECT_EQ(safetensors_to_f32(find("f16")), (std::vector<float>{1.5f, -0.25f, 65504.0f}));
  EXPECT_EQ(safetensors_to_f32(find("bf16")), (std::vector<float>{2.0f, -3.0f}));
  EXPECT_EQ(find("bf16").shape, (std::vector<uint64_t>{1, 2}));
  const auto ids = find("ids");
  EXPECT_EQ(ids.dtype->name, "I64");
  EXPECT_EQ(ids.data.size(), 16u);
  EXPECT_THROW(safetensors_to_f32(ids), InputError);
  EXPECT_EQ(find("scalar").n_elements, 1u);
}

TEST(Safetensors, ShardedCheckpointThroughIndex) {
  TempDir dir;
  auto tensors = sample();
  testing::write_bytes(dir / "model-00001-of-00002.safetensors", testing::build_safetensors({tensors[0], tensors[1]}));
  testing::write_bytes(dir / "model-00002-of-00002.safetensors", testing::build_safetensors({tensors[2], tensors[3]}));
  const std::string index = R"({"metadata": {"total_size": 40}, "weight_map": {
      "f32": "model-00001-of-00002.safetensors", "f16": "model-00001-of-00002.safetensors",
      "bf16": "model-00002-of-00002.safetensors", "ids": "model-00002-of-00002.safetensors"}})";
  testing::write_bytes(dir / "model.safetensors.index.json", {index.begin(), index.end()});
  for (const auto& path : {dir.path(), dir / "model.safetensors.index.json"}) {
    const auto model = SafetensorsModel::open(path);
    EXPECT_EQ(model.files().size(), 2u);
    ASSERT_EQ(model.tensors().size(), 4u);
    ASSERT_NE(model.find("bf16"), nullptr);
    EXPECT_EQ(model.find("bf16")->file_index, 1u);
    EXPECT_EQ(safetensors_to_f32(*model.find("bf16")), (std::vector<float>{2.0f, -3.0f}));
  }
}

TEST(Safetensors, IndexThatDisagreesWithShardsIsAnError) {
  TempDir dir;
  auto tensors = sample();
  testing::write_bytes(dir / "a.safetensors", testing::build_safetensors({tensors[0]}));
  const std::string index = R"({"weight_map": {"f32": "a.safetensors", "missing": "a.safetensors"}})";
  testing::write_bytes(dir / "model.safetensors.index.json", {index.begin(), index.end()});
  EXPECT_THROW(SafetensorsModel::open(dir.path()), InputError);
}

TEST(Safetensors, IndexCannotPointOutsideTheDirectory) {
  TempDir dir;
  const std::string index = R"({"weight_map": {"x": "../../etc/passwd"}})";
  testing::write_bytes(dir / "model.safetensors.index.json", {index.begin(), index.end()});
  EXPECT_THROW(SafetensorsModel::open(dir.path()), InputError);
}

TEST(SafetensorsDamaged, EveryTruncationFailsCleanly) {
  const auto bytes = testing::build_safetensors(sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_NE(parse_error(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n)), "") << n;
  }
  EXPECT_EQ(parse_error(bytes), "");
}

TEST(SafetensorsDamaged, HostileHeaders) {
  const std::vector<uint8_t> data(64);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([1, 2])", "not a JSON object"},
      {R"({"t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 17]}})", "holds 17 bytes"},
      {R"({"t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 100]}})", "past the end"},
      {R"({"t": {"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}})", "past the end"},
      {R"({"t": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}})", "non-negative"},
      {R"({"t": {"dtype": "F99", "shape": [4], "data_offsets": [0, 16]}})", "not supported"},
      {R"({"t": {"shape": [4], "data_offsets": [0, 16]}})", "no dtype"},
      {R"({"t": {"dtype": "F32", "shape": [4]}})", "data_offsets"},
      {R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 16]}})",
       "impossible shape"},
      {R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
           "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})", "overlap"},
      {R"({"__metadata__": {"k": 1}})", "not a string"},
      {std::string(100, '[') + std::string(100, ']'), "deep"},
      {R"({"t": )", "not valid JSON"},
  };
  for (const auto& [header, fragment] : cases) {
    const std::string message = parse_error(testing::build_safetensors_raw(header, data));
    EXPECT_NE(message.find(fragment), std::string::npos) << header << " -> " << message;
  }
}

TEST(SafetensorsDamaged, HeaderLongerThanFile) {
  auto bytes = testing::build_safetensors(sample());
  bytes[5] = 0x7f;  // header length now about 2^47
  EXPECT_NE(parse_error(bytes).find("header claims"), std::string::npos);
}

}  // namespace
}  // namespace lp
