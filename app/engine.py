"""The per-call state machine: which step the caller is on, what it heard, and each verdict.

It knows nothing of HTTP, TwiML or storage, so it can be tested alone and driven by anything
that reports what a call heard: the webhooks (for Twilio or the offline emulator) call it, and
it answers with a `Reply` saying what the caller does next.

The listening rule is the original server's Twilio behaviour: the caller listens until the IVR
has been quiet for the step's `timeout` seconds, then judges everything heard in that window.
A window lasts at most 60 seconds (Twilio's cap on one speech gather), so an IVR that never
stops talking fails the step instead of hanging the call.
"""
import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from app.matching import match

MAX_LISTEN_SECONDS = 60
FINAL_STATUSES = ("complete", "failed", "busy", "no-answer", "canceled", "error", "interrupted",
                  "stalled")
TWILIO_FAILURES = ("busy", "no-answer", "failed", "canceled")


@dataclass(frozen=True)
class Reply:
    """What the caller does next: perform `actions`, then listen for step `listen` or hang up."""
    actions: tuple = ()
    listen: int | None = None
    timeout: float | None = None
    hangup: bool = False


HANGUP = Reply(hangup=True)


@lru_cache(maxsize=1024)
def iso(seconds):
    """Seconds since the epoch as an ISO-8601 UTC timestamp (what db.json stores). Kept for the
    last instants: a step's verdict time is the next step's listening start, and the run's end.

    It is `datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds")`
    (tests/test_engine.py compares them), with the date and time of day made once per second:
    half the cost, and a few of these are made for every step."""
    fraction, whole = math.modf(seconds)
    micro = round(fraction * 1e6)           # as datetime rounds: to the microsecond, half to even
    whole, micro = int(whole) + micro // 1_000_000, micro % 1_000_000
    day_and_time = _SECONDS.get(whole)
    if day_and_time is None:
        if len(_SECONDS) >= 4096:
            _SECONDS.clear()
        day_and_time = _SECONDS[whole] = \
            datetime.fromtimestamp(whole, timezone.utc).isoformat(timespec="seconds")[:-6]
    return f"{day_and_time}.{micro // 1000:03d}+00:00"


_SECONDS = {}       # whole second since the epoch -> "YYYY-MM-DDTHH:MM:SS" (no "+00:00"), the latest few


class CallSession:
    """One run: one suite played over one call. Not thread-safe; callers hold a lock."""

    def __init__(self, suite, run_id, clock=time.time, target=None, extra=None):
        self.suite, self.run_id, self.clock, self.target = suite, run_id, clock, target
        self.extra = dict(extra or {})        # more keys for the stored document (seed, ...)
        self.call_sid = None
        self.call_over = False                # Twilio's final status callback has come
        self.status = "queued"
        self.index = 0
        self.results = []
        self.created_at = clock()
        self.started_at = self.ended_at = None
        self.end_reason = None
        self._window_start = None
        self._pieces = []
        self._partial = ""
        self._replies = {}

    @property
    def finished(self):
        return self.status in FINAL_STATUSES

    def answer(self, call_sid=None):
        """The call is answered (or Twilio asks again): listen for the current step."""
        if self.finished:
            return HANGUP
        if self.status == "queued":
            self.status, self.started_at, self.call_sid = "in-progress", self.clock(), call_sid
        return self._listen()

    def hear(self, step, text, confidence=None, final=True):
        """A transcript for `step`. Pieces within one window are joined; `final` closes it."""
        if self._is_stale(step):
            return self._replay(step)
        self._pieces.append(text.strip())
        if not final:
            return None
        heard = " ".join(piece for piece in self._pieces if piece)
        return self._judge(heard or None, confidence)

    def partial(self, step, text):
        """Twilio's partial result for `step`: everything recognized so far in this window.

        It is kept, not judged: if the call ends before the window closes (an IVR that says
        goodbye and hangs up), the step is judged on it.
        """
        if not self._is_stale(step):
            self._partial = (text or "").strip()

    def silence(self, step):
        """The window for `step` closed with nothing heard (the Gather timed out)."""
        if self._is_stale(step):
            return self._replay(step)
        heard = " ".join(piece for piece in self._pieces if piece)
        return self._judge(heard or None, None)

    def call_ended(self, call_status):
        """Twilio reports the call over. A run with steps left closes; a final run stays as is."""
        self.call_over = True
        if self.finished:
            return
        reason = "call ended" if call_status == "completed" else call_status
        if call_status == "completed" and self._partial:
            self._judge(self._partial, None)
            if self.finished:
                return
        for _ in range(self.index, len(self.suite.steps)):
            self._record(None, None, passed=False, reason=reason)
            self.index += 1
        self._close(call_status if call_status in TWILIO_FAILURES else "failed", reason)

    def stop(self, status, reason):
        """Close the run from outside (a stalled call, an unplaceable call, a server restart)."""
        if not self.finished:
            self._close(status, reason)

    def _is_stale(self, step):
        return step != self.index or self.finished

    def _replay(self, step):
        """A retried or out-of-date request: answer as before and never advance twice."""
        if step in self._replies:
            return self._replies[step]
        return HANGUP if self.finished else self._listen()

    def _listen(self):
        if self._window_start is None:
            self._window_start, self._pieces, self._partial = self.clock(), [], ""
        step = self.suite.steps[self.index]
        return Reply(listen=self.index, timeout=step.timeout)

    def _judge(self, heard, confidence):
        step = self.suite.steps[self.index]
        waited = self.clock() - (self._window_start or self.clock())
        if heard is None:
            passed, verdict, reason = False, None, "timeout"
        elif waited >= MAX_LISTEN_SECONDS:
            passed, verdict, reason = False, None, "listen-limit"
        else:
            verdict = match(step.expect, heard, step.match, step.threshold)
            passed, reason = verdict.passed, (None if verdict.passed else "no-match")
        self._record(heard, verdict, passed, reason, confidence, waited)
        judged = self.index
        self._replies[judged] = self._advance(step, passed)
        return self._replies[judged]

    def _advance(self, step, passed):
        if not passed:
            self._close("failed", self.results[-1]["reason"])
            return HANGUP
        action = () if step.then.kind in ("none", "hangup") else (step.then,)
        self.index += 1
        if self.index >= len(self.suite.steps) or step.then.kind == "hangup":
            self._close("complete", None)
            return Reply(actions=action, hangup=True)
        self._window_start = None
        listen = self._listen()
        return Reply(actions=action, listen=listen.listen, timeout=listen.timeout)

    def _record(self, heard, verdict, passed, reason, confidence=None, waited=None):
        step = self.suite.steps[self.index]
        now = self.clock()
        self.results.append({
            "file": self.suite.path, "step": self.index + 1,
            "status": "passed" if passed else "failed", "actualResult": heard,
            "expected": list(step.expect), "match": step.match,
            "matchedPhrase": verdict.phrase if verdict else None,
            "score": verdict.score if verdict else None,
            "rule": verdict.rule if verdict else None, "ruleDetail": verdict.detail if verdict and not passed else None,
            "diff": verdict.diff if verdict and not passed else None,
            "confidence": _number_or_none(confidence), "reason": reason,
            "action": step.then.to_json() if passed else None,
            "listenStartedAt": iso(self._window_start) if self._window_start else None,
            "judgedAt": iso(now), "waited": round(waited, 3) if waited is not None else None,
        })

    def _close(self, status, reason):
        self.status, self.end_reason, self.ended_at = status, reason, self.clock()
        self._window_start, self._pieces, self._partial = None, [], ""

    def document(self):
        """The run as stored in results/db.json: the original keys plus what was added."""
        steps = self.suite.steps
        current = steps[self.index].instruction if self.index < len(steps) else None
        return {
            "unique_id": self.run_id, "status": self.status,
            "startTimestamp": iso(self.started_at or self.created_at),
            "endTimeStamp": iso(self.ended_at) if self.ended_at else None,
            "currentIndex": self.index, "currentStep": current,
            "instructions": [step.instruction for step in steps],
            "results": list(self.results),
            "file": self.suite.path, "suite": self.suite.name, "target": self.target,
            "callSid": self.call_sid, "endReason": self.end_reason,
            "passedSteps": sum(r["status"] == "passed" for r in self.results),
            "totalSteps": len(steps), **self.extra,
        }


def _number_or_none(value):
    try:
        number = None if value is None else float(value)
    except (TypeError, ValueError):
        return None
    return number if number is None or math.isfinite(number) else None
