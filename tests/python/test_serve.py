"""`serve` against the real clients: the `openai` and `ollama` Python packages talk to our
server, streaming and not, and greedy answers equal `run`'s on the same model (SmolLM2 from
PyPI). Concurrent requests are batched into one forward pass; with float32 activations the
batched answers equal the one-at-a-time answers exactly, which proves the slots' caches and
positions never mix. Bad input gets a 4xx with a JSON body and the server keeps serving; a
full queue gets 503 with Retry-After; a client that leaves mid-stream frees its slot; a slow
client is dropped; SIGTERM stops the server cleanly."""
import concurrent.futures
import json
import socket
import subprocess
import time

import httpx
import ollama
import openai
import pytest
import requests

from conftest import run
from serve_process import prometheus_values, served

QUESTIONS = ["What is the capital of France?", "Name three colors.", "Write a haiku about rain."]


# Float32 activations make a token's arithmetic independent of how the prompt was split into
# batches, so answers equal `run`'s whatever the slots' caches hold (reused prefixes, batching).
# The default 8-bit activations round a row's inputs the same way, but the kernels sum in a
# different order for different batch shapes; test_default_arithmetic_equals_run covers them.
EXACT = ("--activations", "f32")


@pytest.fixture(scope="module")
def server(lp_bin, smollm2_gguf):
    with served(lp_bin, smollm2_gguf, "-t", "2", "-c", "1024", "--parallel", "4", "--queue", "64", *EXACT) as (url, proc):
        yield url


def run_greedy(lp_bin, model, prompt, n, *extra, exact=True):
    out = json.loads(run([lp_bin, "run", str(model), "-p", prompt, "--temp", "0", "-n", str(n), "-t", "2", "--json",
                          *(EXACT if exact else ()), *extra]).stdout)
    return out


def test_default_arithmetic_equals_run(lp_bin, smollm2_gguf):
    with served(lp_bin, smollm2_gguf, "-t", "2", "-c", "1024", "--parallel", "2") as (url, _):
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused")
        for question in QUESTIONS:
            expected = run_greedy(lp_bin, smollm2_gguf, question, 24, exact=False)
            # cache_prompt off: the prompt is read in one batch, as `run` reads it.
            reply = client.chat.completions.create(model="smollm2", messages=[{"role": "user", "content": question}],
                                                   temperature=0, max_tokens=24, extra_body={"cache_prompt": False})
            assert reply.choices[0].message.content == expected["text"]
            assert reply.usage.prompt_tokens_details.cached_tokens == 0


def test_openai_chat_equals_run(lp_bin, smollm2_gguf, server):
    client = openai.OpenAI(base_url=server + "/v1", api_key="unused")
    for question in QUESTIONS:
        expected = run_greedy(lp_bin, smollm2_gguf, question, 24)
        reply = client.chat.completions.create(model="smollm2", messages=[{"role": "user", "content": question}],
                                               temperature=0, max_tokens=24)
        assert reply.choices[0].message.content == expected["text"]
        assert reply.usage.prompt_tokens == len(expected["prompt_tokens"])
        assert reply.usage.completion_tokens == len(expected["tokens"])
        assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
        assert reply.choices[0].finish_reason == ("length" if expected["stop_reason"] == "length" else "stop")


def test_openai_chat_stream_equals_the_whole_answer(server):
    client = openai.OpenAI(base_url=server + "/v1", api_key="unused")
    messages = [{"role": "system", "content": "You are brief."}, {"role": "user", "content": QUESTIONS[1]}]
    whole = client.chat.completions.create(model="smollm2", messages=messages, temperature=0, max_tokens=32)
    chunks = list(client.chat.completions.create(model="smollm2", messages=messages, temperature=0, max_tokens=32,
                                                 stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    finishing = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finishing) == 1 and finishing[0].choices[0].finish_reason == whole.choices[0].finish_reason
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert chunks[-1].usage.prompt_tokens == whole.usage.prompt_tokens


def test_openai_completions_and_logprobs(lp_bin, smollm2_gguf, server):
    expected = run_greedy(lp_bin, smollm2_gguf, "The sky is", 12, "--raw")
    client = openai.OpenAI(base_url=server + "/v1", api_key="unused")
    reply = client.completions.create(model="smollm2", prompt="The sky is", temperature=0, max_tokens=12, logprobs=3)
    assert reply.choices[0].text == expected["text"]
    assert reply.usage.prompt_tokens == len(expected["prompt_tokens"])
    lp = reply.choices[0].logprobs
    assert len(lp.token_logprobs) == len(expected["tokens"])
    assert "".join(lp.tokens) == expected["text"]
    for chosen, value, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        # Greedy: the chosen token is the most likely one, and the alternatives are a distribution's.
        assert value <= 0 and len(top) == 3
        assert max(top.values()) == pytest.approx(value, abs=1e-9)
        assert sum(2.718281828459045 ** v for v in top.values()) <= 1 + 1e-9
    stream = list(client.completions.create(model="smollm2", prompt="The sky is", temperature=0, max_tokens=12,
                                            stream=True))
    assert "".join(c.choices[0].text for c in stream) == expected["text"]


def test_chat_logprobs(server):
    client = openai.OpenAI(base_url=server + "/v1", api_key="unused")
    reply = client.chat.completions.create(model="smollm2", messages=[{"role": "user", "content": "Hi"}], temperature=0,
                                           max_tokens=5, logprobs=True, top_logprobs=2)
    content = reply.choices[0].logprobs.content
    assert len(content) == reply.usage.completion_tokens
    assert "".join(c.token for c in content) == reply.choices[0].message.content
    assert all(c.top_logprobs[0].logprob == pytest.approx(c.logprob, abs=1e-9) for c in content)
    assert all(bytes(c.bytes).decode("utf-8", "replace") == c.token for c in content)


def test_ollama_chat_and_generate_equal_run_with_native_timings(lp_bin, smollm2_gguf, server):
    client = ollama.Client(host=server)
    question = QUESTIONS[0]
    expected = run_greedy(lp_bin, smollm2_gguf, question, 20)
    reply = client.chat(model="smollm2", messages=[{"role": "user", "content": question}],
                        options={"temperature": 0, "num_predict": 20})
    assert reply.message.content == expected["text"]
    assert reply.done and reply.done_reason in ("stop", "length")
    assert reply.eval_count == len(expected["tokens"])
    # A fresh prompt is read whole (or what a slot already holds of it is skipped, and counted so).
    assert 0 < reply.prompt_eval_count <= len(expected["prompt_tokens"])
    assert reply.prompt_eval_duration > 0 and reply.eval_duration > 0
    assert reply.total_duration >= reply.prompt_eval_duration + reply.eval_duration
    assert reply.load_duration >= 0

    pieces = list(client.generate(model="smollm2", prompt=question, options={"temperature": 0, "num_predict": 20},
                                  stream=True))
    assert "".join(p.response for p in pieces) == expected["text"]
    assert [p.done for p in pieces].count(True) == 1 and pieces[-1].done
    assert pieces[-1].eval_count == len(expected["tokens"])
    raw = run_greedy(lp_bin, smollm2_gguf, "Once upon a time", 10, "--raw")
    plain = client.generate(model="smollm2", prompt="Once upon a time", raw=True,
                            options={"temperature": 0, "num_predict": 10})
    assert plain.response == raw["text"]


def test_model_lists(server, smollm2_gguf):
    listed = ollama.Client(host=server).list()
    assert len(listed.models) == 1
    m = listed.models[0]
    assert m.model == "SmolLM2-135M-Instruct.Q4_1"
    assert m.details.family == "llama" and m.details.quantization_level == "Q4_1"
    assert m.details.parameter_size == "135M"
    models = openai.OpenAI(base_url=server + "/v1", api_key="unused").models.list()
    assert [x.id for x in models.data] == ["SmolLM2-135M-Instruct.Q4_1"]
    health = requests.get(server + "/health").json()
    assert health["status"] == "ok" and health["slots_idle"] + health["slots_processing"] == 4


@pytest.mark.parametrize("path,body,needle", [
    ("/v1/chat/completions", "{not json", "not valid JSON"),
    ("/v1/chat/completions", "[1, 2]", "JSON object"),
    ("/v1/chat/completions", '{"messages": "hi"}', "'messages'"),
    ("/v1/chat/completions", '{"messages": [{"role": "wizard", "content": "x"}]}', "wizard"),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}', "'temperature'"),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "x"}], "max_tokens": -5}', "'max_tokens'"),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "x"}], "max_tokens": 1000000000}', "context"),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "x"}], "n": 3}', "'n'"),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "x"}], "stop": [1]}', "'stop'"),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "x"}], "top_p": 7}', "'top_p'"),
    ("/v1/completions", '{"prompt": 5}', "'prompt'"),
    ("/v1/completions", '{"prompt": "x", "stream": true, "logprobs": 2}', "non-streaming"),
    ("/api/generate", '{"model": "m"}', "'prompt'"),
    ("/api/chat", '{"messages": [], "options": {"temperature": 0}}', "'messages'"),
    ("/api/generate", '{"prompt": "x", "options": {"num_predict": "many"}}', "'num_predict'"),
    ("/api/generate", '{"prompt": "x", "options": 7}', "'options'"),
    ("/v1/chat/completions", "[" * 100000, "deep"),
])
def test_bad_requests_get_400_with_a_reason(server, path, body, needle):
    r = requests.post(server + path, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    message = error if isinstance(error, str) else error["message"]
    assert needle.lower() in message.lower()


def test_prompt_longer_than_the_context(server):
    r = requests.post(server + "/v1/completions", json={"prompt": "word " * 3000, "max_tokens": 1})
    assert r.status_code == 400 and "context holds 1024" in r.json()["error"]["message"]


def test_oversized_body_and_unknown_endpoint(server):
    r = requests.post(server + "/v1/completions", data=b"x" * (5 << 20))
    assert r.status_code == 413 and "too large" in r.json()["error"]["message"]
    r = requests.get(server + "/v1/nothing")
    assert r.status_code == 404 and "no endpoint" in r.json()["error"]["message"]


def test_concurrent_requests_are_batched_and_never_mixed(lp_bin, smollm2_gguf):
    # Float32 activations: a row's arithmetic does not depend on the rows beside it, so batched
    # answers must equal one-at-a-time answers token for token.
    prompts = [f"Story {i}: once upon a time in a land of {w}," for i, w in enumerate(
        ["ice", "fire", "sand", "glass", "trees", "stone", "rain", "wind"])]
    with served(lp_bin, smollm2_gguf, "-t", "2", "-c", "256", "--parallel", "8", *EXACT) as (url, _):
        def ask(i):
            r = requests.post(url + "/v1/completions", json={"prompt": prompts[i], "max_tokens": 16 + i, "temperature": 0,
                                                             "ignore_eos": True})
            r.raise_for_status()
            return r.json()
        alone = [ask(i) for i in range(len(prompts))]
        before = prometheus_values(requests.get(url + "/metrics").text)
        with concurrent.futures.ThreadPoolExecutor(len(prompts)) as pool:
            together = list(pool.map(ask, range(len(prompts))))
        after = prometheus_values(requests.get(url + "/metrics").text)
    for i, (a, b) in enumerate(zip(alone, together)):
        assert b["usage"]["completion_tokens"] == 16 + i
        assert b["choices"][0]["text"] == a["choices"][0]["text"]
    passes = after["llamapajamas_forward_passes_total"] - before["llamapajamas_forward_passes_total"]
    decoded = after["llamapajamas_decode_rows_total"] - before["llamapajamas_decode_rows_total"]
    assert decoded == sum(15 + i for i in range(len(prompts)))
    assert passes < decoded / 2  # several streams shared each forward pass


def test_full_queue_gets_503_and_a_client_that_leaves_frees_its_slot(lp_bin, smollm2_gguf):
    with served(lp_bin, smollm2_gguf, "-t", "2", "-c", "2048", "--parallel", "1", "--queue", "0") as (url, _):
        long = {"prompt": "Count:", "max_tokens": 2000, "temperature": 0, "ignore_eos": True, "stream": True}
        with requests.post(url + "/v1/completions", json=long, stream=True) as streaming:
            lines = streaming.iter_lines()
            next(line for line in lines if line.startswith(b"data: "))
            busy = requests.post(url + "/v1/completions", json={"prompt": "x", "max_tokens": 1})
            assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
            assert "busy" in busy.json()["error"]["message"]
            busy = requests.post(url + "/api/generate", json={"prompt": "x", "stream": False})
            assert busy.status_code == 503 and "busy" in busy.json()["error"]
        # The stream is closed after a token or two of 2000: the slot must come free at once.
        start = time.monotonic()
        while True:
            r = requests.post(url + "/v1/completions", json={"prompt": "x", "max_tokens": 2})
            if r.status_code == 200:
                break
            assert time.monotonic() - start < 20, "the slot of a client that left was not freed"
            time.sleep(0.05)
        metrics = prometheus_values(requests.get(url + "/metrics").text)
        assert metrics["llamapajamas_generations_cancelled_total"] == 1
        assert metrics['llamapajamas_requests_total{endpoint="/v1/completions",code="503"}'] >= 1


def test_slow_client_is_dropped_and_others_are_served(lp_bin, smollm2_gguf):
    with served(lp_bin, smollm2_gguf, "-t", "2", "-c", "256", "--timeout", "1") as (url, _):
        host, port = url.removeprefix("http://").split(":")
        slow = socket.create_connection((host, int(port)))
        slow.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"prompt\":")
        r = requests.post(url + "/v1/completions", json={"prompt": "Hi", "max_tokens": 2})
        assert r.status_code == 200
        slow.settimeout(10)
        start = time.monotonic()
        data = slow.recv(4096)  # the server gives up on the body: an error answer or a closed socket
        assert time.monotonic() - start < 8
        assert data == b"" or data.startswith(b"HTTP/1.1 4")
        slow.close()


def test_api_key(lp_bin, smollm2_gguf):
    with served(lp_bin, smollm2_gguf, "-t", "2", "-c", "256", "--api-key", "s3cret") as (url, _):
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url + "/v1", api_key="wrong").models.list()
        ok = openai.OpenAI(base_url=url + "/v1", api_key="s3cret").completions.create(model="m", prompt="Hi", max_tokens=2)
        assert ok.usage.completion_tokens <= 2
        r = requests.post(url + "/api/generate", json={"prompt": "x"})
        assert r.status_code == 401 and "API key" in r.json()["error"]
        assert requests.get(url + "/health").status_code == 200
        assert requests.get(url + "/metrics").status_code == 401


def test_bad_command_lines(lp_bin, smollm2_gguf, tmp_path):
    r = run([lp_bin, "serve", str(tmp_path / "missing.gguf")], check=False)
    assert r.returncode == 2 and r.stderr.startswith("error:")
    r = run([lp_bin, "serve", smollm2_gguf, "--parallel", "0"], check=False)
    assert r.returncode == 2
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    r = run([lp_bin, "serve", smollm2_gguf, "--port", str(busy.getsockname()[1]), "-c", "256"], check=False)
    busy.close()
    assert r.returncode == 2 and "cannot listen" in r.stderr


def test_sigterm_with_a_stream_running_stops_cleanly(lp_bin, smollm2_gguf):
    import signal
    with served(lp_bin, smollm2_gguf, "-t", "2", "-c", "2048", "--parallel", "1") as (url, proc):
        body = {"prompt": "Count:", "max_tokens": 2000, "temperature": 0, "ignore_eos": True, "stream": True}
        with requests.post(url + "/v1/completions", json=body, stream=True) as streaming:
            lines = streaming.iter_lines()
            next(line for line in lines if line.startswith(b"data: "))
            start = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            rest = [line for line in lines if line]
            assert proc.wait(timeout=30) == 0
            assert time.monotonic() - start < 10  # not after the 2000 tokens
        # The stream ended with an error event, not a finish reason.
        assert b"shutting down" in rest[-1]
