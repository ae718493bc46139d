#include "engine/activation_observer.h"

#include <array>

namespace lp {

std::string_view matrix_role_name(MatrixRole role) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "attn_q", "attn_k", "attn_v", "attn_qkv", "attn_output", "ffn_gate",
      "ffn_up", "ffn_down", "ffn_gate_inp", "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"};
  return kNames[static_cast<size_t>(role)];
}

bool is_expert_role(MatrixRole role) {
  return role == MatrixRole::ffn_gate_exps || role == MatrixRole::ffn_up_exps || role == MatrixRole::ffn_down_exps;
}

}  // namespace lp
