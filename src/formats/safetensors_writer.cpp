#include "formats/safetensors_writer.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace lp {

SafetensorsWriter::SafetensorsWriter(const std::filesystem::path& path, std::vector<SafetensorsEntry> entries,
                                     const std::map<std::string, std::string>& metadata)
    : file_(path), entries_(std::move(entries)) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& e : entries_) {
    header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.n_bytes}}};
    offset += e.n_bytes;
  }
  std::string text = header.dump();
  // The data starts 8-aligned (as the safetensors library pads its header with spaces).
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');
  uint8_t size[8];
  for (int i = 0; i < 8; ++i) size[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  file_.write(std::span<const uint8_t>(size, 8));
  file_.write(text);
}

void SafetensorsWriter::write(size_t index, std::span<const uint8_t> bytes) {
  if (index != next_ || index >= entries_.size() || bytes.size() != entries_[index].n_bytes) {
    throw std::logic_error("safetensors tensors written out of order or with the wrong size");
  }
  file_.write(bytes);
  ++next_;
}

void SafetensorsWriter::commit() {
  if (next_ != entries_.size()) throw std::logic_error("safetensors file committed before all its tensors were written");
  file_.commit();
}

}  // namespace lp
