"""Storage errors are setup errors: a full disk, a read-only folder, a directory or a FIFO where
the results file should be give one clear line naming the path and the cause, exit 2, and say
how many runs were kept; `serve` answers 503 and its /health says why, on every failing write.

The full disk is a real one: a small tmpfs (root can mount one; elsewhere RLIMIT_FSIZE makes
writes fail the same way, with EFBIG)."""
import os
import resource
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from app import create_app
from app.store import ResultStore
from tests.phonecall import AUTH_TOKEN, PUBLIC_URL

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def small_fs(directory, kilobytes, read_only=False):
    """A tmpfs of `kilobytes` at `directory` (unmounted after); None where it cannot be mounted."""
    directory.mkdir(parents=True, exist_ok=True)
    options = f"size={kilobytes}k" + (",ro" if read_only else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)],
                          capture_output=True)
    try:
        yield directory if done.returncode == 0 else None
    finally:
        if done.returncode == 0:
            subprocess.run(["umount", "-l", str(directory)], capture_output=True)


def fill(directory, leave_bytes):
    """Fill a file system up to `leave_bytes` free."""
    stats = os.statvfs(directory)
    free = stats.f_bavail * stats.f_frsize
    with open(directory / "filler", "wb") as file:
        file.write(b"x" * max(0, free - leave_bytes))


def run_cli(*args, limit_bytes=None, timeout=120):
    def limit():
        if limit_bytes is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=limit)


def assert_one_clear_line(done, *words):
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert all(word in errors[0] for word in words), errors[0]
    return errors[0]


def test_a_full_disk_before_the_first_run(tmp_path):
    with small_fs(tmp_path / "fs", 256) as fs:
        if fs is None:                                  # not root: a file size limit instead
            done = run_cli("run", "-q", "--db", str(tmp_path / "db.json"), limit_bytes=0)
            assert_one_clear_line(done, str(tmp_path / "db.json"), "File too large")
            return
        fill(fs, 0)
        done = run_cli("run", "-q", "--db", str(fs / "db.json"))
    assert_one_clear_line(done, str(fs), "No space left on device", "no runs were played")


def test_a_disk_that_fills_during_the_runs(tmp_path):
    with small_fs(tmp_path / "fs", 512) as fs:
        if fs is None:
            done = run_cli("run", "-q", "--db", str(tmp_path / "db.json"), limit_bytes=60_000)
            line = assert_one_clear_line(done, "File too large", "run(s) of this command stored")
            return
        fill(fs, 20_000)                                # room for the start and a run or so
        done = run_cli("run", "-q", "--db", str(fs / "db.json"))
        line = assert_one_clear_line(done, str(fs), "No space left on device")
        kept = int(line.split("; ")[-1].split(" of ")[0])
        total = int(line.split(" of ")[1].split()[0])
        assert 0 <= kept < total
        os.unlink(fs / "filler")                        # room again: the journal is taken over
        again = ResultStore(fs / "db.json")
        again.interrupt_unfinished()
        stored = again.runs()
        again.close()
    assert len(stored) >= kept


def test_a_read_only_folder(tmp_path):
    with small_fs(tmp_path / "ro", 64, read_only=True) as fs:
        if fs is None:
            fs = tmp_path / "ro"
            fs.chmod(0o555)
        done = run_cli("run", "-q", "--db", str(fs / "db.json"))
    assert_one_clear_line(done, str(fs), "Read-only file system" if os.geteuid() == 0 else "Permission denied")


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_directory_or_fifo_at_the_results_path(tmp_path, kind):
    db = tmp_path / "db.json"
    db.mkdir() if kind == "directory" else os.mkfifo(db)
    done = run_cli("run", "-q", "--db", str(db), timeout=60)       # a FIFO must not hang it
    assert_one_clear_line(done, str(db), "a directory" if kind == "directory" else "a FIFO")
    for command in (["results"], ["report", "--junit", str(tmp_path / "j.xml")]):
        done = run_cli(*command, "--db", str(db), timeout=60)
        assert_one_clear_line(done, str(db))


def test_serve_answers_503_and_health_says_why_on_every_failing_write(tmp_path, caplog):
    from tests.phonecall import PhoneCall
    with small_fs(tmp_path / "fs", 256) as fs:
        if fs is None:
            pytest.fail("this test needs a tmpfs (run as root)")
        store = ResultStore(fs / "db.json", flush_delay=0.01)
        app = create_app({"TESTING": True, "STORE": store, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                          "PUBLIC_URL": PUBLIC_URL})
        client = app.test_client()
        fill(fs, 0)
        from app.suite import load_suites
        (suite,), _ = load_suites([str(ROOT / "testSuite" / "testSalesCall.json")])
        runs = app.extensions["runs"]
        from app.errors import StorageError
        failures = 0
        for n in range(60):                                 # a page's slack may take a few
            try:
                runs.create(suite, queue=True)
            except StorageError as exc:
                assert str(fs / "db.json") in str(exc) and "No space left on device" in str(exc)
                failures += 1
                response = PhoneCall(client, [], call_sid=f"CA{n:032d}").post("/voice")
                assert response.status_code in (200, 503)          # never a 500
                health = client.get("/health")
                assert health.status_code == 503
                assert "No space left on device" in health.get_json()["reason"]
        assert failures >= 40
        assert caplog.text.count("No space left on device") >= failures     # every one logged
        os.unlink(fs / "filler")
        runs.create(suite, queue=True)                      # writes work again
        assert client.get("/health").status_code == 200
        store.close()


def test_results_are_read_from_a_read_only_folder(tmp_path):
    with small_fs(tmp_path / "fs", 4096) as fs:
        if fs is None:
            pytest.fail("this test needs a tmpfs (run as root)")
        done = run_cli("run", "-q", "--db", str(fs / "db.json"))
        assert done.returncode == 0, done.stderr
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        done = run_cli("results", "--db", str(fs / "db.json"))
    samples = len(list((ROOT / "testSuite").glob("*.json")))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert len(done.stdout.splitlines()) == samples
