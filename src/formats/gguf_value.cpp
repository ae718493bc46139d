#include "formats/gguf_value.h"

#include <array>
#include <limits>

namespace lp {

std::string_view gguf_value_type_name(GgufValueType type) {
  static constexpr std::array<std::string_view, kGgufValueTypeCount> names = {
      "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
      "bool",  "string", "array", "uint64", "int64", "float64"};
  const auto index = static_cast<uint32_t>(type);
  return index < names.size() ? names[index] : "unknown";
}

bool GgufArray::operator==(const GgufArray& other) const {
  return element_type == other.element_type && items == other.items;
}

GgufValue GgufValue::string_array(const std::vector<std::string>& items) {
  std::vector<GgufValue> values(items.begin(), items.end());
  return array(GgufValueType::STRING, std::move(values));
}

std::optional<int64_t> GgufValue::as_int() const {
  return std::visit(
      [](const auto& v) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, uint64_t>) {
          if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
          return static_cast<int64_t>(v);
        } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          return static_cast<int64_t>(v);
        } else {
          return std::nullopt;
        }
      },
      storage_);
}

std::optional<uint64_t> GgufValue::as_uint() const {
  if (const auto* u = std::get_if<uint64_t>(&storage_)) return *u;
  const auto i = as_int();
  if (!i || *i < 0) return std::nullopt;
  return static_cast<uint64_t>(*i);
}

std::optional<double> GgufValue::as_double() const {
  if (const auto* f = std::get_if<float>(&storage_)) return *f;
  if (const auto* d = std::get_if<double>(&storage_)) return *d;
  if (const auto* u = std::get_if<uint64_t>(&storage_)) return static_cast<double>(*u);
  if (const auto i = as_int()) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (const auto* b = std::get_if<bool>(&storage_)) return *b;
  return std::nullopt;
}

}  // namespace lp
