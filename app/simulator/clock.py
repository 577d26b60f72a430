"""A virtual clock: a discrete-event scheduler in which waiting costs no wall time.

Every delay in a simulated call (speech, DTMF tones, timeouts, pauses) is an event on this
clock. `run()` jumps from one event to the next, so a 30-second call simulates in milliseconds
and many calls interleave in one thread, deterministically.
"""
import heapq
import itertools
import math
from collections import deque

COMPACT_MIN = 64     # a heap this small is never compacted


def _cancelled(*_args):
    """What a cancelled timer calls instead of its callback: nothing (it is skipped anyway)."""


class Timer(list):
    """A scheduled callback, `[when, seq, fn, args]`; `cancel()` stops it from firing.

    A list, so that it is its own entry in the clock's heap (ordered by time, then by the order
    it was scheduled; no two have the same seq) and costs no Python-level constructor: every
    simulated wait of every call makes one."""

    __slots__ = ()

    cancelled = property(lambda self: self[2] is _cancelled)

    def cancel(self):
        """Stop the callback from firing, and let go of it: a cancelled timer waits in the queue
        until its time (a call's 900 s length limit, long after the call ended), and must not
        keep the call's objects alive until then."""
        self[2], self[3] = _cancelled, ()


class VirtualClock:
    """Events ordered by time, then by the order they were scheduled (FIFO for equal times).

    Most events are due now (a block hands over to the next, a callback answers): those wait in
    a FIFO of their own instead of the heap, which keeps the timed ones. An event due now was
    scheduled after every event already waiting, so the order is still (time, order scheduled):
    the heap's head goes first only when it is due now and was scheduled earlier.
    """

    def __init__(self, start=0.0):
        self.now = float(start)
        self._queue = []          # timers in the future (or due now), a heap
        self._ready = deque()     # timers scheduled for the instant `now`, in order
        self._seq = itertools.count()
        self._compact_at = COMPACT_MIN

    def call_later(self, delay, fn, *args):
        # call_at's work, inlined: every simulated wait of every call comes through here.
        if delay > 0:
            timer = Timer((float(self.now + delay), next(self._seq), fn, args))
            heapq.heappush(self._queue, timer)
            if len(self._queue) > self._compact_at:
                self._compact()
        else:                                                   # NaN and negatives: now
            timer = Timer((self.now, next(self._seq), fn, args))
            self._ready.append(timer)
        return timer

    def call_at(self, when, fn, *args):
        timer = Timer((max(float(when), self.now), next(self._seq), fn, args))
        heapq.heappush(self._queue, timer)
        return timer

    def _compact(self):
        """Drop cancelled timers from the heap, once it has doubled since the last time. Most
        timers are cancelled (a call's 900 s limit, a Gather's unused timeouts), and each would
        otherwise stay until its time, making every push and pop dearer (~700 timers instead of
        ~200 for 50 calls at a time). The order of what fires is the heap's (time, seq) order,
        whatever its layout."""
        queue = self._queue
        queue[:] = [timer for timer in queue if timer[2] is not _cancelled]
        heapq.heapify(queue)
        self._compact_at = max(COMPACT_MIN, 2 * len(queue))

    def pending(self):
        """How many live events are waiting."""
        return sum(1 for timer in (*self._queue, *self._ready) if not timer.cancelled)

    def run(self, until=None, max_events=None):
        """Fire events in order until none are left, `until` is reached, or `max_events` fired.

        Returns the number of events fired. A bound on events is how callers guard against a
        flow that would loop forever.
        """
        fired = 0
        queue, ready, heappop, popleft = self._queue, self._ready, heapq.heappop, self._ready.popleft
        limit = math.inf if max_events is None else max_events
        horizon = math.inf if until is None else until
        while fired < limit:
            if ready and not (queue and queue[0][0] <= self.now and queue[0][1] < ready[0][1]):
                if self.now > horizon:
                    break
                when, _, fn, args = popleft()
            elif queue:
                if queue[0][0] > horizon:
                    self.now = max(self.now, float(until))
                    break
                when, _, fn, args = heappop(queue)
            else:
                break
            if fn is _cancelled:
                continue
            self.now = when
            fn(*args)
            fired += 1
        return fired
