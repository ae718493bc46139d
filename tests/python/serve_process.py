"""Starting and stopping `llama-pajamas serve` for tests and benchmarks: any free port, the
address read from the --json line it prints when listening."""
import contextlib
import json
import signal
import subprocess


@contextlib.contextmanager
def served(lp_bin, model, *flags, env=None):
    """Yields (base_url, process); the server is stopped with SIGTERM and must exit 0."""
    proc = subprocess.Popen([lp_bin, "serve", str(model), "--port", "0", "--json", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=30)
        raise AssertionError(f"serve did not start: {proc.stderr.read()}")
    info = json.loads(line)
    assert info["event"] == "listening"
    try:
        yield info["url"], proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise AssertionError("serve did not stop within 30 s of SIGTERM")


def prometheus_values(text):
    """{'name{labels}': value} of a Prometheus text exposition."""
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            values[key] = float(value)
    return values
