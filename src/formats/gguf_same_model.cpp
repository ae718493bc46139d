#include "formats/gguf_same_model.h"

#include <cstring>

#include "formats/gguf_reader.h"

namespace lp {

bool same_model_but_file_type(const std::filesystem::path& a, const std::filesystem::path& b) {
  const GgufModel x = GgufModel::open(a);
  const GgufModel y = GgufModel::open(b);
  if (x.file_bytes() != y.file_bytes() || x.metadata().size() != y.metadata().size() ||
      x.tensors().size() != y.tensors().size())
    return false;
  for (size_t i = 0; i < x.metadata().size(); ++i) {
    const GgufKeyValue &p = x.metadata()[i], &q = y.metadata()[i];
    if (p.key != q.key) return false;
    if (p.key != "general.file_type" && !(p.value == q.value)) return false;
  }
  for (size_t i = 0; i < x.tensors().size(); ++i) {
    const GgufTensorInfo &p = x.tensors()[i], &q = y.tensors()[i];
    if (p.name != q.name || p.type != q.type || p.shape != q.shape || p.offset != q.offset ||
        p.data.size() != q.data.size() || std::memcmp(p.data.data(), q.data.data(), p.data.size()) != 0)
      return false;
  }
  return true;
}

}  // namespace lp
