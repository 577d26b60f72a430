import random

from app.simulator.clock import COMPACT_MIN, VirtualClock
from app.simulator.line import DTMF_PAUSE_SECONDS, DTMF_TONE_SECONDS, Endpoint, Line, speech_seconds
from app.simulator.recognizer import Recognizer


class Ear(Endpoint):
    def __init__(self, name, clock):
        self.name, self.clock, self.heard = name, clock, []

    def on_speech_start(self):
        self.heard.append((self.clock.now, "start"))

    def on_speech_end(self, transcript, confidence):
        self.heard.append((self.clock.now, transcript))

    def on_dtmf(self, digit):
        self.heard.append((self.clock.now, f"dtmf {digit}"))

    def on_hangup(self, reason):
        self.heard.append((self.clock.now, f"hangup {reason}"))


def call():
    clock = VirtualClock()
    caller, ivr = Ear("caller", clock), Ear("ivr", clock)
    line = Line(clock, None, "CA1")
    line.connect(caller, ivr)
    return clock, line, caller, ivr


def test_events_fire_in_time_order_and_fifo_for_ties():
    clock, fired = VirtualClock(), []
    clock.call_later(2, fired.append, "late")
    clock.call_later(1, fired.append, "first")
    clock.call_later(1, fired.append, "second")
    clock.call_later(1.5, fired.append, "cancelled").cancel()
    assert clock.run() == 3 and fired == ["first", "second", "late"] and clock.now == 2


def test_run_stops_at_until_and_max_events():
    clock, fired = VirtualClock(), []
    for t in range(5):
        clock.call_at(t, fired.append, t)
    clock.run(until=2.5)
    assert fired == [0, 1, 2] and clock.now == 2.5
    clock.run(max_events=1)
    assert fired == [0, 1, 2, 3]


def test_speech_takes_150_words_a_minute():
    assert speech_seconds("one two three four five") == 2.0
    assert speech_seconds("<speak>hi <break/> there</speak>") == 0.8
    clock, line, caller, ivr = call()
    line.say(ivr, "press one for sales now")
    clock.run()
    assert caller.heard == [(0.0, "start"), (2.0, "press one for sales now")]


def test_digits_arrive_when_each_tone_ends_and_w_waits_half_a_second():
    clock, line, caller, ivr = call()
    done = []
    line.play_digits(caller, "1w2", on_done=lambda: done.append(clock.now))
    clock.run()
    first, second = DTMF_TONE_SECONDS, 2 * DTMF_TONE_SECONDS + DTMF_PAUSE_SECONDS
    assert ivr.heard == [(first, "dtmf 1"), (second, "dtmf 2")] and done == [second]


def test_hangup_tells_the_peer_once_and_silences_the_line():
    clock, line, caller, ivr = call()
    ended = []
    line.on_end.append(lambda l: ended.append(l.end_reason))
    line.say(ivr, "this is never heard to the end")
    clock.call_later(1, line.hangup, caller, "hangup")
    clock.run()
    assert ivr.heard == [(1.0, "hangup hangup")] and caller.heard == [(0.0, "start")]
    line.hangup(ivr, "again")
    assert ended == ["hangup"]
    assert [e["kind"] for e in line.log] == ["say", "hangup"]


def test_recognizer_is_deterministic_per_seed():
    text = "Hello, and welcome to the awesome phone center, press one for sales."
    first = Recognizer("realistic", seed=7).transcribe(text, key="CA1:1")
    assert first == Recognizer("realistic", seed=7).transcribe(text, key="CA1:1")
    assert first[0] == first[0].lower() and "," not in first[0]
    transcripts = {Recognizer("realistic", seed=s).transcribe(text, key="k")[0] for s in range(30)}
    assert len(transcripts) > 1            # the noise really varies with the seed
    assert any(" 1 " in t for t in transcripts) and any(" one " in t for t in transcripts)


def test_recognizer_off_only_strips_markup():
    assert Recognizer("off").transcribe("<speak>Press 1, please.</speak>") == ("Press 1, please.", 1.0)


class _HeapClock:
    """The clock as one heap of (time, order scheduled): the reference for VirtualClock's order."""

    def __init__(self):
        import heapq
        import itertools
        self.heapq, self.now, self.queue, self.seq = heapq, 0.0, [], itertools.count()

    def call_later(self, delay, fn, *args):
        entry = [self.now + delay if delay > 0 else self.now, next(self.seq), fn, args, False]
        self.heapq.heappush(self.queue, entry)
        return entry

    def run(self):
        while self.queue:
            when, _, fn, args, cancelled = self.heapq.heappop(self.queue)
            if not cancelled:
                self.now = when
                fn(*args)


def test_events_due_now_keep_their_place_among_timed_ones():
    """Events due now wait apart from the timed heap; every order of scheduling (from inside
    events, ties with timed events due at the same instant, cancellations) fires as one heap."""

    def play(clock, rng):
        fired, timers = [], []

        def event(name, depth):
            fired.append((clock.now, name))
            for n in range(rng.randrange(3) if depth < 5 else 0):
                delay = rng.choice([0, 0, 0, 0.5, 1, 1, -1, float("nan")])
                timers.append(clock.call_later(delay, event, f"{name}.{n}", depth + 1))
            if timers and rng.random() < 0.2:
                victim = timers[rng.randrange(len(timers))]
                victim.cancel() if hasattr(victim, "cancel") else victim.__setitem__(4, True)
        for n in range(4):
            clock.call_later(rng.choice([0, 1, 0.5]), event, str(n), 0)
        clock.run()
        return fired

    for seed in range(200):
        ours = play(VirtualClock(), random.Random(seed))
        assert ours == play(_HeapClock(), random.Random(seed)) and len(ours) >= 4


def test_a_released_line_keeps_its_log_and_tells_nobody():
    clock, line, caller, ivr = call()
    line.say(ivr, "press one for sales now")        # still being said when the call ends
    clock.run(until=1)
    line.hangup(caller, "hangup")
    line.release()
    clock.run()
    assert line.parties == () and line.on_end == [] and line.ended_by is None
    assert [entry["kind"] for entry in line.log] == ["say", "hangup"]
    assert line.log[0]["heard"] == "press one for sales now"     # the utterance still ended
    assert caller.heard == [(0.0, "start")] and ivr.heard == [(1, "hangup hangup")]


def test_dropping_cancelled_timers_keeps_the_order_of_the_rest():
    """The clock drops cancelled timers from its heap now and then (`_compact`): what fires, and
    in which order (time, then the order scheduled), is what it would be without that."""
    clock, fired, expected = VirtualClock(), [], []
    rng = random.Random(5)
    timers = [(clock.call_later(rng.choice([0.5, 1.0, 2.5, 7.0]), fired.append, n), n) for n in range(40 * COMPACT_MIN)]
    for index, (timer, n) in enumerate(timers):
        if rng.random() < 0.7:
            timer.cancel()
        else:
            expected.append((timer[0], index, n))
    late = []
    while True:                      # push until a push drops the cancelled timers
        size = len(clock._queue)
        late.append(f"late{len(late)}")
        clock.call_later(1.0, fired.append, late[-1])
        if len(clock._queue) <= size:
            break
    assert len(clock._queue) == len(expected) + len(late)
    clock.run()
    order = [n for _, _, n in sorted(expected)]
    assert fired == [n for n in order if timers[n][0][0] <= 1.0] + late + [n for n in order if timers[n][0][0] > 1.0]
