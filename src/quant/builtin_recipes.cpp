// The built-in recipes: llama.cpp's file-type mixtures (src/llama-quant.cpp,
// llama_tensor_get_type_impl) restated as rule tables. Rules are tried in order and the
// first that matches decides; a tensor no rule matches gets the base type. Exceptions that
// llama.cpp applies last (8-expert models, 70B attn_v) come first here, because they win.
#include "quant/builtin_recipes.h"

namespace lp {

const char* const kBuiltinRecipesJson = R"json([
  {"name": "F32", "base": "F32", "rules": []},
  {"name": "F16", "base": "F16", "rules": []},
  {"name": "BF16", "base": "BF16", "rules": []},
  {"name": "Q8_0", "base": "Q8_0", "rules": []},
  {"name": "Q4_0", "base": "Q4_0", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "ffn_down", "layers": "first_eighth", "when": ["imatrix"], "type": "Q4_1"}]},
  {"name": "Q4_1", "base": "Q4_1", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"}]},
  {"name": "Q5_0", "base": "Q5_0", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "ffn_down", "layers": "first_eighth", "when": ["imatrix"], "type": "Q5_1"}]},
  {"name": "Q5_1", "base": "Q5_1", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"}]},
  {"name": "Q2_K", "base": "Q2_K", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_v", "when": ["llama70b"], "type": "Q5_K"},
    {"tensor": "attn_v", "when": ["gqa>=4"], "type": "Q4_K"},
    {"tensor": "attn_v", "type": "Q3_K"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "ffn_down", "type": "Q3_K"},
    {"tensor": "attn_output", "when": ["experts==8"], "type": "Q5_K"},
    {"tensor": "attn_output", "type": "Q3_K"}]},
  {"name": "Q3_K_S", "base": "Q3_K", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_v", "when": ["llama70b"], "type": "Q5_K"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_output", "when": ["experts==8"], "type": "Q5_K"}]},
  {"name": "Q3_K_M", "base": "Q3_K", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_v", "when": ["llama70b"], "type": "Q5_K"},
    {"tensor": "attn_v", "layers": "first:2", "type": "Q5_K"},
    {"tensor": "attn_v", "type": "Q4_K"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "ffn_down", "layers": "first_sixteenth", "type": "Q5_K"},
    {"tensor": "ffn_down", "type": "Q4_K"},
    {"tensor": "attn_output", "when": ["experts==8"], "type": "Q5_K"},
    {"tensor": "attn_output", "type": "Q4_K"}]},
  {"name": "Q3_K_L", "base": "Q3_K", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_v", "type": "Q5_K"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "ffn_down", "type": "Q5_K"},
    {"tensor": "attn_output", "when": ["experts==8"], "type": "Q3_K"},
    {"tensor": "attn_output", "type": "Q5_K"}]},
  {"name": "Q4_K_S", "base": "Q4_K", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_v", "when": ["llama70b"], "type": "Q5_K"},
    {"tensor": "attn_v", "layers": "first:4", "type": "Q5_K"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "ffn_down", "layers": "first_eighth", "type": "Q5_K"},
    {"tensor": "attn_output", "when": ["experts==8"], "type": "Q5_K"}]},
  {"name": "Q4_K_M", "base": "Q4_K", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_v", "layers": "more_bits", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["llama70b"], "type": "Q5_K"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "ffn_down", "layers": "more_bits", "type": "Q6_K"},
    {"tensor": "attn_output", "when": ["experts==8"], "type": "Q5_K"}]},
  {"name": "Q5_K_S", "base": "Q5_K", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"}]},
  {"name": "Q5_K_M", "base": "Q5_K", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_v", "layers": "more_bits", "type": "Q6_K"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "ffn_down", "layers": "more_bits", "type": "Q6_K"}]},
  {"name": "Q4_K_M-EA", "base": "Q4_K", "file_type": 15, "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "regex:^blk\\.[0-9]+\\.attn_", "type": "Q8_0"},
    {"tensor": "regex:_shexp\\.weight$", "type": "Q8_0"}]},
  {"name": "Q3_K_M-EA", "base": "Q3_K", "file_type": 12, "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "output", "type": "Q6_K"},
    {"tensor": "regex:^blk\\.[0-9]+\\.attn_", "type": "Q4_K"},
    {"tensor": "regex:_shexp\\.weight$", "type": "Q8_0"}]},
  {"name": "MXFP4_MOE", "base": "Q8_0", "rules": [
    {"tensor": "regex:.*", "when": ["stacked_experts"], "type": "MXFP4"}]},
  {"name": "Q6_K", "base": "Q6_K", "rules": [
    {"tensor": "output", "when": ["row_not_multiple_of_base_block"], "type": "Q8_0"},
    {"tensor": "attn_v", "when": ["experts==8"], "type": "Q8_0"},
    {"tensor": "attn_k", "when": ["experts==8"], "type": "Q8_0"}]}
])json";

}  // namespace lp
