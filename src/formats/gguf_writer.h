#pragma once
// Writing GGUF v3. The header (metadata and tensor infos) is computed up front from the
// declared shapes and types, then each tensor's bytes are streamed from its producer
// straight to disk, so a whole model is never held in memory. The file appears under its
// name only once it is complete (AtomicFile).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
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

class AtomicFile;

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

  // For writing several files in lockstep (one pass over a source, many outputs): opens the
  // file and writes the header; then exactly each declared tensor's bytes, in order, through
  // write_next_tensor(); then finish(). Producers given to add_tensor are not called.
  class Stream {
   public:
    Stream(const GgufWriter& writer, const std::filesystem::path& path);
    Stream(Stream&&) noexcept;
    ~Stream();
    void write_next_tensor(std::span<const uint8_t> bytes);
    void finish();

   private:
    const GgufWriter* writer_;
    std::unique_ptr<AtomicFile> file_;
    size_t next_ = 0;
  };
  Stream open(const std::filesystem::path& path) const { return Stream(*this, path); }

  uint64_t tensor_bytes(size_t index) const { return tensors_.at(index).n_bytes; }

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
