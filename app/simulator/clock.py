"""A virtual clock: a discrete-event scheduler in which waiting costs no wall time.

Every delay in a simulated call (speech, DTMF tones, timeouts, pauses) is an event on this
clock. `run()` jumps from one event to the next, so a 30-second call simulates in milliseconds
and many calls interleave in one thread, deterministically.
"""
import heapq
import itertools


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
    """Events ordered by time, then by the order they were scheduled (FIFO for equal times)."""

    def __init__(self, start=0.0):
        self.now = float(start)
        self._queue = []
        self._seq = itertools.count()

    def call_later(self, delay, fn, *args):
        # call_at's work, inlined: every simulated wait of every call comes through here.
        when = self.now + delay if delay > 0 else self.now      # NaN and negatives: now
        timer = Timer(float(when), fn, args)
        heapq.heappush(self._queue, (timer.when, next(self._seq), timer))
        return timer

    def call_at(self, when, fn, *args):
        timer = Timer(max(float(when), self.now), fn, args)
        heapq.heappush(self._queue, (timer.when, next(self._seq), timer))
        return timer

    def pending(self):
        """How many live events are waiting."""
        return sum(1 for _, _, timer in self._queue if not timer.cancelled)

    def run(self, until=None, max_events=None):
        """Fire events in order until none are left, `until` is reached, or `max_events` fired.

        Returns the number of events fired. A bound on events is how callers guard against a
        flow that would loop forever.
        """
        fired = 0
        while self._queue and (max_events is None or fired < max_events):
            when, _, timer = self._queue[0]
            if until is not None and when > until:
                self.now = max(self.now, float(until))
                break
            heapq.heappop(self._queue)
            if timer.cancelled:
                continue
            self.now = when
            timer.fn(*timer.args)
            fired += 1
        return fired
