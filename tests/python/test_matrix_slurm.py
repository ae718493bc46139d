"""`matrix --scheduler slurm` on a real single-node Slurm cluster started here (Debian's
slurm-wlm: slurmctld and slurmd on localhost, from a slurm.conf generated in a temporary
folder, stopped at the end): SmolLM2 at three levels of the quick suite (on a few MMLU
subjects, ARC questions and WikiText windows, to stay short) gives the same report as the local
loop, with the text and mc steps in two shards each (array tasks, merged in a stage of their own);
a job cancelled with scancel mid-sweep is submitted again by the sweep's finish job and nothing
finished is computed again; a second submission submits nothing. Locally, the same sweep with
--shards 3 merges to the unsharded records and report, and a lost shard reruns alone with its merge."""
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import run

LEVELS = "F16,Q8_0,Q4_K_M"
DATA = pathlib.Path(os.environ.get("LP_SHARED_DATA", pathlib.Path(__file__).resolve().parents[3] / "shared" / "data"))
SUBJECTS = ["abstract_algebra", "anatomy", "astronomy", "college_biology"]
# A model, the reference, per level mc and bench, per level but the baseline text and gen.
STEPS = 3 + 1 + 3 * 2 + 2 * 2
# With --shards N, each of the 2 text and 3 mc steps is N shards and a merge.
QUALITY = [("text", "Q8_0"), ("text", "Q4_K_M"), ("mc", "F16"), ("mc", "Q8_0"), ("mc", "Q4_K_M")]
SLURM_SHARDS = 2
SLURM_STEPS = STEPS + len(QUALITY) * SLURM_SHARDS
SLURM_TOOLS = ["slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """Four MMLU subjects, six ARC-Challenge questions and three perplexity windows' worth of
    WikiText-2: every step runs, in seconds."""
    root = tmp_path_factory.mktemp("data")
    for split in ("test", "dev"):
        (root / "mmlu" / split).mkdir(parents=True)
        for s in SUBJECTS:
            os.symlink(DATA / "mmlu" / split / f"{s}_{split}.csv", root / "mmlu" / split / f"{s}_{split}.csv")
    arc = root / "arc" / "ARC-Challenge"
    arc.mkdir(parents=True)
    lines = (DATA / "arc" / "ARC-Challenge" / "ARC-Challenge-Test.jsonl").read_text().splitlines(keepends=True)
    (arc / "ARC-Challenge-Test.jsonl").write_text("".join(lines[:6]))
    text = root / "wiki.txt"
    text.write_text((DATA / "wikitext-2-raw" / "wiki.test.raw").read_text()[:8000])
    return root, text


def matrix_args(lp_bin, model, out, small_data, *extra):
    data, text = small_data
    return [lp_bin, "matrix", str(model), "--levels", LEVELS, "--suite", "quick", "--no-code", "-t", "1",
            "--data-dir", str(data), "--text", str(text), "-o", str(out), *extra]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """slurmctld + slurmd on localhost with two CPUs, no accounting (sacct has nothing:
    --status falls back to scontrol), auth/none (no munge daemon needed)."""
    missing = [t for t in SLURM_TOOLS if not shutil.which(t) and not os.path.exists(f"/usr/sbin/{t}")]
    if missing:
        pytest.skip(f"Slurm is not installed ({', '.join(missing)} missing): scripts/setup.sh installs slurm-wlm")
    if os.getuid() != 0:
        pytest.skip("slurmd must run as root to start jobs, and these tests do not run as root")
    d = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool"):
        (d / sub).mkdir()
    conf = d / "slurm.conf"
    conf.write_text(f"""ClusterName=lptest
SlurmctldHost=localhost
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
NodeName=localhost CPUs=2 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(conf)
    sbin = lambda t: shutil.which(t) or f"/usr/sbin/{t}"
    daemons = [subprocess.Popen([sbin(t), "-D", "-f", str(conf)], stdout=subprocess.DEVNULL,
                                stderr=open(d / f"{t}.err", "w")) for t in ("slurmctld", "slurmd")]
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            state = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True).stdout.strip()
            if state == "idle":
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"the test cluster did not come up: {(d / 'slurmctld.log').read_text()[-2000:]}")
        yield d
    finally:
        subprocess.run(["scancel", "--user=root"], capture_output=True)
        for p in daemons:
            p.send_signal(signal.SIGTERM)
        for p in daemons:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if old is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old


def events(stderr):
    """The JSON line matrix prints per finished step when stderr is not a terminal."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def status(lp_bin, out):
    return json.loads(run([lp_bin, "matrix", "--status", str(out), "--json"]).stdout)


def without_timings(report):
    """The report less what depends on how fast this run happened to be and where it was written."""
    r = json.loads(json.dumps(report))
    for level in r["levels"]:
        for key in ("speed", "cost", "score"):
            level.pop(key, None)
        level["file"].pop("path")
    for key in ("recommendation", "records"):
        r.pop(key)
    r["model"].pop("source", None)
    return r


@pytest.fixture(scope="module")
def local_sweep(lp_bin, smollm2_gguf, small_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "out"
    t0 = time.time()
    result = subprocess.run(matrix_args(lp_bin, smollm2_gguf, out, small_data), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    print(f"local sweep: {time.time() - t0:.0f} s")
    return out


@pytest.fixture(scope="module")
def slurm_sweep(lp_bin, smollm2_gguf, small_data, cluster, tmp_path_factory):
    """The sweep submitted to the cluster; once a quality step's job runs it is cancelled with
    scancel. Returns the output folder and the records that existed right after the cancel."""
    out = tmp_path_factory.mktemp("slurm-sweep") / "out"
    t0 = time.time()
    submitted = run(matrix_args(lp_bin, smollm2_gguf, out, small_data, "--scheduler", "slurm", "--max-parallel", "2",
                                "--shards", str(SLURM_SHARDS)))
    assert submitted.stdout.startswith(f"submitted {SLURM_STEPS} of {SLURM_STEPS} steps as Slurm jobs"), submitted.stdout
    cancelled, survivors = None, None
    deadline = time.time() + 600
    while time.time() < deadline and not (out / "report.json").exists():
        if cancelled is None:
            steps = status(lp_bin, out)["steps"]
            running = [s for s in steps if s["stage"] == "quality" and s["state"] == "running"]
            if running:
                cancelled = running[0]
                run(["scancel", cancelled["job"]])
                time.sleep(1)
                survivors = {p.name: p.stat().st_mtime_ns for p in (out / "records").glob("*.json")}
        time.sleep(1)
    assert (out / "report.json").exists(), (out / "slurm").glob("logs/*")
    print(f"slurm sweep: {time.time() - t0:.0f} s")
    assert cancelled is not None, "no quality step was seen running"
    return out, cancelled, survivors


def test_slurm_sweep_report_equals_the_local_one(local_sweep, slurm_sweep):
    out, _, _ = slurm_sweep
    local = json.loads((local_sweep / "report.json").read_text())
    remote = json.loads((out / "report.json").read_text())
    assert [l["level"] for l in remote["levels"]] == ["F16", "Q8_0", "Q4_K_M"]
    assert without_timings(remote) == without_timings(local)
    # Speed was measured, by the bench stage's jobs.
    assert all(l["speed"]["tg_tps"] > 0 for l in remote["levels"])


def test_cancelled_step_is_resubmitted_and_nothing_finished_recomputed(lp_bin, slurm_sweep):
    out, cancelled, survivors = slurm_sweep
    jobs = json.loads((out / "slurm" / "jobs.json").read_text())
    second = [j for j in jobs if j["attempt"] == 2]
    resubmitted = [s for j in second for s in j["steps"]]
    # The cancelled step went again, with what waited on it (the benchmarks), and nothing that had its record.
    assert cancelled["step"] in resubmitted
    done_before = {"{}:{}".format(n.split("-")[0].replace("of", "/"), n.split("-")[1]) for n in survivors}
    assert not done_before & set(resubmitted)
    for name, mtime in survivors.items():
        assert (out / "records" / name).stat().st_mtime_ns == mtime, name
    assert len(list((out / "records").glob("*.json"))) == SLURM_STEPS
    s = status(lp_bin, out)
    assert s["scheduler"] == "slurm" and s["counts"] == {"done": SLURM_STEPS} and s["report"]
    stages = {x["step"]: x["stage"] for x in s["steps"]}
    assert stages["mc#2/2:Q8_0"] == "quality" and stages["mc:Q8_0"] == "merge"


def test_resubmitting_a_finished_sweep_submits_nothing(lp_bin, smollm2_gguf, small_data, slurm_sweep):
    out, _, _ = slurm_sweep
    jobs_before = (out / "slurm" / "jobs.json").read_text()
    again = run(matrix_args(lp_bin, smollm2_gguf, out, small_data, "--scheduler", "slurm", "--shards", str(SLURM_SHARDS)))
    assert "nothing to submit" in again.stderr and again.stdout.startswith("report: ")
    assert (out / "slurm" / "jobs.json").read_text() == jobs_before


def test_status_of_a_local_sweep(lp_bin, local_sweep):
    s = status(lp_bin, local_sweep)
    assert s["scheduler"] == "local" and s["counts"] == {"done": STEPS}
    text = run([lp_bin, "matrix", "--status", str(local_sweep)]).stdout
    assert "mc:Q4_K_M" in text and f"{STEPS} steps: {STEPS} done" in text


SHARDS = 3


@pytest.fixture(scope="module")
def sharded_sweep(lp_bin, smollm2_gguf, small_data, local_sweep, tmp_path_factory):
    """The local sweep again with --shards 3, in a folder holding its records but the text and mc
    ones (its models, reference logits, gen and benchmarks are reused): only shards and merges run."""
    out = tmp_path_factory.mktemp("sharded") / "out"
    (out / "records").mkdir(parents=True)
    for p in (local_sweep / "records").glob("*.json"):
        if not p.name.startswith(("text-", "mc-")):
            shutil.copy2(p, out / "records")
    os.symlink(local_sweep / "reference", out / "reference")
    t0 = time.time()
    result = subprocess.run(matrix_args(lp_bin, smollm2_gguf, out, small_data, "--shards", str(SHARDS)),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    print(f"sharded quality steps: {time.time() - t0:.0f} s")
    return out, result


def comparable_result(result, *folders):
    """A validate record less its timings and machine, the output folders' paths made one."""
    r = {k: v for k, v in result.items() if k not in ("started_utc", "elapsed_seconds", "hardware")}
    text = json.dumps(r, sort_keys=True)
    for folder in folders:
        text = text.replace(str(folder), "OUT")
    return json.loads(text)


def test_shards_merge_to_the_unsharded_records_and_report(local_sweep, sharded_sweep):
    out, result = sharded_sweep
    ran = {(e["step"], e["level"]) for e in events(result.stderr) if not e["reused"]}
    assert ran == {(f"{s}#{i}/{SHARDS}", l) for s, l in QUALITY for i in range(1, SHARDS + 1)} | set(QUALITY)
    names = lambda folder, pattern: sorted(p.name for p in (folder / "records").glob(pattern))
    assert len(names(out, f"*#*of{SHARDS}-*.json")) == SHARDS * len(QUALITY)
    # The merges are the unsharded records: the same names (keys), the same results but timings.
    merged = names(out, "text-*") + names(out, "mc-*")
    assert merged == names(local_sweep, "text-*") + names(local_sweep, "mc-*") and len(merged) == len(QUALITY)
    for name in merged:
        whole, joined = (json.loads((d / "records" / name).read_text()) for d in (local_sweep, out))
        assert len(joined["merged_from"]) == SHARDS and joined["inputs"] == whole["inputs"]
        assert comparable_result(joined["result"], out, local_sweep) == comparable_result(whole["result"], out, local_sweep)
    for p in (local_sweep / "samples").glob("mc-*.jsonl"):  # the shards' samples joined in the unsharded order
        assert (out / "samples" / p.name).read_bytes() == p.read_bytes()
    local = json.loads((local_sweep / "report.json").read_text())
    sharded = json.loads((out / "report.json").read_text())
    assert without_timings(sharded) == without_timings(local)


def test_a_lost_shard_reruns_alone_with_its_merge(lp_bin, smollm2_gguf, small_data, sharded_sweep):
    out, _ = sharded_sweep
    lost = next((out / "records").glob(f"mc#2of{SHARDS}-Q8_0-*.json"))
    merge = next((out / "records").glob("mc-Q8_0-*.json"))
    lost.unlink()
    before = {p.name: p.stat().st_mtime_ns for p in (out / "records").glob("*.json")}
    states = {s["step"]: (s["stage"], s["state"]) for s in status(lp_bin, out)["steps"]}
    assert len(states) == STEPS + len(QUALITY) * SHARDS
    assert states[f"mc#2/{SHARDS}:Q8_0"] == ("quality", "missing") and states["mc:Q8_0"] == ("merge", "missing")
    assert states[f"mc#1/{SHARDS}:Q8_0"] == ("quality", "done") and states["mc:F16"] == ("merge", "done")
    again = subprocess.run(matrix_args(lp_bin, smollm2_gguf, out, small_data, "--shards", str(SHARDS)),
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert {(e["step"], e["level"]) for e in events(again.stderr) if not e["reused"]} == {(f"mc#2/{SHARDS}", "Q8_0"),
                                                                                          ("mc", "Q8_0")}
    assert lost.exists() and merge.stat().st_mtime_ns != before[merge.name]
    for name, mtime in before.items():
        if name != merge.name:
            assert (out / "records" / name).stat().st_mtime_ns == mtime, name


@pytest.mark.parametrize("args, message", [
    (["--scheduler", "slurm"], "--scheduler slurm needs Slurm's sbatch on PATH"),
    (["--status", "/nonexistent"], "/nonexistent/sweep.json is missing"),
])
def test_bad_input_is_one_error_line(lp_bin, smollm2_gguf, tmp_path, args, message):
    env = dict(os.environ, PATH="/nonexistent")
    result = subprocess.run([lp_bin, "matrix", str(smollm2_gguf), *args, "-o", str(tmp_path / "out")],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
