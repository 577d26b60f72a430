"""Runs suites offline: every call of one invocation on one virtual clock, many at a time.

Each suite becomes a run in the results store and a call on the virtual network. Calls start up
to `concurrency` at once and the next starts when one ends; the clock then plays them all,
instantly in wall time. When a call ends, its transcript, the IVR's outcome and the flow
coverage are added to its run.
"""
import secrets
import time
from collections import deque
from dataclasses import dataclass, field

from app import create_app
from app.coverage import Coverage
from app.errors import IvrTestError
from app.simulator.clock import VirtualClock
from app.simulator.connect_flow import load_flow
from app.simulator.connect_leg import ConnectFlowLeg
from app.simulator.fetch import HttpFetcher
from app.simulator.lex import LexBot
from app.simulator.network import VirtualNetwork, call_params, new_call_sid
from app.simulator.recognizer import Recognizer
from app.simulator.twiml_leg import TwimlLeg

OFFLINE_URL = "http://ivr-test.offline"
MAX_EVENTS_PER_CALL = 20_000


@dataclass(frozen=True)
class Job:
    suite: object
    target: object


@dataclass
class OfflineResult:
    documents: list
    coverage: dict = field(default_factory=dict)    # flow path -> Coverage
    wall_seconds: float = 0.0
    virtual_seconds: float = 0.0


class IvrFactory:
    """Builds the IVR's leg for a target, loading each flow and bot once."""

    def __init__(self, clock, hours_open=True, lambda_responses=None):
        self.clock, self.hours_open, self.lambda_responses = clock, hours_open, lambda_responses
        self._flows, self._bots = {}, {}
        self._http = None   # one keep-alive session for every TwiML target of the run

    def flow(self, path):
        if path not in self._flows:
            self._flows[path] = load_flow(path)
        return self._flows[path]

    def maker(self, target):
        """A function line -> IVR endpoint; loading errors surface here, before the call."""
        if target.kind == "twiml":
            self._http = self._http or HttpFetcher()
            return lambda line: TwimlLeg(self.clock, line, self._http, target.value,
                                         call_params(new_call_sid(), "inbound"), name="ivr")
        flow = self.flow(target.value)
        bot = self._bot(target.lex_bot) if target.lex_bot else None
        return lambda line: ConnectFlowLeg(self.clock, line, flow, lex_bot=bot,
                                           lambda_responses=self.lambda_responses,
                                           hours_open=self.hours_open)

    def close(self):
        if self._http:
            self._http.close()

    def _bot(self, path):
        if path not in self._bots:
            self._bots[path] = LexBot.load(path)
        return self._bots[path]


class OfflineRunner:
    def __init__(self, store, seed=0, noise="realistic", concurrency=10, reporter=None,
                 hours_open=True, lambda_responses=None, max_call_seconds=900, wire=False):
        self.clock = VirtualClock()
        self.seed, self.noise, self.concurrency = seed, noise, max(1, concurrency)
        self.reporter = reporter
        started = time.time()
        token = secrets.token_hex(16)
        self.app = create_app({"STORE": store, "CLOCK": lambda: started + self.clock.now,
                               "TWILIO_AUTH_TOKEN": token, "PUBLIC_URL": OFFLINE_URL,
                               "VALIDATE_SIGNATURES": True})
        self.store, self.runs = store, self.app.extensions["runs"]
        self.network = VirtualNetwork(self.app, self.clock, Recognizer(noise, seed), OFFLINE_URL,
                                      token, max_call_seconds, wire=wire)
        self.ivrs = IvrFactory(self.clock, hours_open, lambda_responses)
        self.coverage = {}
        self._pending = deque()
        self._seen_paths = {}
        if reporter:
            self.runs.listeners.append(reporter.run_changed)

    def run(self, jobs):
        """Play every job; returns an OfflineResult with the stored documents."""
        wall = time.perf_counter()
        run_ids = [self._prepare(job) for job in jobs]
        for _ in range(self.concurrency):
            self._start_next()
        self.clock.run(max_events=MAX_EVENTS_PER_CALL * max(1, len(jobs)))
        self.ivrs.close()
        for run_id in run_ids:
            self.runs.stop(run_id, "stalled", "the simulation ended before the run closed")
        self.store.flush()
        return OfflineResult([self.store.get(r) for r in run_ids], self.coverage,
                             time.perf_counter() - wall, self.clock.now)

    def _prepare(self, job):
        extra = {"seed": self.seed, "noise": self.noise, "mode": "offline"}
        run_id = self.runs.create(job.suite, target=str(job.target), extra=extra)
        try:
            make = self.ivrs.maker(job.target)
        except IvrTestError as exc:
            self.runs.stop(run_id, "error", str(exc))
            return run_id
        if job.target.kind == "flow" and job.target.value not in self.coverage:
            self.coverage[job.target.value] = Coverage(self.ivrs.flow(job.target.value))
        self._pending.append((run_id, job, make, self._noise_key(job)))
        return run_id

    def _noise_key(self, job):
        """The suite's file, and which run of it this is: stable from one invocation to the next."""
        count = self._seen_paths.get(job.suite.path, 0)
        self._seen_paths[job.suite.path] = count + 1
        return f"{job.suite.path}#{count}"

    def _start_next(self):
        if not self._pending:
            return
        run_id, job, make, noise_key = self._pending.popleft()
        line, caller, ivr = self.network.place_call(run_id, make, noise_key)
        if self.reporter:
            line.listeners.append(lambda _line, entry: self.reporter.heard(job.suite, entry, run_id))
        line.on_end.append(lambda _line: self.clock.call_later(0, self._finish, run_id, job, line, caller, ivr))

    def _finish(self, run_id, job, line, caller, ivr):
        extra = {"transcript": line.log, "callEnd": line.end_reason,
                 "virtualSeconds": round(line.ended_at - line.started_at, 3),
                 "ivrOutcome": getattr(ivr, "outcome", None) or line.end_reason,
                 "twilioErrors": [list(e) for e in caller.errors + getattr(ivr, "errors", [])]}
        if job.target.kind == "flow":
            self.coverage[job.target.value].add(ivr.visited_blocks, ivr.taken_branches)
            this_call = Coverage(self.ivrs.flow(job.target.value))
            this_call.add(ivr.visited_blocks, ivr.taken_branches)
            extra["coverage"] = this_call.to_json()
        if line.end_reason == "call-length limit":
            extra["endReason"] = f"call-length limit ({self.network.max_call_seconds:g} s of call)"
        self.runs.stop(run_id, "stalled", f"the call ended ({line.end_reason}) but the run did not close",
                       **extra)
        if self.reporter:
            self.reporter.finished(self.runs.session(run_id).document())
        self._start_next()
