"""Crash safety of every command that writes what a user asked for: SIGKILL at seeded random
points of `quantize` (one output and several), `validate --out`, `validate
--save-reference-logits` and the `matrix` sweep never leaves a partial or corrupt file, and
the next run succeeds; a full disk is one `error:` line (exit 2) and leaves no file.

Outputs go through AtomicFile (src/core/atomic_file.h): a temporary `.NAME.tmp-XXXXXX` next to
NAME, renamed over it when complete. A kill can leave such a temporary (hidden, never under an
output's name); the next writer of NAME removes it. So after a kill a folder may hold complete
outputs and hidden temporaries of them, and after the rerun only complete outputs.

Each case runs once to completion first: that measures its duration, which the kill points are
spread over, and gives the bytes every surviving file must equal (the commands are
deterministic at a fixed thread count)."""
import errno
import hashlib
import json
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import time
import zlib

import pytest
from gguf import GGUFReader

from conftest import run

KILLS = 4  # kill points per case, one in each quarter of its measured duration
TEMPORARY = re.compile(r"^\.(?P<name>.+)\.tmp-[A-Za-z0-9]{6}$")  # AtomicFile's temporaries
THREADS = "2"


def kill_delays(case, duration):
    """One delay in each of KILLS equal slices of the duration, seeded by the case's name."""
    rng = random.Random(zlib.crc32(case.encode()))
    return [duration * (i + rng.random()) / KILLS for i in range(KILLS)]


def timed(args):
    start = time.monotonic()
    run(args)
    return time.monotonic() - start


def wait_for_group_to_exit(pgid, deadline_s=30):
    """Children a killed parent started die with it (PR_SET_PDEATHSIG): wait until none of its
    process group still runs, so nothing writes behind the next run's back."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        alive = []
        for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited while we looked
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(stat.parent.name)
        if not alive:
            return
        time.sleep(0.05)
    raise AssertionError(f"processes {alive} of a killed run still run {deadline_s} s later")


def kill_after(args, delay):
    """Starts `args`, SIGKILLs it after `delay` seconds unless it ended; returns its exit code."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    wait_for_group_to_exit(proc.pid)
    return proc.returncode


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def entries(folder):
    """Every file under `folder`, as paths relative to it."""
    return sorted(p.relative_to(folder) for p in pathlib.Path(folder).rglob("*") if p.is_file())


def split_temporaries(folder, outputs):
    """The files under `folder` that are not temporaries, after checking each temporary is
    hidden and named after an output (so nobody takes it for one)."""
    kept = []
    for rel in entries(folder):
        m = TEMPORARY.match(rel.name)
        if m is None:
            kept.append(rel)
        else:
            assert str(rel.parent / m["name"]) in outputs, f"{rel}: a temporary of no output"
    return kept


def assert_complete_gguf(path):
    """gguf-py parses it and every tensor's bytes lie inside the file."""
    reader = GGUFReader(str(path))
    size = pathlib.Path(path).stat().st_size
    assert reader.tensors, path
    for t in reader.tensors:
        assert t.data_offset + t.n_bytes <= size, f"{path}: {t.name} runs past the end"
    return len(reader.tensors)


# ----- the outputs of each case, checked against its completed run -----------------------------

def same_bytes(reference):
    expected = sha256(reference)
    def check(path):
        assert sha256(path) == expected, f"{path} differs from a completed run's"
    return check


def same_record(reference):
    """A validate record: whole JSON with the completed run's metrics (timings differ)."""
    expected = json.loads(pathlib.Path(reference).read_text())["metrics"]
    def check(path):
        assert json.loads(pathlib.Path(path).read_text())["metrics"] == expected
    return check


def killed_then_rerun(case, command, out, duration, checks, prepare=None):
    """For each kill point: a fresh `out`, the command killed there, then every file in `out`
    is a complete output or a hidden temporary of one; rerun, and only complete outputs remain.
    `checks` maps each output (relative to `out`) to its check."""
    outputs = set(checks)
    for delay in kill_delays(case, duration):
        if out.exists():
            shutil.rmtree(out)
        if prepare:
            prepare(out)
        code = kill_after(command(out), delay)
        assert code in (0, -signal.SIGKILL), f"exit {code} after {delay:.2f} s"
        for rel in split_temporaries(out, outputs) if out.exists() else []:
            assert str(rel) in outputs, f"{rel}: not an output of the command"
            checks[str(rel)](out / rel)
        run(command(out))
        assert {str(p) for p in entries(out)} == outputs, f"after the rerun (killed at {delay:.2f} s)"
        for name, check in checks.items():
            check(out / name)


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    """About 5,500 tokens of plain words: eight windows of 512 for the matrix quick suite."""
    path = tmp_path_factory.mktemp("text") / "text.txt"
    path.write_text(" ".join(f"the quick brown fox jumps over the lazy dog {i}" for i in range(400)) + "\n")
    return path


def test_quantize_one_output(lp_bin, smollm2_gguf, tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    command = lambda d: [lp_bin, "quantize", smollm2_gguf, "-m", "Q4_K_M", "-o", str(d / "x.gguf"), "-t", THREADS]
    duration = timed(command(ref))
    assert_complete_gguf(ref / "x.gguf")
    killed_then_rerun("quantize-one", command, tmp_path / "out", duration, {"x.gguf": same_bytes(ref / "x.gguf")},
                      prepare=lambda d: d.mkdir())


def test_quantize_several_outputs(lp_bin, smollm2_gguf, tmp_path):
    ref = tmp_path / "ref"
    command = lambda d: [lp_bin, "quantize", smollm2_gguf, "-m", "Q4_K_M,Q8_0", "-o", str(d), "-t", THREADS]
    duration = timed(command(ref))
    names = sorted(p.name for p in ref.iterdir())
    assert len(names) == 2, names
    for n in names:
        assert_complete_gguf(ref / n)
    killed_then_rerun("quantize-several", command, tmp_path / "out", duration, {n: same_bytes(ref / n) for n in names})


def validate_command(lp_bin, model, text, *extra):
    return [lp_bin, "validate", model, "--text", str(text), "-c", "64", "--chunks", "8", "--metrics", "perplexity",
            "-t", THREADS, *extra]


def test_validate_out(lp_bin, smollm2_gguf, text_file, tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    command = lambda d: validate_command(lp_bin, smollm2_gguf, text_file, "--out", str(d / "result.json"))
    duration = timed(command(ref))
    assert "perplexity" in json.loads((ref / "result.json").read_text())["metrics"]
    killed_then_rerun("validate-out", command, tmp_path / "out", duration, {"result.json": same_record(ref / "result.json")},
                      prepare=lambda d: d.mkdir())


def test_validate_save_reference_logits(lp_bin, smollm2_gguf, text_file, tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    command = lambda d: validate_command(lp_bin, smollm2_gguf, text_file, "--save-reference-logits", str(d / "base.logits"))
    duration = timed(command(ref))
    # The completed file is one our reader takes: the model against its own saved logits.
    kld = run([lp_bin, "validate", smollm2_gguf, "--text", str(text_file), "-c", "64", "--chunks", "8", "--metrics", "kld",
               "--reference-logits", str(ref / "base.logits"), "-t", THREADS, "--json"])
    assert abs(json.loads(kld.stdout)["metrics"]["kld"]["kl_divergence"]["mean"]["value"]) < 1e-4
    killed_then_rerun("validate-logits", command, tmp_path / "out", duration,
                      {"base.logits": same_bytes(ref / "base.logits")}, prepare=lambda d: d.mkdir())


# ----- matrix: a sweep killed anywhere resumes --------------------------------------------------

MATRIX_LEVELS = "F16,Q8_0"
MATRIX_STEPS = 2 * 3 + 1 * 2 + 1  # model, mc, bench per level; text, gen but the baseline; its reference
MATRIX_SCRATCH = ("tmp", "matrix.log")  # the sweep's own scratch folder (cleared when it starts) and its log


@pytest.fixture(scope="module")
def tiny_long_context_model(fixtures_dir, tmp_path_factory):
    """The tiny random llama with a 4,096-token context: the quick suite's generate-scored MMLU
    prompts need about 1,000 tokens and the fixture declares 512. Sweeps it in about a second."""
    model = tmp_path_factory.mktemp("model") / "tiny"
    shutil.copytree(fixtures_dir / "tiny_models" / "llama", model)
    config = json.loads((model / "config.json").read_text())
    config["max_position_embeddings"] = 4096
    (model / "config.json").write_text(json.dumps(config))
    return model


def matrix_outputs(out, expected=None):
    """The sweep's files, relative to `out`, less its scratch and the hidden temporaries a kill
    left, each of which must be one of an `expected` output (a completed sweep leaves none)."""
    kept = []
    for rel in entries(out):
        if rel.parts[0] in MATRIX_SCRATCH:
            continue
        m = TEMPORARY.match(rel.name)
        if m is None:
            kept.append(rel)
        else:
            assert expected is not None and rel.parent / m["name"] in expected, f"{rel}: a temporary of no output"
    return kept


def check_matrix_file(path, reference):
    """One surviving sweep file: deterministic ones equal the completed sweep's, the rest parse."""
    name = path.name
    if path.suffix in (".gguf", ".logits") or name.startswith("prompts-"):
        assert sha256(path) == sha256(reference), f"{path} differs from a completed sweep's"
    elif path.suffix == ".json":
        record = json.loads(path.read_text())
        if path.parent.name == "records":
            assert record["schema"] == "llama-pajamas/matrix-step/1" and "result" in record, path
    elif path.suffix == ".jsonl":
        for line in path.read_text().splitlines():
            json.loads(line)
    elif path.suffix == ".html":
        assert path.read_text().rstrip().endswith("</html>"), path
    else:
        assert path.stat().st_size > 0, path


def matrix_events(stderr):
    """The JSON line matrix prints for every finished step when stderr is not a terminal."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def quality(report):
    return {level["level"]: (level["accuracy"], level["kld_mean"], level["perplexity"]) for level in report["levels"]}


def test_matrix_killed_sweep_resumes(lp_bin, tiny_long_context_model, text_file, tmp_path):
    command = lambda d: [lp_bin, "matrix", str(tiny_long_context_model), "--levels", MATRIX_LEVELS, "--suite", "quick",
                         "--text", str(text_file), "-t", THREADS, "-o", str(d)]
    ref = tmp_path / "ref"
    duration = timed(command(ref))
    expected = matrix_outputs(ref)
    whole = json.loads((ref / "report.json").read_text())
    assert whole["records"]["count"] == MATRIX_STEPS
    for model in (ref / "models").iterdir():
        assert_complete_gguf(model)
    out = tmp_path / "out"
    for delay in kill_delays("matrix", duration):
        if out.exists():
            shutil.rmtree(out)
        code = kill_after(command(out), delay)
        assert code in (0, -signal.SIGKILL), f"exit {code} after {delay:.2f} s"
        survivors = matrix_outputs(out, expected) if out.exists() else []
        for rel in survivors:
            assert rel in expected, f"{rel}: not an output of the sweep"
            check_matrix_file(out / rel, ref / rel)
        records = {p.name: p.stat().st_mtime_ns for p in (out / "records").glob("*.json")} if out.exists() else {}
        # As a killed sweep of other levels leaves it: no step of this sweep writes that name again.
        (out / "models").mkdir(parents=True, exist_ok=True)
        (out / "models" / ".tiny-Q2_K.gguf.tmp-AbC123").write_bytes(b"half a model")

        resumed = subprocess.run(command(out), capture_output=True, text=True)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        finished = matrix_events(resumed.stderr)
        assert len(finished) == MATRIX_STEPS
        # What the killed run finished is reused, not recomputed, and its record not rewritten.
        assert sum(e["reused"] for e in finished) == len(records), f"killed at {delay:.2f} s"
        for name, mtime in records.items():
            assert (out / "records" / name).stat().st_mtime_ns == mtime, name
        assert matrix_outputs(out) == expected, f"after the resumed sweep (killed at {delay:.2f} s)"
        for rel in expected:
            check_matrix_file(out / rel, ref / rel)
        report = json.loads((out / "report.json").read_text())
        assert report["records"]["count"] == MATRIX_STEPS
        assert quality(report) == quality(whole)


# ----- a full disk --------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """An 8 MiB tmpfs: room for a model's header and first tensors but not the model (105 MB), nor
    the reference logits (24 MB), so writes fail part-way. Needs root."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill (needs root): {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def fill(disk):
    """Leaves not one free block on `disk`, for outputs small enough to fit any free space."""
    with open(disk / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e


def assert_disk_full_error(result, output):
    assert result.returncode == 2, f"exit {result.returncode}: {result.stderr[-2000:]}"
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("error: "), result.stderr[-2000:]
    assert "no space left on device" in errors[0].lower() and str(output) in errors[0], errors[0]


@pytest.mark.parametrize("methods", ["Q4_K_M", "Q4_K_M,Q8_0"])
def test_quantize_on_a_full_disk(lp_bin, smollm2_gguf, small_disk, methods):
    out = small_disk / "x.gguf" if "," not in methods else small_disk / "models"
    result = run([lp_bin, "quantize", smollm2_gguf, "-m", methods, "-o", str(out), "-t", THREADS], check=False)
    assert_disk_full_error(result, out)
    assert [p.name for p in small_disk.rglob("*") if p.is_file()] == []


def test_validate_out_on_a_full_disk(lp_bin, smollm2_gguf, text_file, small_disk):
    (small_disk / "out").mkdir()
    fill(small_disk)
    out = small_disk / "out" / "result.json"
    result = run(validate_command(lp_bin, smollm2_gguf, text_file, "--out", str(out)), check=False)
    assert_disk_full_error(result, out)
    assert list((small_disk / "out").iterdir()) == []


def test_save_reference_logits_on_a_full_disk(lp_bin, smollm2_gguf, text_file, small_disk):
    out = small_disk / "base.logits"
    result = run(validate_command(lp_bin, smollm2_gguf, text_file, "--save-reference-logits", str(out)), check=False)
    assert_disk_full_error(result, out)
    assert list(small_disk.iterdir()) == []
