#pragma once
// A bounds-checked little-endian reader over untrusted bytes. Every read checks the
// remaining length first, so a truncated or hostile file gives an InputError, never a
// read past the end.
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/error.h"

namespace lp {

class ByteCursor {
 public:
  ByteCursor(std::span<const uint8_t> bytes, std::string source)
      : bytes_(bytes), source_(std::move(source)) {}

  template <class T>
  T read(std::string_view what) {
    static_assert(std::is_trivially_copyable_v<T> && !std::is_same_v<T, bool>);
    require(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  std::string_view read_bytes(uint64_t n, std::string_view what) {
    require(n, what);
    std::string_view view(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return view;
  }

  void require(uint64_t n, std::string_view what) const {
    if (n > remaining()) {
      fail("{} is truncated: {} needs {} bytes at offset {} but only {} remain", source_, what, n, pos_,
           remaining());
    }
  }

  uint64_t offset() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  const std::string& source() const { return source_; }

 private:
  std::span<const uint8_t> bytes_;
  std::string source_;
  uint64_t pos_ = 0;
};

}  // namespace lp
