"""`llama-pajamas template` against transformers' own renderer (render_jinja_template, which
apply_chat_template calls: sandboxed jinja2, trim_blocks, lstrip_blocks, its tojson and
raise_exception), over the real chat templates of every supported family."""
import json
import pathlib

import pytest
from gguf import GGUFReader
from transformers.utils.chat_template_utils import render_jinja_template

from conftest import run

TEMPLATES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "chat_templates"

# Fixture name -> (bos_token, eos_token) as each model's tokenizer_config.json sets them.
FAMILIES = {
    "smollm2": ("<|im_start|>", "<|im_end|>"),
    "gemma-3": ("<bos>", "<eos>"),
    "llama-3.1": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama-3.2": ("<|begin_of_text|>", "<|eot_id|>"),
    "qwen2.5": (None, "<|im_end|>"),
    "qwen3": (None, "<|im_end|>"),
    "phi-3.5": ("<s>", "<|endoftext|>"),
    "deepseek-r1-distill-qwen": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "gpt-oss": ("<|startoftext|>", "<|return|>"),
}
TOOL_FAMILIES = {"qwen2.5", "qwen3", "llama-3.1", "llama-3.2", "gpt-oss"}

DATE = {"date_string": "26 Jul 2024"}
SYSTEM = {"role": "system", "content": "  You are a terse assistant.\nAnswer in one line. "}
CONVERSATIONS = {
    "one_user": {"messages": [{"role": "user", "content": "Hello!"}], **DATE},
    "system_user": {"messages": [SYSTEM, {"role": "user", "content": "What is 2+2?"}], **DATE},
    "multi_turn_system": {
        "messages": [
            SYSTEM,
            {"role": "user", "content": "Name a colour."},
            {"role": "assistant", "content": "Blue."},
            {"role": "user", "content": "Another, with 'quotes' and \"more\" {braces} %}"},
        ],
        **DATE,
    },
    "multi_turn_ends_with_assistant": {
        "messages": [
            {"role": "user", "content": "  Héllo wörld ✓ 你好  "},
            {"role": "assistant", "content": "Hi!\n\nHow can I help?"},
            {"role": "user", "content": "Tell me a joke."},
            {"role": "assistant", "content": "No."},
        ],
        **DATE,
    },
    "reasoning": {
        "messages": [
            {"role": "user", "content": "Think first: 3*3?"},
            {"role": "assistant", "content": "<think>\nThree threes.\n</think>\n\n9"},
            {"role": "user", "content": "And 4*4?"},
            {"role": "assistant", "content": "16", "reasoning_content": "Four fours."},
        ],
        **DATE,
    },
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city, in °C.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
                "required": ["city"],
            },
        },
    }
]
TOOL_CONVERSATION = {
    "messages": [
        {"role": "system", "content": "Use tools when useful."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}}
            ],
        },
        {"role": "tool", "content": "{\"temp\": 21.5}"},
    ],
    "tools": TOOLS,
    **DATE,
}


def reference(template, request, bos, eos, generation_prompt):
    kwargs = dict(request)
    messages = kwargs.pop("messages")
    tools = kwargs.pop("tools", None)
    if bos is not None:
        kwargs["bos_token"] = bos
    if eos is not None:
        kwargs["eos_token"] = eos
    rendered, _ = render_jinja_template(
        [messages], tools=tools, chat_template=template, add_generation_prompt=generation_prompt, **kwargs
    )
    return rendered[0]


def make_hf_dir(root, name, bos, eos, chat_template):
    """A Hugging Face tokenizer directory with just what the template command reads."""
    d = root / name
    d.mkdir()
    specials = [t for t in (bos, eos) if t is not None]
    vocab = {t: i for i, t in enumerate(specials + ["a", "b"])}
    tokenizer = {
        "model": {"type": "BPE", "vocab": vocab, "merges": []},
        "added_tokens": [{"id": vocab[t], "content": t, "special": True} for t in specials],
    }
    (d / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    config = {"bos_token": bos, "eos_token": {"content": eos} if eos else None}
    if chat_template is not None:
        config["chat_template"] = chat_template
    (d / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def family_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("families")
    return {
        name: make_hf_dir(root, name, bos, eos, (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8"))
        for name, (bos, eos) in FAMILIES.items()
    }


def render_ours(lp_bin, model, request, tmp_path, generation_prompt, extra_args=()):
    messages = tmp_path / "messages.json"
    messages.write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
    args = [lp_bin, "template", str(model), "--messages", str(messages), *extra_args]
    if not generation_prompt:
        args.append("--no-generation-prompt")
    result = run(args, check=False)
    return result


def check_against_reference(lp_bin, model, template, bos, eos, request, tmp_path, generation_prompt):
    try:
        expected = reference(template, request, bos, eos, generation_prompt)
    except Exception as e:  # the template itself refuses this conversation (raise_exception)
        ours = render_ours(lp_bin, model, request, tmp_path, generation_prompt)
        assert ours.returncode == 2, f"transformers raised {e!r} but we printed {ours.stdout!r}"
        assert ours.stderr.startswith("error: ") and str(e) in ours.stderr
        return
    ours = render_ours(lp_bin, model, request, tmp_path, generation_prompt)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == expected


@pytest.mark.parametrize("generation_prompt", [True, False])
@pytest.mark.parametrize("conversation", sorted(CONVERSATIONS))
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_matches_transformers(lp_bin, family_dirs, tmp_path, family, conversation, generation_prompt):
    bos, eos = FAMILIES[family]
    template = (TEMPLATES / f"{family}.jinja").read_text(encoding="utf-8")
    check_against_reference(lp_bin, family_dirs[family], template, bos, eos, CONVERSATIONS[conversation], tmp_path,
                            generation_prompt)


@pytest.mark.parametrize("generation_prompt", [True, False])
@pytest.mark.parametrize("family", sorted(TOOL_FAMILIES))
def test_tools_match_transformers(lp_bin, family_dirs, tmp_path, family, generation_prompt):
    bos, eos = FAMILIES[family]
    template = (TEMPLATES / f"{family}.jinja").read_text(encoding="utf-8")
    check_against_reference(lp_bin, family_dirs[family], template, bos, eos, TOOL_CONVERSATION, tmp_path,
                            generation_prompt)


def test_qwen3_thinking_switch(lp_bin, family_dirs, tmp_path):
    bos, eos = FAMILIES["qwen3"]
    template = (TEMPLATES / "qwen3.jinja").read_text(encoding="utf-8")
    request = {"messages": [{"role": "user", "content": "Quick: capital of France?"}], "enable_thinking": False}
    check_against_reference(lp_bin, family_dirs["qwen3"], template, bos, eos, request, tmp_path, True)
    assert "<think>\n\n</think>" in render_ours(lp_bin, family_dirs["qwen3"], request, tmp_path, True).stdout


# A schema with every shape gpt-oss's render_typescript_type macro handles (it recurses into
# arrays and objects), plus the template's own kwargs: built-in tools, reasoning effort, identity.
GPT_OSS_SCHEMA = {
    "type": "object",
    "required": ["query", "filters"],
    "properties": {
        "query": {"type": "string", "description": "What to look for"},
        "limit": {"type": "integer", "default": 10},
        "ratio": {"type": "number", "nullable": True},
        "exact": {"type": "boolean", "default": False},
        "tags": {"type": "array", "items": {"type": "string"}, "nullable": True},
        "anything": {"type": "array"},
        "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
        "kind": {"type": ["string", "null"]},
        "either": {"oneOf": [{"type": "string", "description": "a name"}, {"type": "integer", "default": 3}], "default": "x"},
        "filters": {"type": "object", "required": ["field"], "properties": {
            "field": {"type": "string", "nullable": True},
            "values": {"type": "array", "items": {"type": "array", "items": {"type": "object", "properties": {
                "a": {"type": "number"}, "b": {"type": "array", "items": {"type": "boolean"}}}}}},
            "deep": {"type": "object", "properties": {"x": {"type": "object", "properties": {"y": {"type": "string"}}}}},
        }},
        "unknown": {},
    },
}


@pytest.mark.parametrize("generation_prompt", [True, False])
def test_gpt_oss_typescript_tools(lp_bin, family_dirs, tmp_path, generation_prompt):
    bos, eos = FAMILIES["gpt-oss"]
    template = (TEMPLATES / "gpt-oss.jinja").read_text(encoding="utf-8")
    tools = TOOLS + [
        {"type": "function", "function": {"name": "search", "description": "Search.", "parameters": GPT_OSS_SCHEMA}},
        {"type": "function", "function": {"name": "noargs", "description": "Nothing."}},
    ]
    request = {
        "messages": [
            {"role": "developer", "content": "Be nice."},
            {"role": "user", "content": "Find it."},
            {"role": "assistant", "thinking": "Search first.",
             "tool_calls": [{"function": {"name": "search", "arguments": {"query": "it"}, "content_type": "text"}}]},
            {"role": "tool", "content": "found"},
            {"role": "assistant", "content": "Here.", "thinking": "Done."},
        ],
        "tools": tools,
        "builtin_tools": ["browser", "python"],
        "reasoning_effort": "high",
        "model_identity": "You are a test model.",
    }
    check_against_reference(lp_bin, family_dirs["gpt-oss"], template, bos, eos, request, tmp_path, generation_prompt)


def test_llama32_today_from_strftime_now(lp_bin, family_dirs, tmp_path):
    # Without date_string the template asks strftime_now for today's date, as transformers does.
    bos, eos = FAMILIES["llama-3.2"]
    template = (TEMPLATES / "llama-3.2.jinja").read_text(encoding="utf-8")
    request = {"messages": [{"role": "user", "content": "What day is it?"}]}
    check_against_reference(lp_bin, family_dirs["llama-3.2"], template, bos, eos, request, tmp_path, True)


def test_gemma3_rejects_non_alternating_roles(lp_bin, family_dirs, tmp_path):
    request = {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}
    result = render_ours(lp_bin, family_dirs["gemma-3"], request, tmp_path, True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "line 15" in result.stderr and "Conversation roles must alternate" in result.stderr


def test_smollm2_gguf_template(lp_bin, smollm2_gguf, tmp_path):
    """The template and special tokens come from the GGUF metadata itself."""
    reader = GGUFReader(smollm2_gguf)
    template = reader.fields["tokenizer.chat_template"].contents()
    tokens = reader.fields["tokenizer.ggml.tokens"]
    bos = tokens.contents(reader.fields["tokenizer.ggml.bos_token_id"].contents())
    eos = tokens.contents(reader.fields["tokenizer.ggml.eos_token_id"].contents())
    assert template == (TEMPLATES / "smollm2.jinja").read_text(encoding="utf-8")
    for name, request in CONVERSATIONS.items():
        for generation_prompt in (True, False):
            expected = reference(template, request, bos, eos, generation_prompt)
            ours = render_ours(lp_bin, smollm2_gguf, request, tmp_path, generation_prompt)
            assert ours.returncode == 0, ours.stderr
            assert ours.stdout == expected, name


def test_named_template_list_and_jinja_file(lp_bin, tmp_path):
    """tokenizer_config.json may hold a list of named templates; newer models ship chat_template.jinja."""
    request = {"messages": [{"role": "user", "content": "hi"}]}
    listed = make_hf_dir(tmp_path, "listed", "<s>", "</s>", [
        {"name": "tool_use", "template": "TOOLS {{ messages[0].content }}"},
        {"name": "default", "template": "DEFAULT {{ messages[0].content }}{{ eos_token }}"},
    ])
    assert render_ours(lp_bin, listed, request, tmp_path, True).stdout == "DEFAULT hi</s>"
    separate = make_hf_dir(tmp_path, "separate", "<s>", "</s>", None)
    (separate / "chat_template.jinja").write_text("FILE {{ bos_token }}{{ messages | length }}\n", encoding="utf-8")
    assert render_ours(lp_bin, separate, request, tmp_path, True).stdout == "FILE <s>1"


def test_base_model_without_template(lp_bin, gemma3_gguf, tmp_path):
    result = render_ours(lp_bin, gemma3_gguf, {"messages": []}, tmp_path, True)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "no chat template" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "template, needle",
    [
        ("line one\n{% call greet(x) %}hi{% endcall %}", "line 2: the 'call' tag is not supported"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "macros nested deeper than 64"),
        ("{{ messages | wordcount }}", "line 1: the filter 'wordcount' is not supported"),
        ("a\nb\n{% if messages %}\nunclosed", "line 3: the 'if' tag is never closed with {% endif %}"),
        ("\n\n{{ messages[0].content.nosuch() }}", "line 3: 'nosuch' is undefined"),
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "steps"),
        ("{{ 'x' * 100000000000 }}", "too long"),
        ("{{ " + "(" * 500 + "1" + ")" * 500 + " }}", "nested more than"),
        ("{% set ns = namespace(a=1) %}{% set ns._secret = 2 %}", "may not start with '_'"),
    ],
)
def test_bad_templates_fail_with_the_line(lp_bin, smollm2_gguf, tmp_path, template, needle):
    path = tmp_path / "bad.jinja"
    path.write_text(template, encoding="utf-8")
    result = render_ours(lp_bin, smollm2_gguf, {"messages": [{"role": "user", "content": "x"}]}, tmp_path, True,
                         ["--chat-template", str(path)])
    assert result.returncode == 2, result.stdout[:200]
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert needle in result.stderr


@pytest.mark.parametrize("content", ['{"messages": "nope"}', "[1, 2]", "{\"no\": 1}", "not json"])
def test_bad_messages_file(lp_bin, smollm2_gguf, tmp_path, content):
    path = tmp_path / "m.json"
    path.write_text(content, encoding="utf-8")
    result = run([lp_bin, "template", smollm2_gguf, "--messages", str(path)], check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and str(path) in result.stderr
