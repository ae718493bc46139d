#pragma once
// Full-size models with random weights and a real model's shapes (model_presets.h): the
// tensor layout llama.cpp expects for the architecture, its hyperparameters, and a valid
// synthetic tokenizer of the model's vocabulary size and special-token ids. Written through
// the same quantizer and writer as real models, so speed and memory can be measured at real
// sizes with no download. The weights are N(0, 0.02²) noise: the file is for measuring, not
// for reading its answers.
#include <memory>

#include "model/model_presets.h"
#include "quant/quantize_model.h"

namespace lp {

std::unique_ptr<QuantSource> make_synthetic_source(const ModelPreset& preset, uint64_t seed = 1);

}  // namespace lp
