"""`serve` runs the dashboard in a child process (app/dashboard_process.py): its pages come from
that process on serve's own port, the webhooks are answered without it, and the child never
outlives serve (SIGTERM, SIGKILL)."""
import base64
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from werkzeug.test import Client

from app import create_app
from app.dashboard import DASHBOARD_SLOTS
from app.dashboard_process import DashboardProcess, route
from bench._util import HttpCall, Server, children_of, read_db, suite_answers, suite_copies

TOKEN = "dashboard-process-token-0123456789"


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=40)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def dashboard_pid(server, timeout=60):
    """The child serve names in its `Dashboard: ... (process N)` line, once it is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in server.output().splitlines():
            if line.startswith("Dashboard: "):
                return int(line.rsplit("process ", 1)[1].rstrip(")"))
        time.sleep(0.1)
    raise AssertionError(f"no dashboard line: {server.output()}")


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def gone_within(pid, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def serving(tmp_path):
    servers = []

    def start(extra_env=None, suites=1):
        server = Server(tmp_path / "results" / "db.json", suite_copies(tmp_path / "suites", suites),
                        token=TOKEN, extra_env=extra_env)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop(signal.SIGTERM)           # serve ends its child and removes its folder


def test_pages_come_from_a_child_process_and_webhooks_do_not_need_it(serving):
    server = serving()
    child = dashboard_pid(server)
    assert child != server.proc.pid and child in children_of(server.proc.pid)
    assert os.sched_getscheduler(child) == os.SCHED_IDLE           # runs only on a CPU nobody wants
    status, page = get(server.port, "/?limit=5")
    assert status == 200 and "<html" in page
    assert get(server.port, "/dashboard/static/dashboard.css")[0] == 200
    assert get(server.port, "/runs/no-such-run")[0] == 404
    os.kill(child, signal.SIGKILL)                 # the pages were the child's: now they are gone
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:             # until its last thread is gone (not just the first)
        status, text = get(server.port, "/")
        if "has ended" in text:
            break
        time.sleep(0.1)
    assert status == 503 and "dashboard process has ended (exit code -9)" in text
    assert get(server.port, "/health") == (200, '{"status":"ok"}\n')
    call = HttpCall(server.port, "CA" + "7" * 32, suite_answers(), token=TOKEN)
    call.run()                                     # a whole call, answered without the child
    assert call.hung_up and set(call.statuses) == {200}


def test_the_password_is_checked_through_serve(serving):
    server = serving({"DASHBOARD_PASSWORD": "s3cret"})
    dashboard_pid(server)
    status, _ = get(server.port, "/")
    assert status == 401
    good = "Basic " + base64.b64encode(b"me:s3cret").decode()
    assert get(server.port, "/", {"Authorization": good})[0] == 200


def test_no_child_when_the_server_faces_the_internet(serving):
    server = serving({"PUBLIC_URL": "https://ivr.example.com"})
    assert get(server.port, "/health")[0] == 200
    assert children_of(server.proc.pid) == [] and "Dashboard:" not in server.output()
    assert get(server.port, "/")[0] == 404


def test_sigterm_stores_the_runs_exits_143_and_ends_the_child(serving):
    server = serving(suites=2)
    child = dashboard_pid(server)
    code = server.stop(signal.SIGTERM)
    assert code == 143
    assert gone_within(child, 10), "the dashboard process outlived serve"
    assert len(read_db(server.db)) == 2                  # the queued runs, stored
    assert "stopped by SIGTERM" in server.output()


def test_a_child_whose_serve_is_killed_stops_by_itself(serving):
    server = serving()
    child = dashboard_pid(server)
    server.stop(signal.SIGKILL)
    assert gone_within(child, 15), "the dashboard process outlived a killed serve"


def test_beyond_its_slots_the_proxy_answers_503_without_asking_the_child(tmp_path):
    dashboard = DashboardProcess.__new__(DashboardProcess)      # the proxy alone, no child
    dashboard._slots = threading.BoundedSemaphore(DASHBOARD_SLOTS)

    def forward(environ):
        raise AssertionError("the child was asked")
    dashboard._forward = forward
    for _ in range(DASHBOARD_SLOTS):
        dashboard._slots.acquire()                # as many pages in flight
    webhooks = create_app({"TESTING": True, "RESULTS_DB": str(tmp_path / "db.json"), "DASHBOARD": False})
    app, seen = route(webhooks, dashboard.proxy), []
    body = b"".join(app({"PATH_INFO": "/", "REQUEST_METHOD": "GET"},
                        lambda status, headers: seen.append((status, dict(headers)))))
    assert seen[0][0].startswith("503") and seen[0][1]["Retry-After"] == "1" and b"busy" in body
    assert Client(app).get("/health").status_code == 200        # through `route`: not the child


def test_a_child_whose_serve_ended_before_it_said_anything_leaves_nothing(tmp_path):
    folder = tmp_path / "dashboard"
    folder.mkdir()
    done = subprocess.run([sys.executable, "-m", "app.dashboard_process", str(folder)], input=b"",
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, b"")
    assert not folder.exists()
