#pragma once
// Writing GGUF v3. The header (metadata and tensor infos) is computed up front from the
// declared shapes and types, then each tensor's bytes are streamed from its producer
// straight to disk, so a whole model is never held in memory. The file appears under its
// name only once it is complete (AtomicFile).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/ggml_types.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_value.h"

namespace lp {

// Receives a tensor's bytes, in as many pieces as the producer likes.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(std::span<const uint8_t> bytes) = 0;
};
using TensorProducer = std::function<void(ByteSink&)>;

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = kGgufDefaultAlignment);

  // Sets a metadata value; a key set twice keeps its first position and its last value.
  void set(const std::string& key, GgufValue value);
  // Declares a tensor (shape in GGML order). `produce` must write exactly the tensor's bytes.
  void add_tensor(std::string name, GgmlType type, std::vector<uint64_t> shape, TensorProducer produce);
  // Convenience for a tensor whose bytes already exist; the span must outlive write().
  void add_tensor(std::string name, GgmlType type, std::vector<uint64_t> shape, std::span<const uint8_t> bytes);

  void write(const std::filesystem::path& path) const;

 private:
  struct PendingTensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> shape;
    uint64_t n_bytes;
    uint64_t offset;
    TensorProducer produce;
  };
  std::string serialize_header() const;

  uint32_t alignment_;
  std::vector<GgufKeyValue> metadata_;
  std::vector<PendingTensor> tensors_;
  uint64_t data_bytes_ = 0;
};

}  // namespace lp
