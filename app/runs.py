"""The runs a server knows: queued suites, calls in progress, and their saving after each change.

Webhook threads come and go; a run outlives them. This registry maps a run id (in our webhook
URLs) and a CallSid (in Twilio's requests) to its `CallSession`, serializes each session's
changes with its own lock, saves the run after every change, and tells listeners (the console,
the live runner) of each change.
"""
import logging
import threading
import time
from collections import deque

from app.ids import new_id
from app.engine import TWILIO_FAILURES, CallSession

log = logging.getLogger(__name__)
_WALL_AT_START = time.time() - time.monotonic()


def steady_time():
    """Seconds since the epoch that never jump: the wall clock read once, advanced by
    time.monotonic. A step's wait is a difference of two readings, so an NTP step or a manual
    clock change during a call can neither fail a correct step nor store a negative wait."""
    return _WALL_AT_START + time.monotonic()


class RunManager:
    def __init__(self, store, clock=steady_time):
        self.store, self.clock = store, clock
        self._sessions = {}          # run id -> CallSession
        self._by_call = {}           # CallSid -> run id
        self._locks = {}             # run id -> Lock
        self._queue = deque()        # run ids waiting for a call nobody placed from here
        self._lock = threading.Lock()
        self.listeners = []          # callables(session) told after every change
        self.save_changes = True     # False: only a run's creation is saved here, and whoever
                                     # closes it saves the final run (offline runs, app/runner.py)

    def create(self, suite, target=None, extra=None, queue=False):
        """Register a run for `suite` and save it as queued; `queue` offers it to unplaced calls."""
        run_id = new_id()
        session = CallSession(suite, run_id, self.clock, target=target, extra=extra)
        with self._lock:
            self._sessions[run_id], self._locks[run_id] = session, threading.Lock()
            if queue:
                self._queue.append(run_id)
        self.store.save(session.document())
        return run_id

    def session(self, run_id):
        return self._sessions.get(run_id)

    def answer(self, call_sid, run_id=None):
        """/voice: start or resume this call's run; (run id, reply), or None with nothing to run."""
        run_id = self._run_for_call(call_sid, run_id)
        if run_id is None:
            return None
        return run_id, self._change(run_id, lambda session: session.answer(call_sid))

    def hear(self, run_id, call_sid, step, text, confidence=None):
        return self._for_call(run_id, call_sid, lambda s: s.hear(step, text, confidence))

    def partial(self, run_id, call_sid, step, text):
        """Keep a partial transcript; False for an unknown call. Not saved: nothing was judged."""
        if self._session_for(run_id, call_sid) is None:
            return False
        with self._locks[run_id]:
            self._sessions[run_id].partial(step, text)
        return True

    def silence(self, run_id, call_sid, step):
        return self._for_call(run_id, call_sid, lambda s: s.silence(step))

    def call_status(self, call_sid, status, run_id=None):
        """/status: returns False for a call this server does not know: one that answered a run,
        or one we placed for it (its callSid noted) and that never answered (busy, no-answer).
        A queued run no call has answered cannot be closed by a status for another CallSid."""
        run_id = self._by_call.get(call_sid) or (run_id if self._placed(run_id, call_sid) else None)
        if run_id is None:
            return False
        if status == "completed" or status in TWILIO_FAILURES:
            self._change(run_id, lambda session: session.call_ended(status))
        return True

    def stop(self, run_id, status, reason, **extra):
        """Close a run from outside (refused, stalled, interrupted), keeping any extra keys.
        A run already closed, with nothing to add, is left alone (no save)."""
        if self._sessions[run_id].finished and not extra:
            return

        def close(session):
            session.extra.update(extra)
            session.stop(status, reason)
        self._change(run_id, close)

    def annotate(self, run_id, **extra):
        """Add keys to a run's document (transcript, coverage, ...), final or not."""
        self._change(run_id, lambda session: session.extra.update(extra))

    def forget(self, run_id):
        """Drop a finished run from memory once it is stored: offline runs of many calls then use
        the memory of a few. Later requests for it get the answer for an unknown call."""
        with self._lock:
            session = self._sessions.pop(run_id, None)
            self._locks.pop(run_id, None)
            if session is not None and self._by_call.get(session.call_sid) == run_id:
                del self._by_call[session.call_sid]

    def _run_for_call(self, call_sid, run_id):
        with self._lock:
            if call_sid in self._by_call:
                return self._by_call[call_sid]
            if run_id is None and self._queue:
                run_id = self._queue.popleft()
            elif run_id in self._queue:
                self._queue.remove(run_id)
            if run_id not in self._sessions or self._sessions[run_id].status != "queued":
                return None
            self._by_call[call_sid] = run_id
            return run_id

    def _session_for(self, run_id, call_sid):
        """The run's session if this call is the one that answered it (via /voice)."""
        session = self._sessions.get(run_id)
        if session is None or session.call_sid is None or session.call_sid != call_sid:
            return None
        return session

    def _placed(self, run_id, call_sid):
        """Whether this run's call, placed from here, has this CallSid (noted as `callSid`)."""
        session = self._sessions.get(run_id)
        return session is not None and (session.call_sid or session.extra.get("callSid")) == call_sid

    def _for_call(self, run_id, call_sid, change):
        if self._session_for(run_id, call_sid) is None:
            return None
        return self._change(run_id, change)

    def _change(self, run_id, change):
        session = self._sessions[run_id]
        with self._locks[run_id]:
            result = change(session)
            if self.save_changes:
                self.store.save(session.document())
        for listener in self.listeners:
            listener(session)
        return result
