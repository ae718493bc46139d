#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "formats/gguf_same_model.h"
#include "formats/gguf_writer.h"
#include "temp_dir.h"

namespace lp {
namespace {

using testing::TempDir;

// A two-tensor model: file_type and one weight byte are what the tests vary.
void write_model(const std::filesystem::path& path, uint32_t file_type, uint8_t first_byte,
                 const std::string& name = "tiny") {
  static std::vector<uint8_t> a(64), b(32);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i * 7);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 3);
  std::vector<uint8_t> first = a;
  first[0] = first_byte;
  GgufWriter w;
  w.set("general.architecture", GgufValue(std::string("llama")));
  w.set("general.name", GgufValue(name));
  w.set("general.file_type", GgufValue(file_type));
  w.add_tensor("a", GgmlType::F32, {16}, first);
  w.add_tensor("b", GgmlType::F16, {16}, b);
  w.write(path);
}

TEST(SameModel, FilesThatDifferOnlyInFileTypeHoldOneModel) {
  TempDir dir;
  write_model(dir / "q3.gguf", 11, 0);
  write_model(dir / "q2.gguf", 10, 0);
  EXPECT_TRUE(same_model_but_file_type(dir / "q3.gguf", dir / "q2.gguf"));
  EXPECT_TRUE(same_model_but_file_type(dir / "q3.gguf", dir / "q3.gguf"));
}

TEST(SameModel, OneWeightByteOrOneOtherKeyMakesTwoModels) {
  TempDir dir;
  write_model(dir / "x.gguf", 11, 0);
  write_model(dir / "byte.gguf", 10, 1);
  write_model(dir / "name.gguf", 11, 0, "tinz");  // same length: the sizes match
  EXPECT_FALSE(same_model_but_file_type(dir / "x.gguf", dir / "byte.gguf"));
  EXPECT_FALSE(same_model_but_file_type(dir / "x.gguf", dir / "name.gguf"));
}

}  // namespace
}  // namespace lp
