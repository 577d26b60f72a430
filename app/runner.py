"""Runs suites offline: every call of one invocation on one virtual clock, many at a time.

Each suite becomes a run in the results store and a call on the virtual network. Calls start up
to `concurrency` at once and the next starts when one ends; the clock then plays them all,
instantly in wall time. When a call ends, its transcript, the IVR's outcome and the flow
coverage are added to its run.
"""
import gc
import secrets
import sys
import time
from collections import deque
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from app import create_app
from app.coverage import Coverage
from app.errors import IvrTestError
from app.report import first_failure
from app.simulator.clock import VirtualClock
from app.simulator.connect_call import CallOptions, ConnectCalls, options_for
from app.simulator.fetch import HttpFetcher, twiml_auth_token
from app.simulator.lex import LexBot
from app.simulator.network import VirtualNetwork
from app.simulator.recognizer import Recognizer, suite_noise_key
from app.simulator.twiml_leg import run_facts, twiml_ivr

OFFLINE_URL = "http://ivr-test.offline"
MAX_EVENTS_PER_CALL = 20_000
REPORT_KEYS = ("unique_id", "status", "suite", "file", "target", "passedSteps", "totalSteps",
               "endReason", "virtualSeconds", "wallSeconds", "appError", "setupError", "mode")
SHARED_KEYS = ("status", "suite", "file", "target", "endReason")


@dataclass(frozen=True)
class Job:
    suite: object
    target: object
    options: dict = field(default_factory=dict, compare=False)  # this suite's hours/noise/seed/lambda_responses
    extra: dict = field(default_factory=dict, compare=False)    # keys stored with its run (e.g. invocation)


class OfflineResult:
    """What a run of suites leaves: each run's summary (what the console and the exit code
    need) and its full document read back from the store on demand, so that a finished run
    does not stay in memory. `documents` given here (live runs) are held as they are."""

    def __init__(self, documents=(), coverage=None, wall_seconds=0.0, virtual_seconds=0.0,
                 store=None):
        self.coverage = coverage if coverage is not None else {}    # flow path -> Coverage
        self.wall_seconds, self.virtual_seconds = wall_seconds, virtual_seconds
        self.store, self.run_ids = store, []
        self._held = list(documents)
        self.summaries = [summarize(doc) for doc in self._held]

    @property
    def documents(self):
        """Every run's stored document (offline runs first), read now."""
        if not self.run_ids:
            return list(self._held)
        if hasattr(self.store, "documents"):      # the results store reads them in one pass
            return self.store.documents(self.run_ids) + self._held
        return [self.store.get(run_id) for run_id in self.run_ids] + self._held

    def add(self, run_id, summary):
        """An offline run, stored, in suite order."""
        self.run_ids.append(run_id)
        self.summaries.insert(len(self.run_ids) - 1, summary)

    def extend(self, other):
        """Append another result's runs (the live ones after the offline ones)."""
        self._held.extend(other.documents)
        self.summaries.extend(other.summaries)


def summarize(doc):
    """The part of a run the console, the summary table and the exit code read: a few keys and
    its first failed step (the start and end times only when the virtual duration is missing).
    Repeated strings (suite, file, target) are shared between runs."""
    keys = REPORT_KEYS if "virtualSeconds" in doc else REPORT_KEYS + ("startTimestamp", "endTimeStamp")
    summary = Summary()
    for key in keys:
        if key in doc:
            value = doc[key]
            setattr(summary, key, sys.intern(value) if key in SHARED_KEYS and isinstance(value, str) else value)
    failure = first_failure(doc)
    summary.results = (failure,) if failure else ()
    return summary


class Summary(Mapping):
    """A run's summary, read like the dict of its keys (`summary["status"]`, `.get`, `in`).
    One is held per run until the command ends, so it is a slotted object: about a third of
    the memory of a dict with the same keys (10,000 calls keep 1.6 MB instead of 5.2)."""

    __slots__ = REPORT_KEYS + ("startTimestamp", "endTimeStamp", "results")

    def __getitem__(self, key):
        if key in self.__slots__:
            try:
                return getattr(self, key)
            except AttributeError:
                pass
        raise KeyError(key)

    def __iter__(self):
        return (key for key in self.__slots__ if hasattr(self, key))

    def __len__(self):
        return sum(1 for _ in self)

    def __repr__(self):
        return f"Summary({dict(self)!r})"

    def __getstate__(self):                     # pickled as its keys (workers send summaries)
        return dict(self)

    def __setstate__(self, state):
        for key, value in state.items():
            setattr(self, key, value)


class InOrder:
    """Releases items added out of order (calls end when they end) in the order of their
    index, so output and results keep the order of the suites."""

    def __init__(self, release, start=0):
        self.release, self.next, self._waiting = release, start, {}

    def add(self, index, *item):
        self._waiting[index] = item
        while self.next in self._waiting:
            self.release(*self._waiting.pop(self.next))
            self.next += 1


class GroupCommit:
    """Reports finished runs in batches, each after one fsync of the store's journal.

    A verdict is printed only once its run is on disk (issue 12), and one fsync per run costs
    more than playing a call. So final saves skip the fsync (`durable=False`) and the runs wait
    here, in order, until `size` of them are waiting or `seconds` of wall time have passed since
    the first; then one `make_durable()` covers them all and they are released. Printing is
    delayed by at most a fraction of a second, never reordered."""

    def __init__(self, store, release, size=100, seconds=0.2):
        self.store, self.release, self.size, self.seconds = store, release, size, seconds
        self._waiting, self._since = [], 0.0

    def add(self, *item):
        if not self._waiting:
            self._since = time.perf_counter()
        self._waiting.append(item)
        if len(self._waiting) >= self.size or time.perf_counter() - self._since >= self.seconds:
            self.flush()

    def flush(self):
        """Make every waiting run durable, then release them."""
        if not self._waiting:
            return
        self.store.make_durable()
        waiting, self._waiting = self._waiting, []
        for item in waiting:
            self.release(*item)


class IvrFactory:
    """Builds the IVR's leg for a target, loading each flow and bot once."""

    def __init__(self, clock, hours_open=True, lambda_responses=None, dial=None):
        self.clock, self.hours_open, self.lambda_responses = clock, hours_open, lambda_responses
        self.connect = ConnectCalls(clock, LexBot.load)
        self.dial = dial
        self._http = None   # one keep-alive session for every TwiML target of the run

    def flow(self, path):
        return self.connect.flow(path)

    def maker(self, target, suite=None, hours_open=None, lambda_responses=None):
        """A function line -> IVR endpoint; loading errors surface here, before the call.

        `hours_open` and `lambda_responses` are this job's run options (command line, project
        file, environment); the suite's own call fields (app/simulator/connect_call.py) win."""
        if target.kind == "twiml":
            self._http = self._http or HttpFetcher(auth_token=twiml_auth_token())
            return lambda line: twiml_ivr(self.clock, line, self._http, target, suite, self.dial)
        defaults = CallOptions(
            hours_open=self.hours_open if hours_open is None else hours_open,
            lex_bot=target.lex_bot,
            lambda_responses=self.lambda_responses if lambda_responses is None else lambda_responses)
        return self.connect.maker(target.value, options_for(suite, defaults))

    def close(self):
        if self._http:
            self._http.close()



class OfflineRunner:
    """Plays jobs on one virtual clock, `concurrency` calls at a time, in this process; with
    `workers` > 1, app/parallel.py spreads them over processes.

    Memory stays flat in the number of calls: a run is created when its call starts, and once
    its call ends it is stored, reported and dropped; only its summary is kept. A call's
    intermediate states (answered, each step judged) last milliseconds of wall time, so only
    the queued run (which the next start marks interrupted if this process dies) and the final
    run are written.
    """

    def __init__(self, store, seed=0, noise="realistic", concurrency=10, reporter=None,
                 hours_open=True, lambda_responses=None, max_call_seconds=900, dial=None,
                 wire=False, workers=1):
        self.clock = VirtualClock()
        self.seed, self.noise, self.concurrency = seed, noise, max(1, concurrency)
        self.reporter, self.workers = reporter, max(1, workers)
        self.options = {"seed": seed, "noise": noise, "concurrency": concurrency,
                        "hours_open": hours_open, "lambda_responses": lambda_responses,
                        "max_call_seconds": max_call_seconds, "dial": dial, "wire": wire}
        started = time.time()
        token = secrets.token_hex(16)
        self.store = store
        self.app = create_app({"STORE": store, "CLOCK": lambda: started + self.clock.now,
                               "TWILIO_AUTH_TOKEN": token, "PUBLIC_URL": OFFLINE_URL,
                               "VALIDATE_SIGNATURES": True, "DASHBOARD": False})
        self.runs = self.app.extensions["runs"]
        self.runs.save_changes = False    # the queued run, then the final one (see _close)
        self.network = VirtualNetwork(self.app, self.clock, Recognizer(noise, seed), OFFLINE_URL,
                                      token, max_call_seconds, wire=wire)
        self.ivrs = IvrFactory(self.clock, hours_open, lambda_responses, dial)
        self._recognizers = {(noise, seed): self.network.recognizer}
        self._started_wall = {}
        self.coverage = {}
        self._pending = deque()
        self._live = {}            # run id -> (index, job) of the calls in progress
        self._on_done = None
        if reporter:
            self.runs.listeners.append(reporter.run_changed)

    def run(self, jobs):
        """Play every job; returns an OfflineResult (summaries, documents from the store)."""
        if self.workers > 1:
            from app.parallel import run_parallel
            return run_parallel(self, jobs)
        return self.run_here(jobs)

    def run_here(self, jobs):
        """Play every job in this process."""
        wall = time.perf_counter()
        result = OfflineResult(store=self.store, coverage=self.coverage)

        def publish(run_id, summary):
            result.add(run_id, summary)
            if self.reporter:
                self.reporter.finished(summary)
        batch = GroupCommit(self.store, publish)
        order = InOrder(batch.add)

        def done(index, run_id, document):
            self.store.save(document, durable=False)
            order.add(index, run_id, summarize(document))
        self.play(with_noise_keys(jobs), done)
        batch.flush()
        self.store.flush()
        result.wall_seconds, result.virtual_seconds = time.perf_counter() - wall, self.clock.now
        return result

    def play(self, items, on_done):
        """Play (index, job, noise key) items; `on_done(index, run id, final document)` is called
        as each call ends, in the order they end. The run is forgotten afterwards."""
        self._on_done = on_done
        self._pending.extend(items)
        count = len(self._pending)
        with set_aside_from_gc():
            for _ in range(self.concurrency):
                self._start_next()
            self.clock.run(max_events=MAX_EVENTS_PER_CALL * max(1, count))
        for run_id in list(self._live):
            self._close(run_id, "stalled", "the simulation ended before the run closed")
        self.ivrs.close()

    def _start_next(self):
        """Start calls until one is in progress (a run whose IVR cannot load closes at once)."""
        while self._pending:
            index, job, noise_key = self._pending.popleft()
            options = job.options
            extra = {"seed": options.get("seed", self.seed), "noise": options.get("noise", self.noise),
                     "mode": "offline", **job.extra}
            if getattr(job.suite, "conditions", None):
                extra["conditions"] = job.suite.conditions     # so `snapshot` and `rejudge` know them
            run_id = self.runs.create(job.suite, target=str(job.target), extra=extra)
            self._live[run_id] = (index, job)
            hours = options.get("hours")
            try:
                make = self.ivrs.maker(job.target, job.suite, None if hours is None else hours == "open",
                                       options.get("lambda_responses"))
            except IvrTestError as exc:
                self._close(run_id, "error", str(exc))
                continue
            if job.target.kind == "flow" and job.target.value not in self.coverage:
                self.coverage[job.target.value] = Coverage(self.ivrs.flow(job.target.value))
            self._place(run_id, job, make, noise_key)
            return

    def _place(self, run_id, job, make, noise_key):
        self._started_wall[run_id] = time.perf_counter()
        line, caller, ivr = self.network.place_call(run_id, make, noise_key, self._recognizer(job))
        if self.reporter:
            line.listeners.append(lambda _line, entry: self.reporter.heard(job.suite, entry, run_id))
        line.on_end.append(lambda _line: self.clock.call_later(0, self._finish, run_id, job, line, caller, ivr))

    def _recognizer(self, job):
        """The recognizer of this suite's noise and seed (a suite may set its own)."""
        key = (job.options.get("noise", self.noise), job.options.get("seed", self.seed))
        if key not in self._recognizers:
            self._recognizers[key] = Recognizer(*key)
        return self._recognizers[key]

    def _finish(self, run_id, job, line, caller, ivr):
        extra = {"transcript": line.log, "callEnd": line.end_reason,
                 "virtualSeconds": round(line.ended_at - line.started_at, 3),
                 "wallSeconds": round(time.perf_counter() - self._started_wall.pop(run_id), 4),
                 "ivrOutcome": getattr(ivr, "outcome", None) or line.end_reason,
                 "twilioErrors": [list(e) for e in caller.errors + getattr(ivr, "errors", [])]}
        if job.target.kind == "flow":
            coverage = self.coverage[job.target.value]
            coverage.add(ivr.visited_blocks, ivr.taken_branches)
            extra["coverage"] = coverage.of_call(ivr.visited_blocks, ivr.taken_branches)
        if job.target.kind == "twiml":
            extra.update(run_facts(ivr))
        if line.end_reason == "call-length limit":
            extra["endReason"] = f"call-length limit ({self.network.max_call_seconds:g} s of call)"
        self._close(run_id, "stalled", f"the call ended ({line.end_reason}) but the run did not close",
                    **extra)
        line.release()
        self._start_next()

    def _close(self, run_id, status, reason, **extra):
        """Close the run (if the call did not), hand its final document on, and forget it."""
        self.runs.stop(run_id, status, reason, **extra)
        document = self.runs.session(run_id).document()
        self.runs.forget(run_id)
        index, _job = self._live.pop(run_id)
        self._on_done(index, run_id, document)


@contextmanager
def set_aside_from_gc():
    """Keep what is alive before the calls start (modules, the app, the flows and bots) out of
    the cyclic garbage collector's way while they play: its full collections would otherwise
    walk all of it again and again, for nothing (5-10% of an offline run's CPU). `gc.unfreeze`
    hands it back afterwards, so nothing is kept longer than it would have been."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def with_noise_keys(jobs, start=0):
    """(index, job, noise key) for each job. The key is the suite's content (never its path) and
    which run of that content this is, so the same suite hears the same noise from any folder,
    from one invocation to the next, and across workers."""
    seen = {}
    for index, job in enumerate(jobs, start):
        content = suite_noise_key(job.suite)
        count = seen.get(content, 0)
        seen[content] = count + 1
        yield index, job, f"{content}#{count}"
