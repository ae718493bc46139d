"""The issue's load test, run in the suite: 1,000 requests from 16 concurrent clients, 10% of
them malformed, against `serve` on SmolLM2. Every answer is checked against its own request
(bench/serve_load.py says how); nothing may fail, crash or go missing."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import serve_load  # noqa: E402
from serve_process import served  # noqa: E402


def test_thousand_requests_from_sixteen_clients(lp_bin, smollm2_gguf):
    with served(lp_bin, smollm2_gguf, "-t", "2", "-c", "512", "--parallel", "4") as (url, proc):
        summary = serve_load.load_test(url, lp_bin, smollm2_gguf, n_requests=1000, clients=16, malformed_share=0.1)
        assert proc.poll() is None, "the server died under load"
    assert summary["failed"] == []
    assert summary["malformed"] >= 50
    assert summary["server_healthy"]
    # Every valid request's tokens were generated (1 + i % 8 each), none twice.
    expected = sum(1 + i % 8 for i in range(1000)) - summary["malformed_tokens_asked"]
    assert summary["generated_tokens"] == expected
