"""Our reading of config.json against transformers' own config classes (no weights, no torch).

Each real config is read two ways: as published (transformers 4 layout) and as transformers
rewrites it with to_dict() (its current layout, e.g. rope_parameters). Both must give the
hyperparameters transformers itself derives, including the defaults of keys a file omits."""
import json
import pathlib

import numpy as np
import pytest
from safetensors.numpy import save_file

transformers = pytest.importorskip("transformers")

from conftest import inspect_json  # noqa: E402

CONFIGS = sorted(p.name for p in (pathlib.Path(__file__).parents[1] / "fixtures" / "hf_configs").glob("*.json")
                 if "unsupported" not in p.name)


def text_config(cfg):
    return cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg


def rope_theta(cfg, layer="full_attention"):
    params = getattr(cfg, "rope_parameters", None)
    if params:
        params = params.get(layer, params)
        return params["rope_theta"]
    return cfg.rope_theta


def expected_hparams(cfg):
    c = text_config(cfg)
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    return {
        "vocab_size": c.vocab_size,
        "embedding_length": c.hidden_size,
        "block_count": c.num_hidden_layers,
        "head_count": c.num_attention_heads,
        "head_count_kv": c.num_key_value_heads,
        "feed_forward_length": c.intermediate_size,
        "context_length": c.max_position_embeddings,
        "key_length": head_dim,
        "norm_eps": c.rms_norm_eps,
        "rope_freq_base": rope_theta(c),
        "tied_embeddings": bool(getattr(cfg, "tie_word_embeddings", getattr(c, "tie_word_embeddings", False))),
    }


def inspect_config(lp_bin, tmp_path, config):
    d = tmp_path / "model"
    d.mkdir(exist_ok=True)
    (d / "config.json").write_text(json.dumps(config))
    save_file({"w": np.zeros(1, dtype=np.float32)}, str(d / "model.safetensors"))
    return inspect_json(lp_bin, d)["hparams"]


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("layout", ["published", "transformers"])
def test_hparams_match_transformers(tmp_path, lp_bin, fixtures_dir, name, layout):
    published = json.loads((fixtures_dir / "hf_configs" / name).read_text())
    cfg = transformers.AutoConfig.for_model(**published)
    config = published if layout == "published" else json.loads(cfg.to_json_string(use_diff=False))
    ours = inspect_config(lp_bin, tmp_path, config)
    expected = expected_hparams(cfg)
    for key, value in expected.items():
        if isinstance(value, float):
            assert ours[key] == pytest.approx(value), key
        else:
            assert ours[key] == value, key
    c = text_config(cfg)
    if ours["architecture"] == "gemma3":
        assert ours["rope_freq_base_local"] == pytest.approx(
            rope_theta(c, "sliding_attention") if getattr(c, "rope_parameters", None) else c.rope_local_base_freq)
        assert ours["sliding_window"] == c.sliding_window
    if ours["architecture"] == "qwen3moe":
        assert ours["expert_count"] == c.num_experts
        assert ours["expert_used_count"] == c.num_experts_per_tok
    if ours["architecture"] == "gpt-oss":
        assert ours["expert_count"] == c.num_local_experts and ours["expert_used_count"] == c.num_experts_per_tok
        assert ours["sliding_window"] == c.sliding_window and ours["sliding_window_pattern"] == 2
        assert ours["rope_scaling"]["type"] == "yarn" and ours["rope_scaling"]["factor"] == c.rope_parameters["factor"]


@pytest.mark.parametrize("model_type", ["llama", "qwen2", "qwen3", "qwen3_moe", "gemma3_text", "phi3", "gpt_oss"])
def test_defaults_match_transformers(tmp_path, lp_bin, model_type):
    """A config that names only its model_type means the config class's defaults."""
    cfg = transformers.AutoConfig.for_model(model_type)
    ours = inspect_config(lp_bin, tmp_path, {"model_type": model_type})
    for key, value in expected_hparams(cfg).items():
        assert ours[key] == (pytest.approx(value) if isinstance(value, float) else value), (model_type, key)
