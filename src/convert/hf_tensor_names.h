#pragma once
// Hugging Face tensor names to GGUF tensor names, per architecture (the names llama.cpp's
// convert_hf_to_gguf.py writes and its loader expects), and what must be done to the values
// on the way:
// - llama.cpp's `llama` architecture applies RoPE to interleaved pairs while Hugging Face
//   rotates halves, so Q and K rows are permuted;
// - Gemma's RMSNorm multiplies by (1 + w), llama.cpp's by w, so Gemma norms get 1 added;
// - mixture-of-experts weights are stacked into one 3-D tensor per layer and kind: one
//   Hugging Face tensor per expert (transformers 4) lands at its expert's index, and a fused
//   gate_up tensor of all experts (transformers 5) is cut into its gate and up halves;
// - gpt-oss keeps its experts as [expert][in][out] with gate and up interleaved: they are
//   transposed and the gate and up rows (and biases) taken alternately.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lp {

// transpose: gpt-oss keeps each expert's matrix as [in][out] (it computes x @ W), GGUF as
// [out][in]; the tensor is read column by column.
// mxfp4_blocks / mxfp4_scales: the two halves of an MXFP4 tensor as gpt-oss ships its experts
// ([expert][row][block][16] packed values and [expert][row][block] E8M0 exponents), joined
// into GGML's MXFP4 blocks without touching a value.
enum class TensorTransform { none, permute_q, permute_k, add_one, transpose, mxfp4_blocks, mxfp4_scales };

struct MappedTensorName {
  std::string gguf_name;
  TensorTransform transform = TensorTransform::none;
  // >= 0: this tensor is expert `expert` of the stacked 3-D GGUF tensor `gguf_name`.
  int64_t expert = -1;
  // The GGUF tensor is part `part` of `parts` equal row blocks of each expert's matrix
  // (gate = 0 and up = 1 of a fused gate_up); parts == 1: all of it. Interleaved: part p is
  // every parts-th row from p instead (gpt-oss alternates gate and up), and of a vector or
  // 2-D bias every parts-th value of each row.
  uint32_t part = 0, parts = 1;
  bool interleaved = false;
};

// The GGUF tensors one Hugging Face tensor feeds: empty for a tensor the GGUF model does
// not carry (rotary caches, a tied lm_head, a multimodal checkpoint's vision tower).
// InputError for a tensor of the language model we do not know how to place.
std::vector<MappedTensorName> map_hf_tensor_name(std::string_view architecture, std::string_view hf_name,
                                                 bool tied_embeddings);

// Whether the converter knows the architecture's names (GGUF architecture name).
bool hf_tensor_names_known(std::string_view architecture);

}  // namespace lp
