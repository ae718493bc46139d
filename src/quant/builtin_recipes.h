#pragma once
namespace lp {
// JSON array of the built-in recipes (see builtin_recipes.cpp); parsed once by recipes.cpp.
extern const char* const kBuiltinRecipesJson;
}  // namespace lp
