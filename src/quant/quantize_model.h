#pragma once
// Quantizing a whole model into one or more GGUF files in a single pass over the source:
// each source tensor is converted to float32 once, row by row across threads, and
// quantized into every type the outputs need; the outputs are written in lockstep, one
// tensor at a time, so memory holds one tensor per output, never a model.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "formats/gguf_value.h"
#include "quant/imatrix.h"
#include "quant/recipes.h"

namespace lp {

class GgufModel;

// Where the weights come from. GGUF files are one kind; Hugging Face checkpoints another.
class QuantSource {
 public:
  virtual ~QuantSource() = default;
  virtual std::string description() const = 0;
  virtual ModelShape shape() const = 0;
  virtual const std::vector<PlanInput>& tensors() const = 0;
  virtual std::vector<GgufKeyValue> metadata() const = 0;  // carried into every output
  virtual uint32_t alignment() const = 0;
  // Rows [begin, end) of tensor `index` (rows of shape[0] values) as float32.
  virtual void read_rows(size_t index, int64_t begin, int64_t end, float* out) const = 0;
  // The tensor's bytes in its source type, copied as they are when the output keeps that
  // type. Valid until the next call.
  virtual std::span<const uint8_t> raw(size_t index) const = 0;
  // The tensor's bytes in its source type where the source file already holds exactly
  // them (valid as long as the source): the engine then computes on the mapping itself.
  virtual std::optional<std::span<const uint8_t>> in_place(size_t /*index*/) const { return std::nullopt; }
  // Size of the tensor in its source type (for progress), without producing it.
  uint64_t source_bytes(size_t index) const;
};

std::unique_ptr<QuantSource> open_gguf_source(const std::filesystem::path& path);

struct QuantizeTarget {
  const Recipe* recipe = nullptr;
  std::filesystem::path output;
};

struct QuantizeSettings {
  QuantOptions options;                   // recipe left empty: each target brings its own
  const ImportanceMatrix* importance = nullptr;  // --imatrix: per-column weights by tensor name
  std::vector<GgufKeyValue> override_kv;  // --override-kv
  unsigned threads = 1;
};

std::vector<PlannedTensor> plan_for(const QuantSource& source, const Recipe& recipe, const QuantizeSettings& settings);

// Writes every target. Throws InputError (nothing is left behind under the output names).
void quantize_model(const QuantSource& source, const std::vector<QuantizeTarget>& targets,
                    const QuantizeSettings& settings);

// "KEY=TYPE:VALUE" with TYPE int, float, bool or str, as llama-quantize's --override-kv.
GgufKeyValue parse_override_kv(const std::string& text);

}  // namespace lp
