#include "support/sample_gguf.h"

#include <fstream>
#include <iterator>
#include <limits>

#include "formats/gguf_writer.h"

namespace lp::testing {

std::vector<uint8_t> pseudo_random_bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> out(n);
  uint64_t state = 0x9e3779b97f4a7c15ull * (seed + 1);
  for (auto& b : out) {  // xorshift64*: fast, deterministic, no dependence on the standard library's engines
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    b = static_cast<uint8_t>((state * 0x2545f4914f6cdd1dull) >> 56);
  }
  return out;
}

std::vector<GgufKeyValue> sample_metadata() {
  using V = GgufValue;
  using T = GgufValueType;
  return {
      {"general.architecture", V("llama")},
      {"general.name", V("every type sample")},
      {"test.uint8", V(uint8_t{200})},
      {"test.int8", V(int8_t{-100})},
      {"test.uint16", V(uint16_t{60000})},
      {"test.int16", V(int16_t{-30000})},
      {"test.uint32", V(uint32_t{4000000000u})},
      {"test.int32", V(int32_t{-2000000000})},
      {"test.float32", V(3.25f)},
      {"test.bool_true", V(true)},
      {"test.bool_false", V(false)},
      {"test.string", V("héllo, 世界 🌍")},
      {"test.empty_string", V("")},
      {"test.uint64", V(std::numeric_limits<uint64_t>::max())},
      {"test.int64", V(std::numeric_limits<int64_t>::min())},
      {"test.float64", V(-1.0e300)},
      {"test.array.uint8", V::array(T::UINT8, {V(uint8_t{0}), V(uint8_t{255})})},
      {"test.array.int8", V::array(T::INT8, {V(int8_t{-128}), V(int8_t{127})})},
      {"test.array.uint16", V::array(T::UINT16, {V(uint16_t{1}), V(uint16_t{65535})})},
      {"test.array.int16", V::array(T::INT16, {V(int16_t{-32768}), V(int16_t{32767})})},
      {"test.array.uint32", V::array(T::UINT32, {V(uint32_t{7}), V(uint32_t{8}), V(uint32_t{9})})},
      {"test.array.int32", V::array(T::INT32, {V(int32_t{-7}), V(int32_t{0}), V(int32_t{7})})},
      {"test.array.float32", V::array(T::FLOAT32, {V(0.5f), V(-2.0f), V(1e-30f)})},
      {"test.array.bool", V::array(T::BOOL, {V(true), V(false), V(true)})},
      {"test.array.string", V::string_array({"a", "", "ccc", "tökens"})},
      {"test.array.uint64", V::array(T::UINT64, {V(uint64_t{1} << 40)})},
      {"test.array.int64", V::array(T::INT64, {V(int64_t{-1} << 40)})},
      {"test.array.float64", V::array(T::FLOAT64, {V(0.1), V(1e100)})},
      {"test.array.empty", V::array(T::INT32, {})},
      {"test.array.nested",
       V::array(T::ARRAY, {V::array(T::INT32, {V(int32_t{1}), V(int32_t{2})}), V::string_array({"x", "yz"}),
                           V::array(T::ARRAY, {V::array(T::UINT8, {V(uint8_t{42})})})})},
  };
}

std::vector<SampleTensor> sample_tensors(uint32_t seed) {
  std::vector<SampleTensor> out;
  uint32_t i = 0;
  for (const auto& t : all_ggml_types()) {
    // Two rows of two blocks each, plus a 1-D and a 3-D case on the plain types.
    std::vector<uint64_t> shape = {2ull * t.block_size, 2};
    if (t.type == GgmlType::F32) shape = {7};
    if (t.type == GgmlType::I8) shape = {3, 2, 5};
    const uint64_t n_bytes = *ggml_row_bytes(t.type, shape[0]) * (shape.size() > 1 ? shape[1] : 1) *
                             (shape.size() > 2 ? shape[2] : 1);
    out.push_back({"tensor." + std::string(t.name), t.type, shape, pseudo_random_bytes(n_bytes, seed + i++)});
  }
  return out;
}

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<uint8_t> write_sample_gguf(const std::filesystem::path& path, uint32_t alignment) {
  const auto tensors = sample_tensors();
  GgufWriter writer(alignment);
  for (const auto& kv : sample_metadata()) writer.set(kv.key, kv.value);
  for (const auto& t : tensors) writer.add_tensor(t.name, t.type, t.shape, std::span<const uint8_t>(t.bytes));
  writer.write(path);
  return read_file_bytes(path);
}

}  // namespace lp::testing
