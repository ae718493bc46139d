"""Hub ids as model arguments, against a fake hub on loopback (hub_fake_server.py): downloads
into the Hugging Face cache layout, resume after a kill, a corrupt download caught, gated
repositories, offline mode and a missing network, and one cache shared with huggingface_hub
(PyPI) in both directions.

The repositories hold the tiny random-weight llama of tests/fixtures (a real, runnable model) and
two GGUF files our own `quantize` makes from it.
"""
import hashlib
import json
import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT, run

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from hub_fake_server import FakeHub, Repo  # noqa: E402

TINY = ROOT / "tests" / "fixtures" / "tiny_models" / "llama"
CHECKPOINT_FILES = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def gguf_files(tmp_path_factory, lp_bin):
    out = tmp_path_factory.mktemp("hub_gguf")
    files = {}
    for method in ("Q8_0", "Q4_0"):
        path = out / f"tiny-{method}.gguf"
        run([lp_bin, "quantize", str(TINY), "--method", method, "-o", str(path)])
        files[path.name] = path.read_bytes()
    return files


def tiny_files():
    files = {name: (TINY / name).read_bytes() for name in CHECKPOINT_FILES}
    # What a real repository also holds, and a model argument must not fetch.
    files["pytorch_model.bin"] = b"\0" * 4096
    files["README.md"] = b"# tiny llama\n"
    files[".gitattributes"] = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    files["onnx/model.onnx"] = b"onnx"
    return files


@pytest.fixture
def hub(gguf_files):
    with FakeHub() as server:
        server.add(Repo("tiny/llama", tiny_files(), revisions=("main", "v1")))
        server.add(Repo("tiny/gguf", {**gguf_files, "README.md": b"# gguf\n"}))
        server.add(Repo("tiny/gated", {n: (TINY / n).read_bytes() for n in CHECKPOINT_FILES}, token="secret-token"))
        server.add(Repo("tiny/private", {"config.json": b"{}"}, token="secret-token", private=True))
        yield server


def hub_env(hub, home, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "HUGGINGFACE_")) and k != "HUGGING_FACE_HUB_TOKEN"}
    env.update(HF_ENDPOINT=hub.endpoint if hub else "http://127.0.0.1:9", HF_HOME=str(home), NO_PROXY="*")
    env.update(extra)
    return env


def lp(lp_bin, env, *args):
    return subprocess.run([lp_bin, *map(str, args)], capture_output=True, text=True, env=env, timeout=60)


def one_error_line(result):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def repo_dir(home, repo):
    return pathlib.Path(home) / "hub" / ("models--" + repo.replace("/", "--"))


def test_inspect_downloads_a_safetensors_repo_into_the_hf_cache_layout(lp_bin, hub, tmp_path):
    env = hub_env(hub, tmp_path)
    result = lp(lp_bin, env, "inspect", "--json", "tiny/llama")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    ours = json.loads(result.stdout)
    local = json.loads(run([lp_bin, "inspect", "--json", str(TINY)]).stdout)
    for key in ("hparams", "tensors", "totals", "tokenizer"):
        assert ours[key] == local[key], key

    repo = hub.repos["tiny/llama"]
    commit = repo.commits["main"]
    d = repo_dir(tmp_path, "tiny/llama")
    assert (d / "refs" / "main").read_text() == commit
    snapshot = d / "snapshots" / commit
    assert sorted(p.name for p in snapshot.iterdir()) == sorted(CHECKPOINT_FILES)
    for name in CHECKPOINT_FILES:
        link = snapshot / name
        etag = repo.sha256(name) if name in repo.lfs else hashlib.sha1(
            b"blob %d\0" % len(repo.files[name]) + repo.files[name]).hexdigest()
        assert link.is_symlink() and os.readlink(link) == f"../../blobs/{etag}"
        assert link.read_bytes() == repo.files[name]
    assert not list((d / "blobs").glob("*.incomplete"))
    # The token-free LFS redirect went to the other host; nothing asked for the skipped files.
    assert hub.requests_for("/lfs/", "GET")
    assert not hub.requests_for("pytorch_model.bin") and not hub.requests_for("onnx")

    # The snapshot is a runnable model: generation through the hub id, from the cache.
    gen = lp(lp_bin, env, "run", "tiny/llama", "-p", "hello", "-n", "4", "--temp", "0")
    assert gen.returncode == 0, gen.stderr
    assert len(hub.requests_for("/lfs/", "GET")) == 1  # the second run downloaded nothing


@pytest.mark.parametrize("args", [
    ["tokenize", "tiny/llama", "--text", "hello"],
    ["fit", "tiny/llama"],
    ["bench", "-m", "tiny/llama", "-p", "8", "-n", "4"],
    ["logits", "tiny/llama", "--tokens", "{tokens}", "-o", "{out}"],
], ids=lambda a: a[0])
def test_commands_that_take_a_model_take_a_hub_id(lp_bin, hub, tmp_path, args):
    """One choke point (cli/model_argument.h) serves every command; a few quick ones prove it."""
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("1 2 3 4")
    args = [a.format(tokens=tokens, out=tmp_path / "out.npy") for a in args]
    result = lp(lp_bin, hub_env(hub, tmp_path / "home"), *args)
    assert result.returncode == 0, result.stderr
    assert hub.requests_for("/api/models/tiny/llama/revision/main")


def test_a_bad_command_line_downloads_nothing(lp_bin, hub, tmp_path):
    # Missing options and --help are answered before any download.
    result = lp(lp_bin, hub_env(hub, tmp_path), "logits", "tiny/llama")
    assert result.returncode == 2 and "required" in result.stderr
    assert lp(lp_bin, hub_env(hub, tmp_path), "run", "tiny/llama", "--help").returncode == 0
    assert hub.requests == []


def test_libcurl_is_loaded_only_to_download(lp_bin, hub, tmp_path):
    # Its libraries cost every run ~4.5 MB of resident memory (formats/hub_curl.h).
    env = hub_env(hub, tmp_path, LD_DEBUG="libs")
    local = lp(lp_bin, env, "inspect", TINY)
    assert local.returncode == 0 and "libcurl" not in local.stderr
    remote = lp(lp_bin, env, "inspect", "tiny/llama")
    assert remote.returncode == 0 and "libcurl" in remote.stderr


def test_revisions_branch_and_commit(lp_bin, hub, tmp_path):
    env = hub_env(hub, tmp_path)
    repo = hub.repos["tiny/llama"]
    assert lp(lp_bin, env, "inspect", "tiny/llama@v1").returncode == 0
    d = repo_dir(tmp_path, "tiny/llama")
    assert (d / "refs" / "v1").read_text() == repo.commits["v1"]
    assert (d / "snapshots" / repo.commits["v1"] / "config.json").exists()
    commit = repo.commits["main"]
    assert lp(lp_bin, env, "inspect", f"tiny/llama@{commit}").returncode == 0
    assert (d / "snapshots" / commit / "model.safetensors").exists()
    assert not (d / "refs" / "main").exists()  # a commit hash needs no ref
    line = one_error_line(lp(lp_bin, env, "inspect", "tiny/llama@nope"))
    assert "has no revision nope" in line


def test_gguf_repo_file_include_and_a_choice_to_make(lp_bin, hub, tmp_path):
    env = hub_env(hub, tmp_path)
    line = one_error_line(lp(lp_bin, env, "inspect", "tiny/gguf"))
    assert "tiny-Q4_0.gguf" in line and "tiny-Q8_0.gguf" in line and "--include" in line

    result = lp(lp_bin, env, "inspect", "--json", "tiny/gguf:tiny-Q8_0.gguf")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"].endswith("tiny-Q8_0.gguf")
    commit = hub.repos["tiny/gguf"].commits["main"]
    snapshot = repo_dir(tmp_path, "tiny/gguf") / "snapshots" / commit
    assert sorted(p.name for p in snapshot.iterdir()) == ["tiny-Q8_0.gguf"]

    result = lp(lp_bin, env, "inspect", "--include", "*Q4_0*", "tiny/gguf")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in snapshot.iterdir()) == ["tiny-Q4_0.gguf", "tiny-Q8_0.gguf"]

    line = one_error_line(lp(lp_bin, env, "inspect", "tiny/gguf:tiny-Q5_K.gguf"))
    assert "has no file tiny-Q5_K.gguf" in line


def test_quantize_names_its_output_after_the_repository(lp_bin, hub, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = lp(lp_bin, hub_env(hub, tmp_path / "home"), "quantize", "tiny/llama", "--method", "Q8_0,Q4_0", "-o", out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["llama-Q4_0.gguf", "llama-Q8_0.gguf"]


def test_a_killed_download_resumes_with_a_range_request(lp_bin, hub, tmp_path):
    env = hub_env(hub, tmp_path)
    repo = hub.repos["tiny/llama"]
    sha = repo.sha256("model.safetensors")
    size = len(repo.files["model.safetensors"])
    hub.pause_after[sha] = 200_000
    partial = repo_dir(tmp_path, "tiny/llama") / "blobs" / f"{sha}.incomplete"
    proc = subprocess.Popen([lp_bin, "inspect", "tiny/llama"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline and not (partial.exists() and partial.stat().st_size >= 200_000):
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    hub.release.set()
    assert partial.stat().st_size == 200_000
    assert not (partial.parent / sha).exists()
    assert not (repo_dir(tmp_path, "tiny/llama") / "refs" / "main").exists()

    result = lp(lp_bin, env, "inspect", "tiny/llama")
    assert result.returncode == 0, result.stderr
    ranges = [r[2].get("Range") for r in hub.requests_for(f"/lfs/{sha}", "GET")]
    assert ranges[-1] == "bytes=200000-"
    blob = partial.parent / sha
    assert blob.stat().st_size == size and sha256(blob.read_bytes()) == sha
    assert not partial.exists()


def test_two_runs_fetching_one_blob_download_it_once(lp_bin, hub, tmp_path):
    env = hub_env(hub, tmp_path)
    sha = hub.repos["tiny/llama"].sha256("model.safetensors")
    hub.pause_after[sha] = 100_000
    partial = repo_dir(tmp_path, "tiny/llama") / "blobs" / f"{sha}.incomplete"
    first = subprocess.Popen([lp_bin, "inspect", "tiny/llama"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while time.time() < deadline and not (partial.exists() and partial.stat().st_size >= 100_000):
        time.sleep(0.01)
    second = subprocess.Popen([lp_bin, "inspect", "tiny/llama"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    assert second.poll() is None  # waiting for the lock the first run holds (.locks/, as huggingface_hub's)
    hub.release.set()
    assert first.wait(30) == 0 and second.wait(30) == 0, (first.stderr.read(), second.stderr.read())
    assert len(hub.requests_for(f"/lfs/{sha}", "GET")) == 1
    assert sha256((partial.parent / sha).read_bytes()) == sha


def test_a_connection_cut_mid_file_is_resumed_in_the_same_run(lp_bin, hub, tmp_path):
    env = hub_env(hub, tmp_path)
    sha = hub.repos["tiny/llama"].sha256("model.safetensors")
    hub.cut_after[sha] = 100_000
    result = lp(lp_bin, env, "inspect", "tiny/llama")
    assert result.returncode == 0, result.stderr
    ranges = [r[2].get("Range") for r in hub.requests_for(f"/lfs/{sha}", "GET")]
    assert ranges == [None, "bytes=100000-"]
    blob = repo_dir(tmp_path, "tiny/llama") / "blobs" / sha
    assert sha256(blob.read_bytes()) == sha


def test_a_busy_file_host_is_asked_again(lp_bin, hub, tmp_path):
    sha = hub.repos["tiny/llama"].sha256("model.safetensors")
    hub.busy_once.add(sha)
    result = lp(lp_bin, hub_env(hub, tmp_path), "inspect", "tiny/llama")
    assert result.returncode == 0, result.stderr
    assert len(hub.requests_for(f"/lfs/{sha}", "GET")) == 2


def test_a_corrupt_download_is_caught_and_deleted(lp_bin, hub, tmp_path):
    env = hub_env(hub, tmp_path)
    repo = hub.repos["tiny/llama"]
    sha = repo.sha256("model.safetensors")
    hub.corrupt.add(sha)
    line = one_error_line(lp(lp_bin, env, "inspect", "tiny/llama"))
    assert "model.safetensors" in line and "corrupt" in line and sha in line
    d = repo_dir(tmp_path, "tiny/llama")
    assert not (d / "blobs" / sha).exists() and not (d / "blobs" / f"{sha}.incomplete").exists()
    assert not (d / "snapshots" / repo.commits["main"] / "model.safetensors").exists()
    assert not (d / "refs" / "main").exists()
    hub.corrupt.clear()
    assert lp(lp_bin, env, "inspect", "tiny/llama").returncode == 0


HF_READ = """
import json, sys
from huggingface_hub import snapshot_download, hf_hub_download
snap = snapshot_download("tiny/llama", local_files_only=True)
one = hf_hub_download("tiny/llama", "model.safetensors")
print(json.dumps({"snapshot": snap, "file": one}))
"""


def test_huggingface_hub_reads_the_cache_we_filled(lp_bin, hub, tmp_path):
    env = hub_env(hub, tmp_path)
    assert lp(lp_bin, env, "inspect", "tiny/llama").returncode == 0
    before = len(hub.requests)
    result = subprocess.run([sys.executable, "-c", HF_READ], capture_output=True, text=True,
                            env=hub_env(hub, tmp_path, HF_HUB_OFFLINE="1"), timeout=60)
    assert result.returncode == 0, result.stderr
    paths = json.loads(result.stdout)
    commit = hub.repos["tiny/llama"].commits["main"]
    assert paths["snapshot"] == str(repo_dir(tmp_path, "tiny/llama") / "snapshots" / commit)
    assert pathlib.Path(paths["file"]).read_bytes() == (TINY / "model.safetensors").read_bytes()
    assert len(hub.requests) == before


HF_FILL = """
from huggingface_hub import snapshot_download
print(snapshot_download("tiny/llama", allow_patterns=["*.json", "*.safetensors"]))
"""


def test_we_read_offline_the_cache_huggingface_hub_filled(lp_bin, hub, tmp_path):
    result = subprocess.run([sys.executable, "-c", HF_FILL], capture_output=True, text=True,
                            env=hub_env(hub, tmp_path), timeout=60)
    assert result.returncode == 0, result.stderr
    snapshot = result.stdout.strip().splitlines()[-1]
    before = len(hub.requests)
    env = hub_env(hub, tmp_path, HF_HUB_OFFLINE="1")
    ours = lp(lp_bin, env, "inspect", "--json", "tiny/llama")
    assert ours.returncode == 0, ours.stderr
    assert json.loads(ours.stdout)["tensors"] == json.loads(run([lp_bin, "inspect", "--json", str(TINY)]).stdout)["tensors"]
    tokens = lp(lp_bin, env, "tokenize", "tiny/llama", "--text", "hello world")
    assert tokens.returncode == 0, tokens.stderr
    assert len(hub.requests) == before  # offline means offline
    assert pathlib.Path(snapshot).name == hub.repos["tiny/llama"].commits["main"]


def test_offline_with_nothing_cached_names_what_is_missing(lp_bin, hub, tmp_path):
    env = hub_env(hub, tmp_path, HF_HUB_OFFLINE="1")
    line = one_error_line(lp(lp_bin, env, "inspect", "tiny/llama"))
    assert "HF_HUB_OFFLINE" in line and "tiny/llama" in line and "main" in line
    # A file of a cached repo that was never downloaded.
    assert lp(lp_bin, hub_env(hub, tmp_path), "inspect", "tiny/gguf:tiny-Q8_0.gguf").returncode == 0
    line = one_error_line(lp(lp_bin, env, "inspect", "tiny/gguf:tiny-Q4_0.gguf"))
    assert "HF_HUB_OFFLINE" in line and "tiny-Q4_0.gguf" in line
    assert not hub.requests_for("Q4_0")


def test_a_gated_repo_needs_hf_token(lp_bin, hub, tmp_path):
    line = one_error_line(lp(lp_bin, hub_env(hub, tmp_path), "inspect", "tiny/gated"))
    assert "HF_TOKEN" in line and "tiny/gated" in line
    line = one_error_line(lp(lp_bin, hub_env(hub, tmp_path, HF_TOKEN="wrong"), "inspect", "tiny/gated"))
    assert "with the token in HF_TOKEN" in line
    # A private repository looks like no repository at all without the token.
    line = one_error_line(lp(lp_bin, hub_env(hub, tmp_path), "inspect", "tiny/private"))
    assert "neither a local path nor a model repository" in line and "HF_TOKEN" in line
    before = len(hub.requests)
    result = lp(lp_bin, hub_env(hub, tmp_path, HF_TOKEN="secret-token"), "inspect", "tiny/gated")
    assert result.returncode == 0, result.stderr
    requests = hub.requests[before:]
    assert all(r[2].get("Authorization") == "Bearer secret-token" for r in requests if "/tiny/gated/" in r[1])
    # The token stays with the hub: the redirect to the file host goes without it.
    lfs = [r for r in requests if r[1].startswith("/lfs/")]
    assert lfs and all("Authorization" not in r[2] for r in lfs)


def test_no_network_is_one_sentence(lp_bin, tmp_path):
    env = hub_env(None, tmp_path, HF_ENDPOINT=f"http://127.0.0.1:{closed_port()}")
    line = one_error_line(lp(lp_bin, env, "inspect", "tiny/llama"))
    assert "cannot be reached" in line and "tiny/llama" in line


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed once the block ends: nothing listens there


def test_without_network_the_cache_still_serves(lp_bin, hub, tmp_path):
    cache = tmp_path / "elsewhere"
    env = hub_env(hub, tmp_path / "home", HF_HUB_CACHE=str(cache))
    assert lp(lp_bin, env, "inspect", "tiny/gguf:tiny-Q8_0.gguf").returncode == 0
    assert (cache / "models--tiny--gguf" / "refs" / "main").exists()  # HF_HUB_CACHE, not $HF_HOME/hub
    env["HF_ENDPOINT"] = f"http://127.0.0.1:{closed_port()}"
    result = lp(lp_bin, env, "inspect", "--json", "tiny/gguf:tiny-Q8_0.gguf")
    assert result.returncode == 0, result.stderr
    line = one_error_line(lp(lp_bin, env, "inspect", "tiny/gguf:tiny-Q4_0.gguf"))
    assert "cannot be reached" in line and "tiny-Q4_0.gguf" in line


def test_a_download_that_cannot_fit_is_refused_before_it_starts(lp_bin, hub, tmp_path):
    hub.repos["tiny/llama"].listed_size["model.safetensors"] = 10**18
    line = one_error_line(lp(lp_bin, hub_env(hub, tmp_path), "inspect", "tiny/llama"))
    assert "GB are free" in line and "HF_HUB_CACHE" in line
    assert not hub.requests_for("/resolve/")


def test_unknown_repo_and_local_paths(lp_bin, hub, tmp_path):
    env = hub_env(hub, tmp_path)
    line = one_error_line(lp(lp_bin, env, "inspect", "nobody/nothing"))
    assert "neither a local path nor a model repository" in line
    # Paths that are not hub ids: more than one folder, a file's extension. The command's own
    # message, and no request.
    before = len(hub.requests)
    for path in ("no/such/model.gguf", "nosuch/model.gguf", "./tiny/llama"):
        result = subprocess.run([lp_bin, "inspect", path], capture_output=True, text=True, env=env, cwd=tmp_path)
        line = one_error_line(result)
        assert "hub" not in line, line
    assert len(hub.requests) == before


@pytest.mark.parametrize("model,name", [("tiny/llama", "llama"), ("tiny/gguf:tiny-Q8_0.gguf", "tiny-Q8_0")])
def test_serve_takes_a_hub_id(lp_bin, hub, tmp_path, model, name):
    """`serve` resolves through the same choke point; the API names the model after the
    repository (or the file), not after the snapshot's commit."""
    import requests
    from serve_process import served
    with served(lp_bin, model, "-c", "128", "--parallel", "1", env=hub_env(hub, tmp_path)) as (url, _):
        assert requests.get(url + "/v1/models").json()["data"][0]["id"] == name
        reply = requests.post(url + "/v1/completions", json={"prompt": "hello", "max_tokens": 3, "ignore_eos": True}).json()
        assert reply["usage"]["completion_tokens"] == 3
