"""report.html (src/decide/report_html.h) in a real browser: headless Chromium renders the page
that tests/tools/report_html_driver makes from a sample report.json (the schema of
src/decide/matrix_report.h), and we check that it paints, that each chart holds one point per
level with the data, and that the browser logged nothing to its console (a script error, a
blocked fetch: the page's Content-Security-Policy turns any external load into one).

Chromium is driven from its command line (--screenshot, --dump-dom, --enable-logging), so the
test needs no browser-automation package; scripts/setup.sh installs the Debian `chromium`."""
import copy
import json
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from conftest import _binary

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh installs it)")

MIB = 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def html_driver():
    return _binary("LP_REPORT_HTML", "tests/report_html_driver")


def _acc(value, questions):
    return {"value": value, "correct": round(value * questions), "questions": questions}


def _level(name, mib, bpw, pooled, ppl, kld, bench_pp, gen_pct, tier, tg, score, unsettled=None):
    """One entry of report.json's levels[], with numbers shaped like SmolLM2-135M's."""
    return {
        "level": name, "is_baseline": False,
        "file": {"path": f"models/smollm2-{name}.gguf", "bytes": int(mib * MIB), "sha256": "ab" * 32},
        "bits_per_weight": bpw,
        "perplexity": {"value": ppl, "ci95": [ppl * 0.97, ppl * 1.03]},
        "kld_mean": kld, "same_top_p": 1 - kld * 4,
        "accuracy": {"mmlu": _acc(pooled + 0.01, 500), "arc_challenge": _acc(pooled - 0.01, 500),
                     "pooled": _acc(pooled, 1000)},
        "benchmark_delta_pp": {"value": bench_pp, "ci95": [bench_pp - 1.8, bench_pp + 1.8]},
        "generation": {"key_metric": "rouge_l", "delta_pct": {"value": gen_pct, "ci95": [gen_pct - 2.5, gen_pct + 2.5]}},
        "tier": {"name": tier, "explanation": f"benchmark {bench_pp:+.1f} pp and generation {gen_pct:+.1f}% meet {tier}",
                 "at_lower": unsettled or tier, "at_upper": tier, "unsettled": unsettled is not None},
        "speed": {"pp_tps": 5200 / mib * 40, "tg_tps": tg, "ttft_ms": mib * 0.35, "load_ms": mib * 0.8,
                  "peak_rss_bytes": int((mib + 90) * MIB)},
        "memory": {"predicted_peak_bytes": int((mib + 85) * MIB)},
        "cost": {"usd_per_million": 0.035 / (tg * 3600) * 1e6, "savings_pct": 0.0},
        "score": {"total": score, "components": {
            "quality": {"points": score * 0.3, "weight": 30, "working": f"{pooled * 100:.1f} / 70 x 30"},
            "speed": {"points": score * 0.25, "weight": 25, "working": f"ttft + decode {tg:.0f} tok/s / 40"},
            "memory": {"points": score * 0.25, "weight": 25, "working": "4 GB device: 25"},
            "size": {"points": score * 0.2, "weight": 20, "working": f"(2.0 - {mib / 1024:.2f}) / 2.0 x 20"}}},
    }


def sample_report():
    levels = [
        _level("F16", 258.9, 16.0, 0.342, 16.1, 0.0, 0.0, 0.0, "negligible", 61.0, 55.0),
        _level("Q8_0", 138.1, 8.5, 0.341, 16.2, 0.0021, -0.1, -0.4, "negligible", 98.0, 64.2),
        _level("Q6_K", 131.0, 6.56, 0.338, 16.4, 0.0074, -0.4, -1.1, "negligible", 104.0, 65.1),
        _level("Q5_K_M", 107.6, 5.69, 0.333, 16.9, 0.0182, -0.9, -2.3, "acceptable", 118.0, 67.0, unsettled="negligible"),
        _level("Q4_K_M", 100.6, 4.89, 0.326, 17.6, 0.0391, -1.6, -3.9, "acceptable", 126.0, 68.4),
        _level("Q3_K_M", 89.7, 3.91, 0.301, 19.8, 0.112, -4.1, -8.8, "concerning", 133.0, 61.3),
        _level("Q2_K", 77.5, 3.35, 0.254, 27.4, 0.341, -8.8, -17.0, "unacceptable", 141.0, 49.8),
    ]
    levels[0]["is_baseline"] = True
    levels[0]["benchmark_delta_pp"] = None
    levels[0]["generation"] = None
    # Interrupted runs: Q6_K never got a bench record, Q3_K_M no generation record.
    for key in ("speed", "cost", "score"):
        levels[2][key] = None
    levels[5]["generation"] = None
    return {
        "schema": "llama-pajamas/matrix-report/1",
        "tool": {"name": "llama-pajamas", "version": "0.1.0-test"},
        "model": {"source": "HuggingFaceTB/SmolLM2-135M-Instruct", "name": "SmolLM2-135M-Instruct <script>x()</script>",
                  "architecture": "llama", "parameters": 134515008},
        "suite": {"name": "quick", "ctx_size": 512, "ppl_chunks": 16, "mc_subset": 500, "gen_prompts": 32,
                  "bench": {"n_prompt": 128, "n_gen": 64, "repetitions": 3}, "deploy_ctx": 2048},
        "baseline": {"level": "F16", "why": "the checkpoint's own precision"},
        "key_metric": {"name": "rouge_l", "metrics": ["rouge_l", "bleu"],
                       "description": "mean ROUGE-L F1 of each answer against the baseline's, per prompt, paired"},
        "tier_rule": {"thresholds": [
            {"tier": "negligible", "min_benchmark_pp": -1.0, "min_generation_pct": -3.0},
            {"tier": "acceptable", "min_benchmark_pp": -3.0, "min_generation_pct": -7.0},
            {"tier": "concerning", "min_benchmark_pp": -6.0, "min_generation_pct": -12.0}],
            "description": "TR125 §13: the worse of the benchmark and the generation tiers; below concerning is unacceptable"},
        "machines": [{"cpu_model": "Intel(R) Xeon(R) Platinum 8488C", "logical_cores": 2, "memory_bytes": 8 * 1024**3,
                      "os": "Linux 6.1 x86_64"}],
        "cost": {"usd_per_hour": 0.035, "source": "TR125's $0.035/hr (RTX 4080 tier)"},
        "levels": levels,
        "accuracy_cliff": {"level": "Q3_K_M", "last_safe": "Q4_K_M", "size_pp": 2.5},
        "memory_tiers": [
            {"name": "2 GB", "usable_gb": 0.8, "best": "Q4_K_M", "verdict": "PASS", "reason": "highest score among levels that fit"},
            {"name": "1 GB", "usable_gb": 0.25, "best": "Q2_K", "verdict": "MARGINAL", "reason": "fits with 12% headroom"},
            {"name": "512 MB", "usable_gb": 0.1, "best": None, "verdict": None, "reason": "no level fits"}],
        "recommendation": {"level": "Q4_K_M", "reasons": [
            "highest weighted score (68.4) among levels no worse than acceptable",
            "1.6 pp below F16 on pooled MMLU + ARC, 3.9% on ROUGE-L",
            "2.1x F16's generation speed at 39% of its size"],
            "ranking": [{"level": "Q4_K_M", "score": 68.4}, {"level": "Q5_K_M", "score": 67.0},
                        {"level": "Q8_0", "score": 64.2}]},
        "records": {"dirs": ["records/"], "count": 19},
    }


def render_html(driver, report, tmp_path, name="report"):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(report))
    result = subprocess.run([driver, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    page = tmp_path / f"{name}.html"
    page.write_text(result.stdout)
    return page


def chromium(tmp_path, page, *mode):
    """One headless run; returns (stdout, the console lines it logged)."""
    args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
            *mode, page.as_uri()]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return result.stdout, console


class ChartPoints(HTMLParser):
    """Per <svg id>, the data-level of each element with class "point" inside it."""

    def __init__(self):
        super().__init__()
        self.charts, self._open = {}, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg":
            self._open.append(attrs.get("id"))
            self.charts.setdefault(attrs.get("id"), [])
        elif self._open and "point" in (attrs.get("class") or "").split():
            self.charts[self._open[-1]].append(attrs.get("data-level"))

    def handle_endtag(self, tag):
        if tag == "svg" and self._open:
            self._open.pop()


def test_console_check_sees_errors(tmp_path):
    """The console check below is not vacuous: a page that throws is caught by it."""
    page = tmp_path / "throws.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>throw new Error('deliberate')</script>")
    _, console = chromium(tmp_path, page, "--dump-dom")
    assert any("deliberate" in line for line in console), console


def test_renders_with_one_point_per_level_and_no_console_errors(html_driver, tmp_path):
    report = sample_report()
    page = render_html(html_driver, report, tmp_path)

    dom, console = chromium(tmp_path, page, "--dump-dom")
    assert console == []
    assert "<script" not in page.read_text()  # the hostile model name came out escaped
    assert "SmolLM2-135M-Instruct &lt;script&gt;" in dom
    parser = ChartPoints()
    parser.feed(dom)
    levels = report["levels"]
    with_accuracy = [l["level"] for l in levels if l["accuracy"]["pooled"]]
    with_speed = [l["level"] for l in levels if l["speed"]]
    assert sorted(parser.charts["quality-vs-size"]) == sorted(with_accuracy)
    assert sorted(parser.charts["speed-vs-size"]) == sorted(with_speed)
    assert "Q6_K" not in parser.charts["speed-vs-size"]
    for level in levels:
        assert f'data-level="{level["level"]}"' in dom

    png = tmp_path / "report.png"
    _, console = chromium(tmp_path, page, f"--screenshot={png}", "--window-size=1280,2600")
    assert console == []
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000  # a blank page compresses to a few KB


def test_a_report_with_nothing_measured_still_renders(html_driver, tmp_path):
    report = copy.deepcopy(sample_report())
    for level in report["levels"]:
        level.update(speed=None, generation=None, tier=None, score=None, cost=None, perplexity=None, kld_mean=None)
        level["accuracy"] = {"mmlu": None, "arc_challenge": None, "pooled": None}
    report.update(accuracy_cliff=None, recommendation={"level": None, "reasons": [], "ranking": []})
    page = render_html(html_driver, report, tmp_path, "empty")
    dom, console = chromium(tmp_path, page, "--dump-dom")
    assert console == []
    parser = ChartPoints()
    parser.feed(dom)
    assert parser.charts["quality-vs-size"] == [] and parser.charts["speed-vs-size"] == []
    assert "No level recommended" in dom and "—" in dom
