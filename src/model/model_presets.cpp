#include "model/model_presets.h"

#include <algorithm>
#include <array>

#include "core/text.h"

namespace lp {
namespace {

// Shapes from each model's published config.json; bos/eos from its tokenizer files.
constexpr std::array kPresets = {
    // id, name, arch, vocab, embd, ff, layers, heads, kv, head_dim, context, theta, eps, tied, tokenizer, pre, bos, eos, first special
    ModelPreset{"smollm2-135m", "SmolLM2 135M Instruct", "llama", 49152, 576, 1536, 30, 9, 3, 64, 8192, 100000, 1e-5, true, "gpt2", "smollm", 1, 2, 0},
    ModelPreset{"smollm2-360m", "SmolLM2 360M Instruct", "llama", 49152, 960, 2560, 32, 15, 5, 64, 8192, 100000, 1e-5, true, "gpt2", "smollm", 1, 2, 0},
    ModelPreset{"smollm2-1.7b", "SmolLM2 1.7B Instruct", "llama", 49152, 2048, 8192, 24, 32, 32, 64, 8192, 130000, 1e-5, true, "gpt2", "smollm", 1, 2, 0},
    ModelPreset{"llama-3.2-1b", "Llama 3.2 1B Instruct", "llama", 128256, 2048, 8192, 16, 32, 8, 64, 131072, 500000, 1e-5, true, "gpt2", "llama-bpe", 128000, 128009, 128000, 0, 0, 0, 0, true},
    ModelPreset{"llama-3.2-3b", "Llama 3.2 3B Instruct", "llama", 128256, 3072, 8192, 28, 24, 8, 128, 131072, 500000, 1e-5, true, "gpt2", "llama-bpe", 128000, 128009, 128000, 0, 0, 0, 0, true},
    ModelPreset{"llama-3.1-8b", "Llama 3.1 8B Instruct", "llama", 128256, 4096, 14336, 32, 32, 8, 128, 131072, 500000, 1e-5, false, "gpt2", "llama-bpe", 128000, 128009, 128000, 0, 0, 0, 0, true},
    ModelPreset{"llama-3.3-70b", "Llama 3.3 70B Instruct", "llama", 128256, 8192, 28672, 80, 64, 8, 128, 131072, 500000, 1e-5, false, "gpt2", "llama-bpe", 128000, 128009, 128000, 0, 0, 0, 0, true},
    ModelPreset{"qwen2.5-0.5b", "Qwen2.5 0.5B Instruct", "qwen2", 151936, 896, 4864, 24, 14, 2, 64, 32768, 1000000, 1e-6, true, "gpt2", "qwen2", 151643, 151645, 151643},
    ModelPreset{"qwen2.5-1.5b", "Qwen2.5 1.5B Instruct", "qwen2", 151936, 1536, 8960, 28, 12, 2, 128, 32768, 1000000, 1e-6, true, "gpt2", "qwen2", 151643, 151645, 151643},
    ModelPreset{"qwen2.5-3b", "Qwen2.5 3B Instruct", "qwen2", 151936, 2048, 11008, 36, 16, 2, 128, 32768, 1000000, 1e-6, true, "gpt2", "qwen2", 151643, 151645, 151643},
    ModelPreset{"qwen2.5-7b", "Qwen2.5 7B Instruct", "qwen2", 152064, 3584, 18944, 28, 28, 4, 128, 32768, 1000000, 1e-6, false, "gpt2", "qwen2", 151643, 151645, 151643},
    ModelPreset{"deepseek-r1-distill-qwen-1.5b", "DeepSeek R1 Distill Qwen 1.5B", "qwen2", 151936, 1536, 8960, 28, 12, 2, 128, 131072, 10000, 1e-6, false, "gpt2", "deepseek-r1-qwen", 151646, 151643, 151643},
    ModelPreset{"qwen3-0.6b", "Qwen3 0.6B", "qwen3", 151936, 1024, 3072, 28, 16, 8, 128, 40960, 1000000, 1e-6, true, "gpt2", "qwen2", 151643, 151645, 151643},
    ModelPreset{"qwen3-1.7b", "Qwen3 1.7B", "qwen3", 151936, 2048, 6144, 28, 16, 8, 128, 40960, 1000000, 1e-6, true, "gpt2", "qwen2", 151643, 151645, 151643},
    ModelPreset{"qwen3-32b", "Qwen3 32B", "qwen3", 151936, 5120, 25600, 64, 64, 8, 128, 40960, 1000000, 1e-6, false, "gpt2", "qwen2", 151643, 151645, 151643},
    ModelPreset{"qwen3-30b-a3b", "Qwen3 30B A3B", "qwen3moe", 151936, 2048, 6144, 48, 32, 4, 128, 40960, 1000000, 1e-6, false, "gpt2", "qwen2", 151643, 151645, 151643, 128, 8, 768},
    ModelPreset{"qwen3-235b-a22b", "Qwen3 235B A22B", "qwen3moe", 151936, 4096, 12288, 94, 64, 4, 128, 40960, 1000000, 1e-6, false, "gpt2", "qwen2", 151643, 151645, 151643, 128, 8, 1536},
    ModelPreset{"gemma-2-2b", "Gemma 2 2B", "gemma2", 256000, 2304, 9216, 26, 8, 4, 256, 8192, 10000, 1e-6, true, "llama", "default", 2, 1, 0, 0, 0, 0, 4096},
    ModelPreset{"gemma-3-270m", "Gemma 3 270M", "gemma3", 262144, 640, 2048, 18, 4, 1, 256, 32768, 1000000, 1e-6, true, "llama", "default", 2, 1, 0, 0, 0, 0, 512},
    ModelPreset{"gemma-3-1b", "Gemma 3 1B", "gemma3", 262144, 1152, 6912, 26, 4, 1, 256, 32768, 1000000, 1e-6, true, "llama", "default", 2, 1, 0, 0, 0, 0, 512},
    ModelPreset{"phi-3-mini", "Phi 3 Mini 4K Instruct", "phi3", 32064, 3072, 8192, 32, 32, 32, 96, 4096, 10000, 1e-5, false, "llama", "default", 1, 32000, 32000, 0, 0, 0, 2047},
    ModelPreset{"phi-3.5-mini", "Phi 3.5 Mini Instruct", "phi3", 32064, 3072, 8192, 32, 32, 32, 96, 131072, 10000, 1e-5, false, "llama", "default", 1, 32000, 32000, 0, 0, 0, 262144},
    ModelPreset{"phi-4", "Phi 4", "phi3", 100352, 5120, 17920, 40, 40, 10, 128, 16384, 250000, 1e-5, false, "gpt2", "dbrx", 100257, 100265, 100256},
    ModelPreset{"phi-2", "Phi 2", "phi2", 51200, 2560, 10240, 32, 32, 32, 80, 2048, 10000, 1e-5, false, "gpt2", "phi-2", 50256, 50256, 50256, 0, 0, 0, 0, false, 32},
    ModelPreset{"gpt-oss-20b", "gpt-oss 20B", "gpt-oss", 201088, 2880, 2880, 24, 64, 8, 64, 131072, 150000, 1e-5, false, "gpt2", "gpt-4o", 199998, 200002, 199998, 32, 4, 2880, 128, false, 0, 32.0, 4096},
    ModelPreset{"gpt-oss-120b", "gpt-oss 120B", "gpt-oss", 201088, 2880, 2880, 36, 64, 8, 64, 131072, 150000, 1e-5, false, "gpt2", "gpt-4o", 199998, 200002, 199998, 128, 4, 2880, 128, false, 0, 32.0, 4096},
    ModelPreset{"mixtral-8x7b", "Mixtral 8x7B Instruct", "llama", 32000, 4096, 14336, 32, 32, 8, 128, 32768, 1000000, 1e-5, false, "llama", "default", 1, 2, 0, 8, 2, 14336},
};

}  // namespace

std::span<const ModelPreset> all_model_presets() { return kPresets; }

const ModelPreset* find_model_preset(std::string_view id) {
  const auto it = std::ranges::find_if(kPresets, [id](const ModelPreset& p) { return iequals(p.id, id); });
  return it == kPresets.end() ? nullptr : &*it;
}

}  // namespace lp
