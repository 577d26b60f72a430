"""The webhook server: cheroot (CherryPy's WSGI server), sized for the calls a server holds.

Why not waitress: its loop (wasyncore) asks every open connection whether it is readable or
writable and builds a fresh poll set on every turn, and a request takes several turns; with
1,000 connections held open by a proxy (as the ngrok agent keeps them) that was O(1,000) Python
calls per turn on the interpreter lock the handlers need: 2.0-2.4 ms of CPU per request against
1.4-1.5 ms here, webhook p50 9-11 ms against 3-4 ms (`bench/serve_capacity.py`, bench/README.md).
cheroot keeps idle connections registered in an epoll selector, so a turn costs O(connections
with something to read); a worker thread then reads, handles and answers one request itself.

Sizes: `THREADS` workers (a webhook's work is milliseconds); up to `KEEP_ALIVE_LIMIT`
connections kept open between requests (past it a response says `Connection: close`); an idle
connection is closed after `IDLE_SECONDS`; a request that stalls mid-way for `READ_SECONDS`
gets 408 and frees its worker; bodies past `MAX_REQUEST_BYTES` get 413 before they are read.
"""
import logging
import threading

from cheroot import wsgi
from cheroot.makefile import StreamWriter
from cheroot.server import HTTPConnection

from app import MAX_REQUEST_BYTES

log = logging.getLogger(__name__)
THREADS = 32
KEEP_ALIVE_LIMIT = 2000
BACKLOG = 2048
IDLE_SECONDS = 120
READ_SECONDS = 10
STOP_SECONDS = 5               # requests in flight get this long to finish when the server stops


class _ResponseWriter(StreamWriter):
    """cheroot's socket writer, holding what is written until `flush()` (or a full buffer):
    cheroot sends a response's headers and its body in two writes, each a system call that
    gives up the interpreter lock and must win it back, on a server whose threads queue for it."""

    def write(self, data):
        with self._write_lock:
            self._write_buf.extend(data)
            if len(self._write_buf) >= self.buffer_size:
                self._flush_unlocked()
        self.bytes_written += len(data)
        return len(data)


class _Connection(HTTPConnection):
    """A connection whose reads time out after READ_SECONDS (cheroot uses one timeout for an
    idle keep-alive connection, IDLE_SECONDS here, and for a request being read: a request
    stalled for 120 s would hold a worker that long), whose response is sent in one write, and
    which the server counts while it is open."""

    def __init__(self, server, sock, makefile):
        super().__init__(server, sock, makefile)
        sock.settimeout(READ_SECONDS)
        self.wfile = _ResponseWriter(sock, "wb", self.wbufsize)
        server.open_connections.add(self)

    def communicate(self):
        keep = super().communicate()
        try:
            self.wfile.flush()              # before the connection waits for its next request
        except OSError:
            return False
        return keep

    def close(self):
        self.server.open_connections.discard(self)
        super().close()


class WebhookServer(wsgi.Server):
    """A cheroot server for one WSGI app, bound and listening when created (a port in use
    raises OSError then), served by `run()` in the foreground or `start()` in a thread."""

    ConnectionClass = _Connection

    def __init__(self, app, bind, threads=THREADS):
        super().__init__(bind, app, numthreads=threads, max=threads, request_queue_size=BACKLOG,
                         timeout=IDLE_SECONDS, shutdown_timeout=STOP_SECONDS)
        self.max_request_body_size = MAX_REQUEST_BYTES
        self.open_connections = set()
        self._thread, self._bind_error = None, None
        try:
            self.prepare()
        except OSError as exc:               # cheroot's "No socket could be created -- (...)"
            raise (self._bind_error or exc) from None

    def bind(self, family, type, proto=0):  # noqa: A002 - cheroot's signature
        """cheroot's bind, remembering the OSError (e.g. EADDRINUSE) that prepare() words over."""
        try:
            return super().bind(family, type, proto)
        except OSError as exc:
            self._bind_error = exc
            raise

    @property
    def can_add_keepalive_connection(self):
        """Whether a response may keep its connection open: up to KEEP_ALIVE_LIMIT open. cheroot
        counts the connections waiting in its selector under the selector's lock, on every
        response, a lock its loop holds while it walks every connection for timeouts."""
        return self.ready and len(self.open_connections) <= KEEP_ALIVE_LIMIT

    @property
    def effective_port(self):
        return self.bind_addr[1]

    def start(self):
        """Serve in a daemon thread until `stop()`."""
        self._thread = threading.Thread(target=self.serve, name="webhook-server", daemon=True)
        self._thread.start()
        return self

    def run(self):
        """Serve until stopped: the loop runs in a thread, so a signal (Ctrl-C, SIGTERM), which
        Python raises in the main thread, lands here and never inside cheroot's loop; then the
        requests in flight are finished and the server closed."""
        if self._thread is None:
            self.start()
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self):
        super().stop()
        if self._thread is not None:
            self._thread.join(STOP_SECONDS)

    def error_log(self, msg="", level=logging.INFO, traceback=False):
        """cheroot's messages go to the log (it writes them to stderr)."""
        log.log(level, "%s", msg, exc_info=traceback)


def create_server(app, host="127.0.0.1", port=0, path=None, threads=THREADS):
    """A WebhookServer for `app` on host:port, or on the Unix socket `path`."""
    return WebhookServer(app, path or (host, port), threads=threads)
