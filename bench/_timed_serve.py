"""`python main.py serve` with a server-side clock on every request, for bench/serve_capacity.py.

Each request gets three instants: handed (the selector saw the connection readable and queued it
for a worker), picked (a worker took it), done (the response was written). They are appended
to the file named by BENCH_TIMINGS as JSON lines `[wall start, path, wait, work]` when serve
exits: `wait` (picked - handed) is time waiting for a free worker, `work` (done - picked) the
read, the handler and the write. What the client measures beyond handed->done is the loopback,
the selector's turn and the client's own scheduling. Bench only: nothing here is in `app/`.
"""
import atexit
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import dashboard_process, serving  # noqa: E402

samples, local = [], threading.local()


def _timed_process_conn(original):
    def process_conn(self, conn):
        conn.bench_handed = time.perf_counter()
        return original(self, conn)
    return process_conn


def _timed_communicate(original):
    def communicate(self):
        picked = time.perf_counter()
        handed = getattr(self, "bench_handed", picked)
        local.path = None
        try:
            return original(self)
        finally:
            done = time.perf_counter()
            if local.path:
                samples.append([time.time() - (done - handed), local.path, picked - handed, done - picked])
    return communicate


def _timed_app(app):
    def wsgi(environ, start_response):
        local.path = environ.get("PATH_INFO")
        return app(environ, start_response)
    return wsgi


def _save():
    with open(os.environ["BENCH_TIMINGS"], "a", encoding="utf-8") as out:
        for sample in samples:
            out.write(json.dumps(sample) + "\n")


serving.WebhookServer.process_conn = _timed_process_conn(serving.WebhookServer.process_conn)
serving._Connection.communicate = _timed_communicate(serving._Connection.communicate)  # its flush included
_create = serving.create_server
serving.create_server = lambda app, **options: _create(_timed_app(app), **options)
_route = dashboard_process.route
dashboard_process.route = lambda webhooks, dashboard: _timed_app(_route(webhooks, dashboard))
atexit.register(_save)

if __name__ == "__main__":
    from app.cli import main
    sys.argv[0] = "ivr-test"
    main()
