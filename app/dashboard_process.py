"""The dashboard of `serve` in a process of its own, so no page can slow the webhooks down.

In one process, a page being rendered held the interpreter lock the webhooks need: with 8
clients reading the biggest page, webhook p99 went from 62 ms to 455 ms (README.md, serve mode). Here
`serve` starts `python -m app.dashboard_process` (`DashboardProcess`), which reads the results
file with a read-only store (safe across processes: app/store.py) and serves the dashboard on a
Unix socket in a private folder, at the lowest CPU priority (SCHED_IDLE; nice 19 where there is
none): when both want a CPU the kernel gives it to the webhooks first. `serve` passes the dashboard's requests to it on the
same port and URLs as before (`route`): at most DASHBOARD_SLOTS at once, the rest answered 503
at once, so dashboard traffic can only ever hold that many of the server's threads, waiting on
a socket without the interpreter lock.

The child never outlives `serve`: its standard input is a pipe from `serve`, and when that
closes (`serve` stopped, or killed with SIGKILL) it stops. It ignores Ctrl-C (the terminal sends
it to both): `serve` stops it. The runs it shows are those in the results file, which `serve`
appends to within a fraction of a second of each change.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from app.dashboard import DASHBOARD_SLOTS

NICE = 19                      # where there is no SCHED_IDLE
START_SECONDS = 30
PROXY_SECONDS = 30             # a page slower than this is answered 504
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade"}
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
SOCKET_NAME = "dashboard.sock"


class DashboardProcess:
    """The child process and the WSGI app (`proxy`) that passes requests to it."""

    def __init__(self, db, password=None):
        self._folder = tempfile.mkdtemp(prefix="ivr-dashboard-")       # mode 0700: ours only
        self.socket_path = os.path.join(self._folder, SOCKET_NAME)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "app.dashboard_process", self._folder],
                                     stdin=subprocess.PIPE, env=env)
        options = {"db": str(Path(db).resolve()), "password": password}
        try:
            self.proc.stdin.write(json.dumps(options).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:                     # it ended at once: wait_ready() says so
            pass
        self._slots = threading.BoundedSemaphore(DASHBOARD_SLOTS)

    @property
    def pid(self):
        return self.proc.pid

    def wait_ready(self, timeout=START_SECONDS):
        """True once the child answers on its socket; False if it exited or took too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with socket.socket(socket.AF_UNIX) as probe:
                    probe.connect(self.socket_path)
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self, timeout=5):
        """End the child (closing its pipe asks it to stop; SIGKILL if it does not) and
        remove its folder."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout)
        shutil.rmtree(self._folder, ignore_errors=True)

    def proxy(self, environ, start_response):
        """A WSGI app: the request answered by the child, or 503 when DASHBOARD_SLOTS are in
        use or the child does not answer."""
        if self._slots.acquire(blocking=False):
            status, headers, body = self._answer(environ)
        else:
            status, headers, body = _text("503 Service Unavailable", "the dashboard is busy, try again\n")
        start_response(status, headers)
        return [body]

    def _answer(self, environ):
        """(status, headers, body) from the child, holding the slot acquired for it."""
        try:
            return self._forward(environ)
        except socket.timeout:
            return _text("504 Gateway Timeout", "the dashboard took too long\n")
        except OSError as exc:
            return _text("503 Service Unavailable", self._unavailable(exc))
        finally:
            self._slots.release()

    def _unavailable(self, error):
        code = self.proc.poll()
        if code is None:
            return f"the dashboard is starting or busy, try again ({error.strerror or error})\n"
        return f"the dashboard process has ended (exit code {code}); the webhooks are served\n"

    def _forward(self, environ):
        conn = _UnixConnection(self.socket_path, timeout=PROXY_SECONDS)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length > 0 else None
            conn.request(environ["REQUEST_METHOD"], environ.get("REQUEST_URI") or _uri(environ),
                         body=body, headers=_request_headers(environ))
            response = conn.getresponse()
            data = response.read()
            headers = [(name, value) for name, value in response.getheaders()
                       if name.lower() not in HOP_BY_HOP]
            return f"{response.status} {response.reason}", headers, data
        finally:
            conn.close()


def route(webhooks, dashboard):
    """One WSGI app: the webhooks' own paths (/voice, /health, ...) to `webhooks` (a Flask
    app), every other path to `dashboard`. A set lookup: webhooks pay nothing for it."""
    own = {rule.rule for rule in webhooks.url_map.iter_rules() if "<" not in rule.rule}

    def app(environ, start_response):
        target = webhooks if environ.get("PATH_INFO", "") in own else dashboard
        return target(environ, start_response)
    return app


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _request_headers(environ):
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
               if key.startswith("HTTP_")}
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    return {name: value for name, value in headers.items() if name.lower() not in HOP_BY_HOP}


def _uri(environ):
    from urllib.parse import quote
    path = quote(environ.get("PATH_INFO", "").encode("latin-1"))
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


def _text(status, message):
    return status, [("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "1"),
                    ("Content-Length", str(len(message.encode())))], message.encode()


# ── the child ───────────────────────────────────────────────────────────────────────────────

def main():
    """The child, given its folder: options on the first line of stdin, then serve on the
    folder's socket until stdin closes; the folder is removed however it ends (serve removes
    it too, unless it was killed)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _lowest_priority()
    folder = sys.argv[1]
    try:
        line = sys.stdin.buffer.readline()
        if line:                            # empty: serve ended before it said what to serve
            _serve(json.loads(line), os.path.join(folder, SOCKET_NAME))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _serve(options, socket_path):
    from app.dashboard import create_dashboard_app
    from app.errors import IvrTestError
    from app.serving import create_server
    from app.store import ResultStore
    try:
        store = ResultStore(options["db"], readonly=True)
        server = create_server(create_dashboard_app(store, options.get("password")),
                               path=socket_path, threads=DASHBOARD_SLOTS + 2)
    except (IvrTestError, OSError) as exc:  # one line in serve's output: serve says the rest
        print(f"error: the dashboard cannot start: {exc}", file=sys.stderr)
        sys.exit(2)
    threading.Thread(target=_stop_with_parent, args=(server,), daemon=True).start()
    try:
        server.run()
    finally:
        store.close()


def _lowest_priority():
    """SCHED_IDLE where there is one (Linux): the kernel runs the dashboard on a CPU only when
    nothing else wants it, and counts a CPU that runs only the dashboard as free when a webhook
    thread wakes up, so the thread takes it at once. Elsewhere, nice 19."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(NICE)


def _stop_with_parent(server):
    """Block until the parent's end of stdin closes (it stopped or died), then stop."""
    sys.stdin.buffer.read()
    server.stop()


if __name__ == "__main__":
    main()
