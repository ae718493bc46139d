#include "formats/gguf_reader.h"

#include <algorithm>
#include <optional>
#include <unordered_set>

#include "core/byte_cursor.h"
#include "core/error.h"
#include "formats/gguf_split_name.h"

namespace lp {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kMaxArrayDepth = 8;   // real files nest at most two deep
constexpr uint64_t kMaxNameBytes = 4096;
// Each parsed array element costs ~40 bytes of memory however small it is in the file, so a
// hostile file could turn 1 GB of uint8s into 40 GB. Real models stay far below this
// (Gemma 3: 262144 tokens + scores + types, ~0.8 M values; Llama 3 adds 280147 merges).
constexpr uint64_t kMaxMetadataValues = uint64_t{8} << 20;

// The smallest number of bytes one element of `type` can occupy in a file, used to
// reject counts that could not possibly fit in what is left of the file.
uint64_t min_encoded_bytes(GgufValueType type) {
  switch (type) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::BOOL: return 1;
    case GgufValueType::UINT16: case GgufValueType::INT16: return 2;
    case GgufValueType::UINT32: case GgufValueType::INT32: case GgufValueType::FLOAT32: return 4;
    case GgufValueType::UINT64: case GgufValueType::INT64: case GgufValueType::FLOAT64: return 8;
    case GgufValueType::STRING: return 8;   // the length
    case GgufValueType::ARRAY: return 12;   // element type + count
  }
  return 1;
}

class Parser {
 public:
  Parser(std::span<const uint8_t> bytes, const std::string& source) : in_(bytes, source), bytes_(bytes) {}

  GgufContents parse() {
    GgufContents out;
    const auto magic = in_.read<uint32_t>("the magic number");
    if (magic != kMagic) fail("{} is not a GGUF file (it does not start with the bytes 'GGUF')", in_.source());
    out.version = in_.read<uint32_t>("the version");
    if (out.version == 0x03000000 || out.version == 0x02000000) {
      fail("{} is a big-endian GGUF file, which is not supported", in_.source());
    }
    if (out.version != 2 && out.version != 3) {
      fail("{} has GGUF version {}, but only versions 2 and 3 are supported", in_.source(), out.version);
    }
    const auto n_tensors = in_.read<uint64_t>("the tensor count");
    const auto n_kv = in_.read<uint64_t>("the metadata count");
    check_count(n_kv, 8 + 4 + 1, "metadata entries");
    check_count(n_tensors, 8 + 4 + 8 + 4 + 8, "tensors");

    std::unordered_set<std::string> keys;
    out.metadata.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; ++i) {
      std::string key = read_string("a metadata key");
      if (key.empty()) fail("{} has a metadata entry with an empty key", in_.source());
      if (!keys.insert(key).second) fail("{} has the metadata key '{}' twice", in_.source(), key);
      const auto type = read_type(key);
      out.metadata.push_back({std::move(key), read_value(type, 0)});
    }
    for (const auto& kv : out.metadata) {
      if (kv.key != "general.alignment") continue;
      const auto* a = std::get_if<uint32_t>(&kv.value.storage());
      if (a == nullptr || *a == 0 || (*a & (*a - 1)) != 0) {
        fail("{} has an invalid general.alignment (it must be a uint32 power of two)", in_.source());
      }
      out.alignment = *a;
    }

    std::unordered_set<std::string> names;
    out.tensors.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) {
      out.tensors.push_back(read_tensor_info());
      if (!names.insert(out.tensors.back().name).second) {
        fail("{} has two tensors named '{}'", in_.source(), out.tensors.back().name);
      }
    }

    const uint64_t header_end = in_.offset();
    out.data_offset = header_end + (out.alignment - header_end % out.alignment) % out.alignment;
    place_tensor_data(out, in_.offset() + in_.remaining());
    return out;
  }

 private:
  void check_count(uint64_t count, uint64_t min_bytes_each, std::string_view what) const {
    if (count > in_.remaining() / min_bytes_each) {
      fail("{} claims {} {} at offset {}, more than its remaining {} bytes could hold", in_.source(), count, what,
           in_.offset(), in_.remaining());
    }
  }

  std::string read_string(std::string_view what) {
    const auto n = in_.read<uint64_t>(what);
    if (n > in_.remaining()) {
      fail("{} has a string ({}) of {} bytes at offset {}, longer than the rest of the file", in_.source(), what, n,
           in_.offset());
    }
    return std::string(in_.read_bytes(n, what));
  }

  GgufValueType read_type(std::string_view key) {
    const auto raw = in_.read<uint32_t>("a value type");
    if (raw >= kGgufValueTypeCount) fail("{} gives the key '{}' an unknown value type {}", in_.source(), key, raw);
    return static_cast<GgufValueType>(raw);
  }

  template <class T>
  GgufValue scalar() {
    return GgufValue(in_.read<T>("a metadata value"));
  }

  GgufValue read_value(GgufValueType type, uint32_t depth) {
    switch (type) {
      case GgufValueType::UINT8: return scalar<uint8_t>();
      case GgufValueType::INT8: return scalar<int8_t>();
      case GgufValueType::UINT16: return scalar<uint16_t>();
      case GgufValueType::INT16: return scalar<int16_t>();
      case GgufValueType::UINT32: return scalar<uint32_t>();
      case GgufValueType::INT32: return scalar<int32_t>();
      case GgufValueType::FLOAT32: return scalar<float>();
      case GgufValueType::UINT64: return scalar<uint64_t>();
      case GgufValueType::INT64: return scalar<int64_t>();
      case GgufValueType::FLOAT64: return scalar<double>();
      case GgufValueType::BOOL: {
        const auto b = in_.read<uint8_t>("a boolean value");
        if (b > 1) fail("{} has a boolean of value {} at offset {}", in_.source(), b, in_.offset() - 1);
        return GgufValue(b == 1);
      }
      case GgufValueType::STRING: return GgufValue(read_string("a string value"));
      case GgufValueType::ARRAY: {
        if (depth >= kMaxArrayDepth) fail("{} nests arrays more than {} deep", in_.source(), kMaxArrayDepth);
        const auto element_type = read_type("an array element");
        const auto count = in_.read<uint64_t>("an array length");
        check_count(count, min_encoded_bytes(element_type), "array elements");
        if (count > kMaxMetadataValues - metadata_values_) {
          fail("{} holds more than {} metadata array values, far beyond any real model", in_.source(),
               kMaxMetadataValues);
        }
        metadata_values_ += count;
        GgufArray array{element_type, {}};
        array.items.reserve(count);
        for (uint64_t i = 0; i < count; ++i) array.items.push_back(read_value(element_type, depth + 1));
        return GgufValue(std::move(array));
      }
    }
    fail("{} has an unknown value type", in_.source());
  }

  GgufTensorInfo read_tensor_info() {
    GgufTensorInfo t;
    t.name = read_string("a tensor name");
    if (t.name.empty() || t.name.size() > kMaxNameBytes) {
      fail("{} has a tensor with an empty or over-long name at offset {}", in_.source(), in_.offset());
    }
    const auto n_dims = in_.read<uint32_t>("a tensor's dimension count");
    if (n_dims == 0 || n_dims > kGgufMaxDims) {
      fail("{}: tensor '{}' has {} dimensions; GGUF allows 1 to {}", in_.source(), t.name, n_dims, kGgufMaxDims);
    }
    t.n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto dim = in_.read<uint64_t>("a tensor dimension");
      if (dim > (uint64_t{1} << 62) || (dim != 0 && t.n_elements > (uint64_t{1} << 62) / dim)) {
        fail("{}: tensor '{}' has an impossible shape (more than 2^62 values)", in_.source(), t.name);
      }
      t.shape.push_back(dim);
      t.n_elements *= dim;
    }
    const auto type_id = in_.read<uint32_t>("a tensor type");
    const GgmlTypeTraits* traits = find_ggml_type(type_id);
    if (traits == nullptr) fail("{}: tensor '{}' has unsupported tensor type id {}", in_.source(), t.name, type_id);
    t.type = traits->type;
    const auto row = ggml_row_bytes(t.type, t.shape[0]);
    if (!row) {
      fail("{}: tensor '{}' has rows of {} values, not a multiple of the {} block size {}", in_.source(), t.name,
           t.shape[0], traits->name, traits->block_size);
    }
    t.n_bytes = t.shape[0] == 0 ? 0 : *row * (t.n_elements / t.shape[0]);
    t.offset = in_.read<uint64_t>("a tensor data offset");
    return t;
  }

  void place_tensor_data(GgufContents& out, uint64_t file_size) {
    if (out.tensors.empty()) return;
    if (out.data_offset > file_size) {
      fail("{} is truncated: its tensor data should start at offset {} but the file has {} bytes", in_.source(),
           out.data_offset, file_size);
    }
    const uint64_t data_size = file_size - out.data_offset;
    std::vector<const GgufTensorInfo*> by_offset;
    for (auto& t : out.tensors) {
      if (t.offset % out.alignment != 0) {
        fail("{}: tensor '{}' has data offset {}, not a multiple of the alignment {}", in_.source(), t.name,
             t.offset, out.alignment);
      }
      if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
        fail("{}: tensor '{}' ({} bytes at data offset {}) lies past the end of the file", in_.source(), t.name,
             t.n_bytes, t.offset);
      }
      t.data = bytes_.subspan(out.data_offset + t.offset, t.n_bytes);
      by_offset.push_back(&t);
    }
    std::ranges::sort(by_offset, {}, &GgufTensorInfo::offset);
    for (size_t i = 1; i < by_offset.size(); ++i) {
      if (by_offset[i - 1]->offset + by_offset[i - 1]->n_bytes > by_offset[i]->offset) {
        fail("{}: the data of tensors '{}' and '{}' overlap", in_.source(), by_offset[i - 1]->name,
             by_offset[i]->name);
      }
    }
  }

  ByteCursor in_;
  std::span<const uint8_t> bytes_;
  uint64_t metadata_values_ = 0;
};

std::optional<uint64_t> find_uint(const std::vector<GgufKeyValue>& metadata, std::string_view key) {
  for (const auto& kv : metadata) {
    if (kv.key == key) return kv.value.as_uint();
  }
  return std::nullopt;
}

}  // namespace

GgufContents parse_gguf(std::span<const uint8_t> bytes, const std::string& source) {
  return Parser(bytes, source).parse();
}

GgufModel GgufModel::open(const std::filesystem::path& path) {
  GgufModel model;
  const auto split = parse_gguf_split_name(path.string());
  if (split && split->count > 1) {
    if (split->part == 0 || split->part > split->count) {
      fail("{} is named as part {} of {}, which is not a valid part number", path.string(), split->part,
           split->count);
    }
    for (uint32_t i = 1; i <= split->count; ++i) model.files_.push_back(gguf_split_part_name(*split, i));
  } else {
    model.files_.push_back(path);
  }

  for (uint32_t i = 0; i < model.files_.size(); ++i) {
    const auto& file_path = model.files_[i];
    model.maps_.push_back(MappedFile::open(file_path));
    GgufContents contents = parse_gguf(model.maps_.back().bytes(), file_path.string());
    if (model.files_.size() > 1) {
      const auto no = find_uint(contents.metadata, "split.no");
      const auto count = find_uint(contents.metadata, "split.count");
      if (no != i || count != model.files_.size()) {
        fail("{} does not carry the split.no = {} and split.count = {} its name promises", file_path.string(), i,
             model.files_.size());
      }
    }
    if (i == 0) {
      model.version_ = contents.version;
      model.alignment_ = contents.alignment;
      model.metadata_ = std::move(contents.metadata);
    }
    for (auto& t : contents.tensors) {
      t.file_index = i;
      model.tensors_.push_back(std::move(t));
    }
  }
  if (model.files_.size() == 1) {
    const auto count = find_uint(model.metadata_, "split.count");
    if (count && *count > 1) {
      fail("{} is one part of a model split into {} files; name it like 'model-00001-of-{:05d}.gguf' so its "
           "other parts can be found",
           path.string(), *count, *count);
    }
  }
  if (const auto expected = find_uint(model.metadata_, "split.tensors.count");
      expected && model.files_.size() > 1 && *expected != model.tensors_.size()) {
    fail("{} promises {} tensors across its parts, but they hold {}", path.string(), *expected,
         model.tensors_.size());
  }

  for (size_t i = 0; i < model.metadata_.size(); ++i) model.metadata_index_.emplace(model.metadata_[i].key, i);
  for (size_t i = 0; i < model.tensors_.size(); ++i) {
    if (!model.tensor_index_.emplace(model.tensors_[i].name, i).second) {
      fail("{}: tensor '{}' appears in more than one part", path.string(), model.tensors_[i].name);
    }
  }
  return model;
}

uint64_t GgufModel::file_bytes() const {
  uint64_t total = 0;
  for (const auto& m : maps_) total += m.size();
  return total;
}

const GgufValue* GgufModel::find(std::string_view key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].value;
}

const GgufTensorInfo* GgufModel::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace lp
