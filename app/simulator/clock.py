"""A virtual clock: a discrete-event scheduler in which waiting costs no wall time.

Every delay in a simulated call (speech, DTMF tones, timeouts, pauses) is an event on this
clock. `run()` jumps from one event to the next, so a 30-second call simulates in milliseconds
and many calls interleave in one thread, deterministically.
"""
import heapq
import itertools
from collections import deque


class Timer:
    """A scheduled callback; `cancel()` stops it from firing."""

    __slots__ = ("when", "fn", "args", "cancelled")

    def __init__(self, when, fn, args):
        self.when, self.fn, self.args, self.cancelled = when, fn, args, False

    def cancel(self):
        """Stop the callback from firing, and let go of it: a cancelled timer waits in the queue
        until its time (a call's 900 s length limit, long after the call ended), and must not
        keep the call's objects alive until then."""
        self.cancelled = True
        self.fn, self.args = None, ()


class VirtualClock:
    """Events ordered by time, then by the order they were scheduled (FIFO for equal times).

    Most events are due now (a block hands over to the next, a callback answers): those wait in
    a FIFO of their own instead of the heap, which keeps the timed ones. An event due now was
    scheduled after every event already waiting, so the order is still (time, order scheduled):
    the heap's head goes first only when it is due now and was scheduled earlier.
    """

    def __init__(self, start=0.0):
        self.now = float(start)
        self._queue = []          # (when, seq, timer) of events in the future (or due now)
        self._ready = deque()     # (seq, timer) of events scheduled for the instant `now`
        self._seq = itertools.count()

    def call_later(self, delay, fn, *args):
        # call_at's work, inlined: every simulated wait of every call comes through here.
        if delay > 0:
            timer = Timer(float(self.now + delay), fn, args)
            heapq.heappush(self._queue, (timer.when, next(self._seq), timer))
        else:                                                   # NaN and negatives: now
            timer = Timer(self.now, fn, args)
            self._ready.append((next(self._seq), timer))
        return timer

    def call_at(self, when, fn, *args):
        timer = Timer(max(float(when), self.now), fn, args)
        heapq.heappush(self._queue, (timer.when, next(self._seq), timer))
        return timer

    def pending(self):
        """How many live events are waiting."""
        return (sum(1 for _, _, timer in self._queue if not timer.cancelled)
                + sum(1 for _, timer in self._ready if not timer.cancelled))

    def run(self, until=None, max_events=None):
        """Fire events in order until none are left, `until` is reached, or `max_events` fired.

        Returns the number of events fired. A bound on events is how callers guard against a
        flow that would loop forever.
        """
        fired = 0
        queue, ready, heappop = self._queue, self._ready, heapq.heappop
        while max_events is None or fired < max_events:
            if ready and not (queue and queue[0][0] <= self.now and queue[0][1] < ready[0][0]):
                if until is not None and self.now > until:
                    break
                timer = ready.popleft()[1]
                when = self.now
            elif queue:
                when, _, timer = queue[0]
                if until is not None and when > until:
                    self.now = max(self.now, float(until))
                    break
                heappop(queue)
            else:
                break
            if timer.cancelled:
                continue
            self.now = when
            timer.fn(*timer.args)
            fired += 1
        return fired
