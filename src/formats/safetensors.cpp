#include "formats/safetensors.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <set>

#include "core/byte_cursor.h"
#include "core/error.h"
#include "core/float_convert.h"
#include "formats/json_guard.h"

namespace lp {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100 << 20;  // the format's own limit

constexpr std::array kDtypes = {
    SafetensorsDtype{"F64", 8, false},     SafetensorsDtype{"F32", 4, true},      SafetensorsDtype{"F16", 2, true},
    SafetensorsDtype{"BF16", 2, true},     SafetensorsDtype{"I64", 8, false},     SafetensorsDtype{"I32", 4, false},
    SafetensorsDtype{"I16", 2, false},     SafetensorsDtype{"I8", 1, false},      SafetensorsDtype{"U64", 8, false},
    SafetensorsDtype{"U32", 4, false},     SafetensorsDtype{"U16", 2, false},     SafetensorsDtype{"U8", 1, false},
    SafetensorsDtype{"BOOL", 1, false},    SafetensorsDtype{"F8_E4M3", 1, false}, SafetensorsDtype{"F8_E5M2", 1, false},
    SafetensorsDtype{"F8_E8M0", 1, false},
};

uint64_t json_uint(const nlohmann::json& v, const std::string& source, const std::string& what) {
  if (!v.is_number_unsigned()) fail("{}: {} is not a non-negative integer", source, what);
  return v.get<uint64_t>();
}

SafetensorsTensor parse_entry(const std::string& name, const nlohmann::json& entry, uint64_t data_size,
                              std::span<const uint8_t> data, const std::string& source) {
  if (!entry.is_object()) fail("{}: the header entry of tensor '{}' is not an object", source, name);
  SafetensorsTensor t;
  t.name = name;
  const auto dtype = entry.find("dtype");
  if (dtype == entry.end() || !dtype->is_string()) fail("{}: tensor '{}' has no dtype", source, name);
  t.dtype = find_safetensors_dtype(dtype->get_ref<const std::string&>());
  if (t.dtype == nullptr) {
    fail("{}: tensor '{}' has dtype '{}', which is not supported", source, name, dtype->get_ref<const std::string&>());
  }
  const auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array() || shape->size() > 8) {
    fail("{}: tensor '{}' has no valid shape", source, name);
  }
  t.n_elements = 1;
  for (const auto& d : *shape) {
    const uint64_t dim = json_uint(d, source, "a dimension of tensor '" + name + "'");
    if (dim > (uint64_t{1} << 62) || (dim != 0 && t.n_elements > (uint64_t{1} << 62) / dim)) {
      fail("{}: tensor '{}' has an impossible shape", source, name);
    }
    t.shape.push_back(dim);
    t.n_elements *= dim;
  }
  const auto offsets = entry.find("data_offsets");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2) {
    fail("{}: tensor '{}' has no valid data_offsets", source, name);
  }
  const uint64_t begin = json_uint((*offsets)[0], source, "a data offset of tensor '" + name + "'");
  const uint64_t end = json_uint((*offsets)[1], source, "a data offset of tensor '" + name + "'");
  if (begin > end || end > data_size) {
    fail("{}: tensor '{}' (bytes {} to {}) lies past the end of the file's {} data bytes", source, name, begin, end,
         data_size);
  }
  if (end - begin != t.n_elements * t.dtype->bytes) {
    fail("{}: tensor '{}' holds {} bytes but its shape and dtype need {}", source, name, end - begin,
         t.n_elements * t.dtype->bytes);
  }
  t.data = data.subspan(begin, end - begin);
  return t;
}

}  // namespace

const SafetensorsDtype* find_safetensors_dtype(std::string_view name) {
  const auto it = std::ranges::find(kDtypes, name, &SafetensorsDtype::name);
  return it == kDtypes.end() ? nullptr : &*it;
}

SafetensorsContents parse_safetensors(std::span<const uint8_t> bytes, const std::string& source) {
  ByteCursor in(bytes, source);
  const auto header_bytes = in.read<uint64_t>("the header length");
  if (header_bytes > kMaxHeaderBytes || header_bytes > in.remaining()) {
    fail("{} is not a valid safetensors file: its header claims {} bytes but the file has {}", source, header_bytes,
         in.remaining());
  }
  const auto header_text = in.read_bytes(header_bytes, "the header");
  const auto header = parse_untrusted_json(header_text, source + " (header)");
  if (!header.is_object()) fail("{} is not a valid safetensors file: its header is not a JSON object", source);

  const auto data = bytes.subspan(in.offset());
  SafetensorsContents out;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("{}: __metadata__ is not an object", source);
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) fail("{}: __metadata__ value '{}' is not a string", source, k);
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    out.tensors.push_back(parse_entry(name, entry, data.size(), data, source));
  }
  std::ranges::sort(out.tensors, [](const auto& a, const auto& b) { return a.data.data() < b.data.data(); });
  for (size_t i = 1; i < out.tensors.size(); ++i) {
    const auto& prev = out.tensors[i - 1];
    if (prev.data.data() + prev.data.size() > out.tensors[i].data.data()) {
      fail("{}: the data of tensors '{}' and '{}' overlap", source, prev.name, out.tensors[i].name);
    }
  }
  return out;
}

std::vector<float> safetensors_to_f32(const SafetensorsTensor& t) {
  std::vector<float> out(t.n_elements);
  const uint8_t* p = t.data.data();
  if (t.dtype->name == "F32") {
    // An empty tensor has no buffer: memcpy of nothing to a null pointer is still undefined.
    if (t.n_elements > 0) std::memcpy(out.data(), p, t.n_elements * 4);
  } else if (t.dtype->name == "F16" || t.dtype->name == "BF16") {
    const bool bf16 = t.dtype->name == "BF16";
    for (uint64_t i = 0; i < t.n_elements; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = bf16 ? bf16_to_f32(h) : f16_to_f32(h);
    }
  } else {
    fail("tensor '{}' has dtype {}, which cannot be read as floating point", t.name, t.dtype->name);
  }
  return out;
}

void SafetensorsModel::add_file(const std::filesystem::path& path) {
  maps_.push_back(MappedFile::open(path));
  files_.push_back(path);
  auto contents = parse_safetensors(maps_.back().bytes(), path.string());
  for (auto& t : contents.tensors) {
    t.file_index = static_cast<uint32_t>(files_.size() - 1);
    tensors_.push_back(std::move(t));
  }
  metadata_.merge(contents.metadata);
}

SafetensorsModel SafetensorsModel::open(const std::filesystem::path& path) {
  SafetensorsModel model;
  std::filesystem::path index_path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    if (std::filesystem::exists(path / "model.safetensors.index.json")) {
      index_path = path / "model.safetensors.index.json";
    } else {
      std::vector<std::filesystem::path> shards;
      for (const auto& e : std::filesystem::directory_iterator(path)) {
        if (e.path().extension() == ".safetensors") shards.push_back(e.path());
      }
      if (shards.empty()) fail("{} holds no .safetensors file", path.string());
      std::ranges::sort(shards);
      for (const auto& s : shards) model.add_file(s);
    }
  } else if (path.string().ends_with(".json")) {
    index_path = path;
  } else {
    model.add_file(path);
  }

  std::map<std::string, std::string> expected;  // tensor -> shard file name, from the index
  if (!index_path.empty()) {
    const auto index = read_json_file(index_path.string());
    const auto map = index.find("weight_map");
    if (!index.is_object() || map == index.end() || !map->is_object()) {
      fail("{} has no weight_map object", index_path.string());
    }
    std::set<std::string> shard_names;
    for (const auto& [tensor, file] : map->items()) {
      if (!file.is_string()) fail("{}: the shard of tensor '{}' is not a file name", index_path.string(), tensor);
      const auto& name = file.get_ref<const std::string&>();
      if (name.find('/') != std::string::npos || name == "..") {
        fail("{}: shard name '{}' points outside the checkpoint directory", index_path.string(), name);
      }
      expected[tensor] = name;
      shard_names.insert(name);
    }
    for (const auto& shard : shard_names) model.add_file(index_path.parent_path() / shard);
  }

  for (size_t i = 0; i < model.tensors_.size(); ++i) {
    const auto& t = model.tensors_[i];
    if (!model.index_.emplace(t.name, i).second) fail("{}: tensor '{}' appears twice", path.string(), t.name);
    if (!expected.empty()) {
      const auto it = expected.find(t.name);
      if (it == expected.end() || model.files_[t.file_index].filename() != it->second) {
        fail("{}: tensor '{}' is in {}, not where the index says", path.string(), t.name,
             model.files_[t.file_index].filename().string());
      }
    }
  }
  for (const auto& [tensor, file] : expected) {
    if (!model.index_.contains(tensor)) {
      fail("{}: the index lists tensor '{}' in {}, but that file does not hold it", path.string(), tensor, file);
    }
  }
  return model;
}

uint64_t SafetensorsModel::file_bytes() const {
  uint64_t total = 0;
  for (const auto& m : maps_) total += m.size();
  return total;
}

const SafetensorsTensor* SafetensorsModel::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace lp
