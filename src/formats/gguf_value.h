#pragma once
// A GGUF metadata value: one of the twelve scalar types, a string, or an array whose
// elements may themselves be arrays. The variant's alternatives are ordered exactly like
// GGUF's type ids so that the type of a value is its variant index.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace lp {

enum class GgufValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
constexpr uint32_t kGgufValueTypeCount = 13;

std::string_view gguf_value_type_name(GgufValueType type);

class GgufValue;

struct GgufArray {
  GgufValueType element_type = GgufValueType::UINT8;
  std::vector<GgufValue> items;
  bool operator==(const GgufArray&) const;
};

class GgufValue {
 public:
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string,
                               GgufArray, uint64_t, int64_t, double>;

  GgufValue() = default;
  template <class T>
    requires(!std::is_same_v<std::decay_t<T>, GgufValue> && std::is_constructible_v<Storage, T &&>)
  GgufValue(T&& value) : storage_(std::forward<T>(value)) {}  // NOLINT: implicit by design
  GgufValue(const char* s) : storage_(std::string(s)) {}      // NOLINT

  static GgufValue array(GgufValueType element_type, std::vector<GgufValue> items) {
    return GgufValue(GgufArray{element_type, std::move(items)});
  }
  static GgufValue string_array(const std::vector<std::string>& items);

  GgufValueType type() const { return static_cast<GgufValueType>(storage_.index()); }
  const Storage& storage() const { return storage_; }

  // Lenient accessors for reading hyperparameters: any integer type converts to an integer
  // when it fits, any numeric type to a double. nullopt when the value is of another kind.
  std::optional<uint64_t> as_uint() const;
  std::optional<int64_t> as_int() const;
  std::optional<double> as_double() const;
  std::optional<bool> as_bool() const;
  const std::string* as_string() const { return std::get_if<std::string>(&storage_); }
  const GgufArray* as_array() const { return std::get_if<GgufArray>(&storage_); }

  bool operator==(const GgufValue& other) const { return storage_ == other.storage_; }

 private:
  Storage storage_;
};

struct GgufKeyValue {
  std::string key;
  GgufValue value;
};

}  // namespace lp
