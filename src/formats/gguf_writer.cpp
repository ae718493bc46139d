#include "formats/gguf_writer.h"

#include <stdexcept>

#include "core/atomic_file.h"
#include "core/error.h"

namespace lp {
namespace {

uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

template <class T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

void put_string(std::string& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.append(s);
}

void put_value(std::string& out, const GgufValue& value) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          put_string(out, v);
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          put<uint32_t>(out, static_cast<uint32_t>(v.element_type));
          put<uint64_t>(out, v.items.size());
          for (const auto& item : v.items) {
            if (item.type() != v.element_type) {
              throw std::invalid_argument("GGUF array holds an element of another type than it declares");
            }
            put_value(out, item);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          put<uint8_t>(out, v ? 1 : 0);
        } else {
          put<T>(out, v);
        }
      },
      value.storage());
}

// Counts what the producer writes so that a wrong size is caught, not written.
class CountingSink final : public ByteSink {
 public:
  explicit CountingSink(AtomicFile& file) : file_(file) {}
  void write(std::span<const uint8_t> bytes) override {
    file_.write(bytes);
    written_ += bytes.size();
  }
  uint64_t written() const { return written_; }

 private:
  AtomicFile& file_;
  uint64_t written_ = 0;
};

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    throw std::invalid_argument("GGUF alignment must be a power of two");
  }
  if (alignment != kGgufDefaultAlignment) set("general.alignment", GgufValue(alignment));
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& kv : metadata_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  metadata_.push_back({key, std::move(value)});
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<uint64_t> shape, TensorProducer produce) {
  if (shape.empty() || shape.size() > kGgufMaxDims) {
    throw std::invalid_argument(fmt::format("tensor '{}' must have 1 to {} dimensions", name, kGgufMaxDims));
  }
  uint64_t rows = 1;
  for (size_t d = 1; d < shape.size(); ++d) rows *= shape[d];
  const auto row_bytes = ggml_row_bytes(type, shape[0]);
  if (!row_bytes) {
    throw std::invalid_argument(fmt::format("tensor '{}': row of {} values is not a whole number of {} blocks",
                                            name, shape[0], ggml_type_traits(type).name));
  }
  const uint64_t n_bytes = *row_bytes * rows;
  tensors_.push_back({std::move(name), type, std::move(shape), n_bytes, data_bytes_, std::move(produce)});
  data_bytes_ = align_up(data_bytes_ + n_bytes, alignment_);
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<uint64_t> shape,
                            std::span<const uint8_t> bytes) {
  add_tensor(std::move(name), type, std::move(shape), [bytes](ByteSink& sink) { sink.write(bytes); });
}

std::string GgufWriter::serialize_header() const {
  std::string out;
  put<uint32_t>(out, 0x46554747);  // "GGUF"
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors_.size());
  put<uint64_t>(out, metadata_.size());
  for (const auto& kv : metadata_) {
    put_string(out, kv.key);
    put<uint32_t>(out, static_cast<uint32_t>(kv.value.type()));
    put_value(out, kv.value);
  }
  for (const auto& t : tensors_) {
    put_string(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.shape.size()));
    for (const auto dim : t.shape) put<uint64_t>(out, dim);
    put<uint32_t>(out, static_cast<uint32_t>(t.type));
    put<uint64_t>(out, t.offset);
  }
  out.resize(align_up(out.size(), alignment_), '\0');
  return out;
}

GgufWriter::Stream::Stream(const GgufWriter& writer, const std::filesystem::path& path)
    : writer_(&writer), file_(std::make_unique<AtomicFile>(path)) {
  file_->write(writer.serialize_header());
}
GgufWriter::Stream::Stream(Stream&&) noexcept = default;
GgufWriter::Stream::~Stream() = default;

void GgufWriter::Stream::write_next_tensor(std::span<const uint8_t> bytes) {
  const PendingTensor& t = writer_->tensors_.at(next_++);
  if (bytes.size() != t.n_bytes) {
    throw std::logic_error(fmt::format("tensor '{}' got {} bytes instead of {}", t.name, bytes.size(), t.n_bytes));
  }
  file_->write(bytes);
  file_->write_zeros(align_up(t.n_bytes, writer_->alignment_) - t.n_bytes);
}

void GgufWriter::Stream::finish() {
  if (next_ != writer_->tensors_.size()) {
    throw std::logic_error(fmt::format("{} of {} tensors written", next_, writer_->tensors_.size()));
  }
  file_->commit();
}

void GgufWriter::write(const std::filesystem::path& path) const {
  AtomicFile file(path);
  file.write(serialize_header());
  for (const auto& t : tensors_) {
    CountingSink sink(file);
    t.produce(sink);
    if (sink.written() != t.n_bytes) {
      throw std::logic_error(fmt::format("tensor '{}' produced {} bytes instead of {}", t.name, sink.written(),
                                         t.n_bytes));
    }
    file.write_zeros(align_up(t.n_bytes, alignment_) - t.n_bytes);
  }
  file.commit();
}

}  // namespace lp
