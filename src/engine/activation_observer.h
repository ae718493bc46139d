#pragma once
// A window onto the inputs of the forward pass's matrix products, for measurements that need
// them (the importance matrix: per-column sums of squared activations). The session calls
// observe() with each product's input rows before the product; nothing is called when no
// observer is set, so the ordinary forward pass pays nothing.
#include <cstdint>
#include <string_view>

namespace lp {

// Which of a layer's matrices the rows are the input of; named as the GGUF tensors are
// ("blk.N.<name>.weight").
enum class MatrixRole {
  attn_q, attn_k, attn_v, attn_qkv, attn_output,
  ffn_gate, ffn_up, ffn_down,
  ffn_gate_inp, ffn_gate_exps, ffn_up_exps, ffn_down_exps,
};

std::string_view matrix_role_name(MatrixRole role);
bool is_expert_role(MatrixRole role);  // the stacked experts' matrices: rows of one expert at a time

class ActivationObserver {
 public:
  virtual ~ActivationObserver() = default;
  // `n_tokens` rows of `cols` values: the input of `role` in `layer` (for an expert role, of
  // expert `expert`: the tokens routed to it; -1 otherwise).
  virtual void observe(int64_t layer, MatrixRole role, int64_t expert, const float* x, int64_t n_tokens, int64_t cols) = 0;
};

}  // namespace lp
