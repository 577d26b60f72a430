"""Shared pieces of the benchmarks (and of the load tests in tests/): the machine, percentiles,
a results db with N earlier runs, `python main.py serve` as a subprocess, and a caller that plays
a call over loopback HTTP the way Twilio does (signed, following the TwiML).

Everything here is bounded: servers are waited for with deadlines, HTTP has timeouts, calls have
a maximum number of requests.
"""
import copy
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import http.client
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

SAMPLE_SUITE = ROOT / "testSuite" / "testSalesCall.json"
ACCOUNT_SID = "AC" + "0" * 32


# ------------------------------------------------------------------ figures

def percentile(values, p):
    """The p-th percentile (0-100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.2f}"


def machine():
    """One line describing this machine, for bench/README.md."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")


def load():
    """The 1, 5 and 15 minute load averages: other work on this machine skews every figure."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def peak_rss_mb_of(pid):
    """A live process's peak resident set (VmHWM) in MiB, from /proc; None elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds_of(pid):
    """A live process's CPU time so far (user + system, all its threads), from /proc; None
    elsewhere. CPU per request is what a server costs whatever else the machine runs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def schedstat_of(pid):
    """(seconds on a CPU, seconds runnable but waiting for one) summed over a live process's
    threads, from /proc/PID/task/*/schedstat; (0, 0) elsewhere. The wait is what the rest of
    the machine (other processes, and this process's own threads beyond the cores) cost it."""
    ran = waited = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                fields = (task / "schedstat").read_text().split()
            except OSError:
                continue
            ran, waited = ran + int(fields[0]), waited + int(fields[1])
    except OSError:
        pass
    return ran / 1e9, waited / 1e9


def children_of(pid):
    """The pids of a live process's children, from /proc (empty elsewhere)."""
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


# ------------------------------------------------------------------ a results db with history

def sample_documents():
    """Real documents: the sample suites run offline once (a serve run and an offline run look
    alike, an offline one carries a transcript and coverage too)."""
    import tempfile
    from app.runner import Job, OfflineRunner
    from app.store import ResultStore
    from app.suite import load_suites
    from app.targets import resolve_target
    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore(Path(tmp) / "db.json")
        suites, _ = load_suites([str(ROOT / "testSuite")])
        jobs = [Job(s, resolve_target(suite_target=s.target)) for s in suites]
        docs = OfflineRunner(store).run(jobs).documents
        store.close()
    return docs


def write_history(path, count, templates=None):
    """A TinyDB file at `path` holding `count` finished runs shaped like real ones."""
    templates = templates or sample_documents()
    table = {}
    for i in range(count):
        doc = copy.copy(templates[i % len(templates)])
        day, second = divmod(i, 86400)
        stamp = f"2025-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{second // 3600:02d}:" \
                f"{second // 60 % 60:02d}:{second % 60:02d}.000+00:00"
        doc.update(unique_id=f"history{i:08d}", startTimestamp=stamp, endTimeStamp=stamp,
                   callSid=f"CA{i:032x}")
        table[str(i + 1)] = doc
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({"_default": table}), encoding="utf-8")
    return Path(path).stat().st_size


# ------------------------------------------------------------------ serve as a subprocess

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def suite_copies(directory, count, suite=SAMPLE_SUITE):
    """`count` copies of one suite file in `directory`, for `serve --suites` to queue."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        shutil.copyfile(suite, directory / f"call{i:05d}.json")
    return directory


class Server:
    """`python main.py serve` on a free loopback port, as a subprocess."""

    def __init__(self, db, suites_dir, token=None, port=None, extra_env=None, startup_timeout=60,
                 main=ROOT / "main.py"):
        self.db, self.port = Path(db), port or free_port()
        self.token = token
        env = {**os.environ, "TWILIO_AUTH_TOKEN": token or "", "PUBLIC_URL": "",
               "NGROK_AUTHTOKEN": "", "VALIDATE_SIGNATURES": "true", "PYTHONUNBUFFERED": "1",
               **(extra_env or {})}
        self.db.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = self.db.parent / f"serve-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(main), "serve", "--port", str(self.port),
             "--db", str(self.db), "--suites", str(suites_dir)],
            cwd=self.db.parent, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.started = time.perf_counter()
        self._wait_ready(startup_timeout)
        self.startup_seconds = time.perf_counter() - self.started

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}: {self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop(signal.SIGKILL)
        raise RuntimeError(f"serve did not listen within {timeout} s: {self.output()}")

    def peak_rss_mb(self):
        return peak_rss_mb_of(self.proc.pid)

    def cpu_seconds(self):
        """CPU time of serve and of its child processes (a dashboard process), by pid."""
        return {pid: cpu_seconds_of(pid) or 0.0 for pid in [self.proc.pid, *children_of(self.proc.pid)]}

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Send `sig` and wait (bounded); SIGKILL if it does not exit. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode

    def output(self):
        if not self._log.closed:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


# ------------------------------------------------------------------ a caller over HTTP

class HttpCall:
    """Plays one call against a server over loopback HTTP the way Twilio does: POST /voice, then
    follows the TwiML: a <Gather> is answered with `answer(step)` as SpeechResult (or, for None,
    its <Redirect> is followed), <Hangup/> ends it, then the "completed" status callback.

    Every request is signed with X-Twilio-Signature when `token` is given (over the URL the
    server sees: http://127.0.0.1:PORT/path?query). `think()` is called between requests (the
    IVR talking); `timings` collects (path, seconds, wall-clock start) for every request.
    """

    def __init__(self, port, call_sid, answer, token=None, think=None, timeout=10, max_requests=40):
        self.port, self.call_sid, self.answer, self.token = port, call_sid, answer, token
        self.think = think or (lambda: None)
        self.timeout, self.max_requests = timeout, max_requests
        self.params = {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "From": "+15550001111",
                       "To": "+15557654321", "CallStatus": "in-progress",
                       "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        self.timings = []
        self.statuses = []
        self.hung_up = False
        self._conn = None

    def post(self, path, extra=None):
        """POST `path` (with its query) and return (status, body); signed when there is a token."""
        form = {**self.params, **(extra or {})}
        body = urlencode(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Host": f"127.0.0.1:{self.port}"}
        if self.token:
            url = f"http://127.0.0.1:{self.port}{path}"
            headers["X-Twilio-Signature"] = RequestValidator(self.token).compute_signature(url, form)
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self._conn.request("POST", path, body=body, headers=headers)
                response = self._conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                # A keep-alive connection the server closed; one retry on a fresh one
                # (only safe because the server answers a repeated request as before).
                self.close()
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - started
            self.timings.append((path.split("?", 1)[0], elapsed, time.time() - elapsed))
            self.statuses.append(response.status)
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, data.decode("utf-8", "replace")

    def run(self):
        """Play the call to its hang-up; returns the number of requests made."""
        for _ in play(self.post, self.answer, self.max_requests):
            self.think()
        self.hung_up = True
        self.close()
        return len(self.timings)

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def play(post, answer, max_requests=40):
    """One call as Twilio plays it, a request at a time: a generator that yields after every
    request but the first (the caller thinks or other calls run there). `post(path, extra)`
    returns (status, body); `answer(step)` is what the IVR says in that step (None: silence).
    Raises RuntimeError on a non-200 answer or a call that does not hang up."""
    status, body = post("/voice", None)
    for _ in range(max_requests):
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:200]}")
        next_request = _follow(ET.fromstring(body), answer)
        yield
        if next_request is None:
            break
        status, body = post(*next_request)
    else:
        raise RuntimeError("call did not hang up")
    post("/status", {"CallStatus": "completed", "CallDuration": "10"})


def _follow(root, answer):
    """The request Twilio makes next for this TwiML, or None at <Hangup/> (or the end)."""
    for verb in root:
        if verb.tag == "Hangup":
            return None
        if verb.tag == "Gather":
            action = verb.get("action")
            query = dict(part.split("=", 1) for part in action.split("?", 1)[1].split("&"))
            said = answer(int(query.get("step", 0)))
            if said is not None:
                return action, {"SpeechResult": said, "Confidence": "0.93"}
        elif verb.tag == "Redirect":
            return verb.text, {}
    return None


def suite_answers(suite_path=SAMPLE_SUITE):
    """answer(step) giving the first phrase each step expects (so every step passes)."""
    data = json.loads(Path(suite_path).read_text())
    steps = data["steps"] if isinstance(data, dict) else data
    phrases = [step["expect"][0] if isinstance(step["expect"], list) else step["expect"]
               for step in steps]
    return lambda step: phrases[step] if step < len(phrases) else None


def read_db(path):
    """The runs in a TinyDB results file, as the file holds them."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["_default"]
