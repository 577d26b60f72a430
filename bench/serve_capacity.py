"""Serving capacity: `python main.py serve` holding --idle open connections (as a proxy or the
ngrok agent keeps them) while --calls calls at a time are played like real calls, then the same
with --dashboard-clients clients reading the dashboard's biggest page as fast as they can.

Each call: POST /voice, then per step a /partial (speech so far) and the /gather, then /status
"completed"; between two requests the call "thinks" 0.5x to 1.5x --think seconds (the IVR
talking; a real call spends at least its step timeout, 3 s). Every request is signed. Reported
per endpoint: count, p50, p99, max (ms, measured by the client, request sent to response read),
non-2xx answers, and the rate actually served against the rate offered.

The machine is shared, so each phase also prints what depends less on its load: the CPU time of
serve (and of its dashboard process) per request, how long serve's threads were runnable but
waited for a CPU (/proc schedstat), and the load average; and, after serve stops, the server's
own clock per request (bench/_timed_serve.py): selector to response written, and of it the
wait for a free worker. Client-side minus server-side is the loopback, the selector's turn and
the client's scheduling.

Everything is on 127.0.0.1 and bounded: --seconds per phase, timeouts on every request.

Run: python bench/serve_capacity.py [--idle 1000] [--calls 200] [--think 1.0] [--seconds 15]
     [--dashboard-clients 8 (0: skip that phase)] [--main OLD/main.py (before/after runs)]
"""
import argparse
import http.client
import json
import multiprocessing
import random
import resource
import socket
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _util import (HttpCall, Server, load, machine, ms, percentile, schedstat_of,  # noqa: E402
                   suite_answers, suite_copies, write_history)

TOKEN = "capacity-token-0123456789abcdef"
ENDPOINTS = ("/voice", "/partial", "/gather", "/status")


class PacedCall(HttpCall):
    """An HttpCall that also posts the partial result Twilio sends before each /gather."""

    def post(self, path, extra=None):
        if path.startswith("/gather") and extra and "SpeechResult" in extra:
            query = path.split("?", 1)[1]
            super().post(f"/partial?{query}", {"UnstableSpeechResult": extra["SpeechResult"][:10],
                                                "SequenceNumber": "1"})
        return super().post(path, extra)


def hold_idle(port, count):
    """`count` keep-alive connections that made one request and stay open."""
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.recv(4096)
        held.append(sock)
    return held


def play_calls(port, concurrency, think, seconds, first_sid):
    """Calls back to back on `concurrency` threads until the deadline; (timings, errors, calls)."""
    deadline = time.monotonic() + seconds
    answer = suite_answers()
    timings, errors, finished = [], [], [0]
    lock = threading.Lock()

    def caller(n):
        rng = random.Random(n)
        time.sleep(rng.uniform(0, think))                   # calls do not all start at once
        i = 0
        while time.monotonic() < deadline:
            call = PacedCall(port, f"CA{first_sid + n:012d}{i:020d}", answer, token=TOKEN, timeout=20,
                             think=lambda: time.sleep(think * rng.uniform(0.5, 1.5)))
            try:
                call.run()
                with lock:
                    finished[0] += 1
            except Exception as exc:                        # noqa: BLE001 - counted
                with lock:
                    errors.append(repr(exc)[:200])
            with lock:
                timings.extend((path, seconds, status) for (path, seconds, _), status
                               in zip(call.timings, call.statuses))
            i += 1
    threads = [threading.Thread(target=caller, args=(n,), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    return timings, errors, finished[0]


def hammer_dashboard(port, clients, stop):
    served, busy, other = [0], [0], [0]

    def reader():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not stop.is_set():
            try:
                conn.request("GET", "/?limit=500")
                response = conn.getresponse()
                response.read()
                (served if response.status == 200 else busy if response.status == 503 else other)[0] += 1
                if response.status == 503:
                    time.sleep(0.01)
            except Exception:                               # noqa: BLE001 - reconnect
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                other[0] += 1
        conn.close()
    threads = [threading.Thread(target=reader, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    return threads, (served, busy, other)


def hammer_process(port, clients, stop, results):
    """hammer_dashboard in a process of its own until `stop` is set; puts [served, busy, other].
    Dashboard readers are other machines: in this client's process they would share its
    interpreter lock with the calls and slow the calls' own clock down."""
    done = threading.Event()
    threads, counts = hammer_dashboard(port, clients, done)
    stop.wait()
    done.set()
    for thread in threads:
        thread.join(30)
    results.put([count[0] for count in counts])


class CpuMeter:
    """CPU seconds spent by serve (per process: the webhooks' and any child) and by this
    client during a phase, with the load average at its end: on a shared machine the wall-clock
    latencies depend on the load, CPU per request much less."""

    def __init__(self, server):
        self.server = server
        self.server_before, self.client_before = server.cpu_seconds(), time.process_time()
        self.sched_before = schedstat_of(server.proc.pid)

    def line(self, requests):
        after = self.server.cpu_seconds()
        spent = {pid: after[pid] - self.server_before.get(pid, 0.0) for pid in after}
        main = spent.pop(self.server.proc.pid, 0.0)
        client = time.process_time() - self.client_before
        per = f"{1000 * main / requests:.2f} ms of webhook-process CPU per request" if requests else ""
        others = "".join(f", child {pid}: {cpu:.1f} s" for pid, cpu in spent.items())
        waited = schedstat_of(self.server.proc.pid)[1] - self.sched_before[1]
        queued = f" ({1000 * waited / requests:.2f} ms per request)" if requests else ""
        return (f"  CPU: serve {main:.1f} s{others}; client {client:.1f} s; {per}; "
                f"serve's threads waited {waited:.1f} s for a CPU{queued}; load {load()}")


def settle(server, quiet=0.1, limit=120):
    """Wait (bounded) until serve uses under `quiet` of a core over half a second: its start
    (queueing every suite, appending them to the file) must not fall in the first phase."""
    started = time.monotonic()
    before = sum(server.cpu_seconds().values())
    while time.monotonic() - started < limit:
        time.sleep(0.5)
        now = sum(server.cpu_seconds().values())
        if now - before < quiet * 0.5:
            break
        before = now
    return time.monotonic() - started


def report(title, timings, errors, finished, seconds, concurrency, think, cpu=None):
    print(f"\n{title}")
    by_path = defaultdict(list)
    bad = defaultdict(int)
    for path, elapsed, status in timings:
        by_path[path].append(elapsed)
        bad[path] += status >= 300
    print(f"  {'endpoint':<9} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'non-2xx':>8}")
    for path in ENDPOINTS:
        values = by_path.get(path, [])
        print(f"  {path:<9} {len(values):>7} {ms(percentile(values, 50)):>8} "
              f"{ms(percentile(values, 99)):>8} {ms(max(values) if values else None):>8} {bad[path]:>8}")
    every = [elapsed for _, elapsed, _ in timings]
    print(f"  {'all':<9} {len(every):>7} {ms(percentile(every, 50)):>8} {ms(percentile(every, 99)):>8}")
    # A call thinks before each /gather (2 steps in the sample): paced calls can at most offer
    # `concurrency / (2 * think)` calls/s; served below that means the server held them up.
    offered = concurrency / (2 * think)
    print(f"  served {len(timings) / seconds:.0f} requests/s, {finished / seconds:.1f} calls/s "
          f"({finished} calls; {concurrency} paced calls at a time offer at most ~{offered:.0f} "
          f"calls/s); errors: {len(errors)}{' e.g. ' + errors[0] if errors else ''}")
    if cpu is not None:
        print(cpu.line(len(timings)))


def server_side(title, path, since, until):
    """The server's own clock for the requests that started in [since, until) (bench/_timed_serve.py):
    handed to the pool -> response written, and of it the wait for a free worker."""
    rows = defaultdict(list)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        start, route, wait, work = json.loads(line)
        if since <= start < until:
            rows[route].append((wait + work, wait))
    print(f"\n{title}: server side (selector handed the request -> response written; of it, "
          f"waiting for a worker)")
    print(f"  {'endpoint':<9} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'wait p99':>9}")
    for route in ENDPOINTS:
        total = [t for t, _ in rows.get(route, [])]
        wait = [w for _, w in rows.get(route, [])]
        print(f"  {route:<9} {len(total):>7} {ms(percentile(total, 50)):>8} {ms(percentile(total, 99)):>8} "
              f"{ms(max(total) if total else None):>8} {ms(percentile(wait, 99)):>9}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, default=1000, help="open connections held")
    parser.add_argument("--calls", type=int, default=200, help="calls at a time")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between a call's requests")
    parser.add_argument("--seconds", type=float, default=15, help="per phase")
    parser.add_argument("--history", type=int, default=20000, help="earlier runs in the db")
    parser.add_argument("--dashboard-clients", type=int, default=8, help="0: no such phase")
    parser.add_argument("--main", type=Path, help="serve this main.py instead (an older checkout, "
                        "for before/after runs; no server-side clock then)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.idle + 1000)), hard))
    print(f"machine: {machine()}")
    print(f"load before: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = tmp / "results" / "db.json"
        write_history(db, args.history)
        calls_needed = int(2 * args.seconds * args.calls / (args.think * 3)) + args.calls * 2
        suites = suite_copies(tmp / "suites", calls_needed)
        timings_file = tmp / "server-timings.jsonl"
        main_py = args.main or HERE / "_timed_serve.py"
        server = Server(db, suites, token=TOKEN, startup_timeout=120, main=main_py,
                        extra_env={"BENCH_TIMINGS": str(timings_file)})
        phases = []
        print(f"serve started in {server.startup_seconds:.2f} s with {args.history} earlier runs "
              f"and {calls_needed} queued suites")
        try:
            settled = settle(server)
            print(f"serve quiet after its start-up work (queueing the suites) in {settled:.1f} s")
            held = hold_idle(server.port, args.idle)
            print(f"holding {len(held)} open connections")
            cpu = CpuMeter(server)
            started = time.time()
            timings, errors, finished = play_calls(server.port, args.calls, args.think, args.seconds, 0)
            phases.append(("paced calls", started, time.time()))
            report(f"{args.calls} paced calls at a time, {len(held)} other connections open:",
                   timings, errors, finished, args.seconds, args.calls, args.think, cpu)
            if args.dashboard_clients:
                spawn = multiprocessing.get_context("spawn")
                stop, counts = spawn.Event(), spawn.Queue()
                hammer = spawn.Process(target=hammer_process, daemon=True,
                                       args=(server.port, args.dashboard_clients, stop, counts))
                hammer.start()
                time.sleep(1)                       # its readers are reading
                cpu = CpuMeter(server)
                started = time.time()
                timings, errors, finished = play_calls(server.port, args.calls, args.think, args.seconds,
                                                       10**6)
                phases.append(("dashboard hammered", started, time.time()))
                stop.set()
                served, busy, other = counts.get(timeout=60)
                hammer.join(30)
                report(f"the same while {args.dashboard_clients} clients (another process) read /?limit=500 "
                       f"as fast as they can ({served} pages served, {busy} answered 503 busy, {other} other):",
                       timings, errors, finished, args.seconds, args.calls, args.think, cpu)
            for sock in held:
                sock.close()
            print(f"\nserve peak RSS: {server.peak_rss_mb():.0f} MB")
        finally:
            code = server.stop()
        print(f"serve exit code after SIGTERM: {code}")
        for title, since, until in phases if not args.main else ():
            server_side(title, timings_file, since, until)
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
