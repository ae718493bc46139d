#pragma once
// A Hugging Face checkpoint as a quantization source: its safetensors tensors under GGUF
// names and shapes (Q/K rows permuted for llama.cpp's `llama` RoPE), its config.json as
// `{arch}.*` hyperparameters and its tokenizer.json as `tokenizer.ggml.*`, so `quantize`
// goes from a Hugging Face directory to GGUF files in one step. Tensors are read on demand:
// Gemma's norms get their +1, MoE experts are stacked into 3-D tensors row by row.
#include <filesystem>
#include <memory>

#include "model/hparams.h"
#include "quant/quantize_model.h"

namespace lp {

// llama, qwen2, qwen3, qwen3_moe, gpt_oss (float or MXFP4 experts), gemma3 (text, or the language model of a multimodal
// checkpoint) and phi3 checkpoints with byte-level or SentencePiece-style BPE tokenizers;
// InputError names what else a directory holds that we cannot convert.
std::unique_ptr<QuantSource> open_hf_source(const std::filesystem::path& dir);

// Llama 3.1's long-context RoPE scaling as per-dimension factors (the rope_freqs tensor
// llama.cpp's converter writes), from the scaling settings of config.json.
std::vector<float> llama3_rope_factors(const ModelHParams& h);

}  // namespace lp
