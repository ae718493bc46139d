#pragma once
// Reading records and reports defensively: the value at a path of object keys, or nullptr
// where a key is missing, a step is not an object, or the value is null.
#include <initializer_list>

#include <nlohmann/json.hpp>

namespace lp::decide {

inline const nlohmann::json* json_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* p = &j;
  for (const char* key : path) {
    if (!p->is_object()) return nullptr;
    const auto it = p->find(key);
    if (it == p->end()) return nullptr;
    p = &*it;
  }
  return p->is_null() ? nullptr : p;
}

}  // namespace lp::decide
