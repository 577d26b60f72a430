"""Webhook latency: p50 and p99 of `/gather` handling, with 10, 1,000 and 10,000 earlier runs in
the results db, at 1, 50 and 200 concurrent calls.

- in-process: the Flask app with its real ResultStore (flush_delay 0.2 s, the background writer
  running), driven by Flask's test client, signed requests. The calls in progress are
  interleaved in one thread (call 1 step 1, call 2 step 1, ...), so a figure is the handling time
  of one request with that many calls open, queueing excluded.
- HTTP: `python main.py serve` in a subprocess (app/serving.py, a tmp --db, a free port,
  TWILIO_AUTH_TOKEN set so every request is signed and checked), and one client thread per
  concurrent call on loopback playing calls back to back: /voice, /gather per step, /status
  "completed". Between two requests a call "thinks" a random 0.5x to 1.5x `--think` seconds (a
  real call spends at least the step timeout, 3 s, listening between two /gather posts; the
  default 1 s is three times faster than real; a single call thinks 20 ms, for samples). The latency is measured by the client, request
  sent to response read, so it includes the loopback and the client's own scheduling.

Run: python bench/webhook_latency.py [--quick] [--seconds 15] [--think 1.0]
"""
import argparse
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import (SAMPLE_SUITE, HttpCall, Server, load, machine, ms, percentile, play,  # noqa: E402
                   read_db, sample_documents, suite_answers, suite_copies, write_history)

TOKEN = "bench-auth-token-0123456789abcdef"
PUBLIC_URL = "https://bench.example.ngrok.app"


def in_process(history, concurrency, templates, calls, flush_on_finish=False):
    """(gather latencies, voice latencies) for `calls` calls, `concurrency` at a time."""
    from twilio.request_validator import RequestValidator

    from app import create_app
    from app.store import ResultStore
    from app.suite import load_suite
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "db.json"
        write_history(db, history, templates)
        options = {"flush_on_finish": True} if flush_on_finish else {}
        store = ResultStore(db, **options)
        app = create_app({"TESTING": True, "STORE": store, "TWILIO_AUTH_TOKEN": TOKEN,
                          "PUBLIC_URL": PUBLIC_URL})
        runs, client = app.extensions["runs"], app.test_client()
        suite, answer = load_suite(str(SAMPLE_SUITE)), suite_answers()
        validator = RequestValidator(TOKEN)
        gathers, voices = [], []

        def poster(run_id, sid):
            params = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+15550001111",
                      "To": "+15557654321", "CallStatus": "in-progress"}

            def post(path, extra):
                if path == "/voice":
                    path = f"/voice?run={run_id}"
                form = {**params, **(extra or {})}
                headers = {"X-Twilio-Signature": validator.compute_signature(PUBLIC_URL + path, form)}
                started = time.perf_counter()
                response = client.post(path, data=form, headers=headers)
                elapsed = time.perf_counter() - started
                (gathers if path.startswith("/gather") else voices if path.startswith("/voice")
                 else []).append(elapsed)
                return response.status_code, response.get_data(as_text=True)
            return post

        def new_call(i):
            run_id = runs.create(suite, target="bench")
            return play(poster(run_id, f"CA{i:032x}"), answer)

        started = 0
        active = []
        while started < min(concurrency, calls):
            active.append(new_call(started))
            started += 1
        while active:
            call = active.pop(0)
            try:
                next(call)
                active.append(call)
            except StopIteration:
                if started < calls:
                    active.append(new_call(started))
                    started += 1
        store.close()
        return gathers, voices


def over_http(history, concurrency, templates, seconds, think, warmup=1.0):
    """Latencies of /gather over loopback against `serve`, and a check of what was stored."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = tmp / "results" / "db.json"
        write_history(db, history, templates)
        per_call = 4 * think                       # /voice, 2 x /gather, /status
        capacity = int(concurrency * (seconds / per_call + 3)) + 5
        suites = suite_copies(tmp / "suites", capacity)
        server = Server(db, suites, token=TOKEN)
        answer = suite_answers()
        lock = threading.Lock()
        counter = iter(range(capacity))
        gathers, errors, played = [], [], []
        measure_from = time.perf_counter() + warmup
        deadline = measure_from + seconds

        def caller(thread_no):
            rng = random.Random(thread_no)
            # Calls start spread over one think time, not all in the same millisecond.
            time.sleep(rng.uniform(0, think))
            while time.perf_counter() < deadline:
                with lock:
                    number = next(counter, None)
                if number is None:
                    return
                call = HttpCall(server.port, f"CA{number:032x}", answer, token=TOKEN,
                                think=lambda: time.sleep(rng.uniform(0.5 * think, 1.5 * think)))
                began = time.perf_counter()
                try:
                    call.run()
                except Exception as exc:            # noqa: BLE001 - reported below
                    errors.append(repr(exc))
                    return
                with lock:
                    played.append(call.call_sid)
                    gathers.extend(t for path, t, _ in call.timings
                                   if path == "/gather" and began >= measure_from)

        threads = [threading.Thread(target=caller, args=(n,), daemon=True) for n in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + warmup + 60)
        rss = server.peak_rss_mb()
        code = server.stop(signal.SIGINT)   # serve closes its store on SIGINT and SIGTERM alike
        stored = read_db(db).values()
        complete = sum(1 for d in stored if d.get("mode") == "serve" and d["status"] == "complete")
        return {"gathers": gathers, "errors": errors, "calls": len(played), "complete": complete,
                "exit": code, "rss": rss, "startup": server.startup_seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and seconds")
    parser.add_argument("--history", default="10,1000,10000")
    parser.add_argument("--concurrency", default="1,50,200")
    parser.add_argument("--calls", type=int, default=1000, help="in-process calls per figure")
    parser.add_argument("--seconds", type=float, default=15.0, help="HTTP measuring time per figure")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a call's requests")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-inprocess", action="store_true")
    parser.add_argument("--flush-on-finish", action="store_true",
                        help="in-process only: ResultStore(flush_on_finish=True)")
    args = parser.parse_args()
    if args.quick:
        args.calls, args.seconds = 200, 3.0
    histories = [int(n) for n in args.history.split(",")]
    levels = [int(n) for n in args.concurrency.split(",")]
    templates = sample_documents()
    print(f"machine: {machine()}")
    print(f"load before: {load()}")
    print(f"call: {SAMPLE_SUITE.relative_to(SAMPLE_SUITE.parent.parent)} (2 steps: /voice, 2 x /gather, /status)")

    if not args.skip_inprocess:
        print(f"\nin-process (Flask test client, {args.calls} calls per row, interleaved"
              f"{', flush_on_finish' if args.flush_on_finish else ''}): /gather ms")
        print(f"{'history':>8} {'calls':>6} {'p50':>7} {'p99':>7} {'max':>7} {'n':>6}")
        for history in histories:
            for level in levels:
                gathers, _ = in_process(history, level, templates, args.calls, args.flush_on_finish)
                print(f"{history:>8} {level:>6} {ms(percentile(gathers, 50)):>7} "
                      f"{ms(percentile(gathers, 99)):>7} {ms(max(gathers)):>7} {len(gathers):>6}",
                      flush=True)

    if not args.skip_http:
        print(f"\nHTTP (serve subprocess, loopback, {args.seconds:g} s per row after 1 s warm-up, "
              f"think {args.think:g} s mean): /gather ms")
        print(f"{'history':>8} {'calls':>6} {'p50':>7} {'p99':>7} {'max':>7} {'n':>6} "
              f"{'req/s':>6} {'played':>6} {'errors':>6} {'rss MB':>7} {'start s':>7}")
        for history in histories:
            for level in levels:
                # One call alone loads nothing: it plays back to back (20 ms think) for samples.
                think = args.think if level > 1 else 0.02
                r = over_http(history, level, templates, args.seconds, think)
                g = r["gathers"]
                ok = "" if r["complete"] >= r["calls"] else f"  (only {r['complete']} complete!)"
                print(f"{history:>8} {level:>6} {ms(percentile(g, 50)):>7} {ms(percentile(g, 99)):>7} "
                      f"{ms(max(g) if g else None):>7} {len(g):>6} {len(g) * 2 / args.seconds:>6.0f} "
                      f"{r['calls']:>6} {len(r['errors']):>6} {r['rss'] or 0:>7.0f} "
                      f"{r['startup']:>7.2f}{ok}", flush=True)
                for error in r["errors"][:3]:
                    print(f"    error: {error}")
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
