"""app/serving.py: the webhook server holds 1,000+ open connections, keeps them open between
a call's webhooks, and a stalled request cannot keep a worker."""
import http.client
import socket
import time

import pytest

from app import create_app, raise_open_files_limit
from app.serving import KEEP_ALIVE_LIMIT, create_server

HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture
def served(tmp_path):
    app = create_app({"TESTING": True, "RESULTS_DB": str(tmp_path / "db.json")})
    server = create_server(app, host="127.0.0.1", port=0).start()
    yield server
    server.stop()


def ask(sock):
    """Send GET /health on `sock`; the response's head (status line and headers)."""
    sock.sendall(HEALTH)
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b'"ok"}\n'):
        chunk = sock.recv(4096)
        assert chunk, "the server closed the connection"
        data += chunk
    return data.split(b"\r\n\r\n")[0].decode()


def test_a_thousand_connections_stay_open_and_each_is_answered_again(served):
    raise_open_files_limit()
    count = 1100
    assert KEEP_ALIVE_LIMIT > count
    clients = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", served.effective_port), timeout=10)
            head = ask(sock)
            assert head.startswith("HTTP/1.1 200") and "Connection: close" not in head
            clients.append(sock)
        for sock in clients:                      # every one still open, on the same socket
            assert ask(sock).startswith("HTTP/1.1 200")
    finally:
        for sock in clients:
            sock.close()


def test_past_the_keep_alive_limit_a_response_closes_its_connection(tmp_path, monkeypatch):
    monkeypatch.setattr("app.serving.KEEP_ALIVE_LIMIT", 3)
    app = create_app({"TESTING": True, "RESULTS_DB": str(tmp_path / "db.json")})
    server = create_server(app, host="127.0.0.1", port=0).start()
    clients, heads = [], []
    try:
        for _ in range(4):                                # one after the other: 1, 2, 3, 4 open
            clients.append(socket.create_connection(("127.0.0.1", server.effective_port), timeout=10))
            heads.append(ask(clients[-1]))
        assert ["Connection: close" in head for head in heads] == [False, False, False, True]
        assert clients[3].recv(10) == b""                  # and closed it
        assert ask(clients[0]).startswith("HTTP/1.1 200")  # the others stay open
    finally:
        for sock in clients:
            sock.close()
        server.stop()


def test_a_response_is_sent_in_one_write(served, monkeypatch):
    """Headers and body together: each write is a system call that gives up the interpreter
    lock; the response is written out before the connection waits for its next request."""
    from app.serving import _ResponseWriter
    writes = []
    send = _ResponseWriter._flush_unlocked

    def counted(self):
        if self._write_buf:
            writes.append(bytes(self._write_buf))
        return send(self)
    monkeypatch.setattr(_ResponseWriter, "_flush_unlocked", counted)
    sock = socket.create_connection(("127.0.0.1", served.effective_port), timeout=10)
    try:
        for _ in range(2):
            assert ask(sock).startswith("HTTP/1.1 200")
    finally:
        sock.close()
    assert len(writes) == 2 and all(w.startswith(b"HTTP/1.1 200") and w.endswith(b'"ok"}\n') for w in writes)


def test_callbacks_twilio_ignores_keep_the_connection_open(served):
    """/partial and /status answer 200 with a length, so the call's next webhook reuses the
    connection (under waitress, which served before cheroot, a 204 closed it)."""
    conn = http.client.HTTPConnection("127.0.0.1", served.effective_port, timeout=5)
    try:
        form = "CallSid=CA" + "1" * 32 + "&StableSpeechResult=hello&CallStatus=completed"
        for path in ("/partial?run=nope&step=0", "/status?run=nope"):
            conn.request("POST", path, body=form,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200 and response.getheader("Connection") is None
            sock = conn.sock
            assert sock is not None
        conn.request("GET", "/health")
        response = conn.getresponse()
        assert response.read() == b'{"status":"ok"}\n' and conn.sock is sock      # same socket
    finally:
        conn.close()


def test_a_stalled_request_gets_408_and_frees_its_worker(tmp_path, monkeypatch):
    monkeypatch.setattr("app.serving.READ_SECONDS", 0.5)
    app = create_app({"TESTING": True, "RESULTS_DB": str(tmp_path / "db.json")})
    server = create_server(app, host="127.0.0.1", port=0, threads=1).start()
    try:
        stalled = socket.create_connection(("127.0.0.1", server.effective_port), timeout=10)
        stalled.sendall(b"POST /voice HTTP/1.1\r\nHost: 127.0.0.1\r\n")      # never finished
        started = time.monotonic()
        assert stalled.recv(100).startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 5
        other = socket.create_connection(("127.0.0.1", server.effective_port), timeout=10)
        assert ask(other).startswith("HTTP/1.1 200")          # the only worker is free again
        stalled.close()
        other.close()
    finally:
        server.stop()


def test_a_busy_port_raises_oserror(served):
    with pytest.raises(OSError):
        create_server(lambda environ, start: [], host="127.0.0.1", port=served.effective_port)
