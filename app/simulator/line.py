"""A virtual phone line between two parties: speech and DTMF take time and cross a recognizer.

A party (an `Endpoint`) is anything that reacts to what it hears: the TwiML executor running a
webhook app, or the Connect flow interpreter. Parties never call each other; they call the line,
and the line delivers, on the virtual clock, what the other side hears:

    party.on_connect()                       the call is up; the party may start talking
    party.on_speech_start()                  the peer began an utterance
    party.on_speech_end(transcript, conf)    the peer finished it; this is what recognition made of it
    party.on_dtmf(digit)                     the peer's tone for one digit ended
    party.on_hangup(reason)                  the call is over (the peer hung up, or a limit hit)

An utterance is delivered whole at its end, even to a listener that began listening halfway:
recognition works on whole utterances, and our prompts are short.
"""
from app.spoken import strip_markup

WORDS_PER_MINUTE = 150
SECONDS_PER_WORD = 60 / WORDS_PER_MINUTE
DTMF_TONE_SECONDS = 0.25   # one tone plus its gap, as Twilio plays <Play digits>
DTMF_PAUSE_SECONDS = 0.5   # the 'w' character


def speech_seconds(text):
    """How long it takes to say `text` at about 150 words a minute (markup is not spoken)."""
    words = len(strip_markup(text).split())
    return max(1, words) * SECONDS_PER_WORD


class Endpoint:
    """Base for a party on a line: every hook does nothing until overridden."""

    name = "party"

    def on_connect(self):
        pass

    def on_speech_start(self):
        pass

    def on_speech_end(self, transcript, confidence):
        pass

    def on_dtmf(self, digit):
        pass

    def on_hangup(self, reason):
        pass


class Line:
    """One call between a caller and an IVR, with a log of who said and pressed what, when."""

    def __init__(self, clock, recognizer=None, call_id="call", noise_key=None):
        self.clock = clock
        self.recognizer = recognizer
        self.call_id = call_id
        self.noise_key = noise_key or call_id   # what seeds this call's recognition noise
        self.parties = ()
        self.log = []            # dicts: {"t", "party", "kind": say|press|hangup, "text"}
        self.closed = False
        self.ended_by = None
        self.started_at = clock.now
        self.end_reason = None
        self.ended_at = None
        self.on_end = []         # callbacks(line) run once when the call ends
        self.listeners = []      # callbacks(line, entry) told of every log entry as it happens
        self._speaking = {}
        self._utterances = 0

    def connect(self, caller, ivr):
        """Put both parties on the line and let each know the call is up."""
        self.parties = (caller, ivr)
        self.started_at = self.clock.now
        for party in self.parties:
            self.clock.call_later(0, self._deliver, party.on_connect)

    def peer(self, party):
        return self.parties[1] if party is self.parties[0] else self.parties[0]

    def is_speaking(self, party):
        return party in self._speaking

    def say(self, party, text, on_done=None, duration=None):
        """`party` speaks `text`; the peer hears the start now and the transcript at its end.

        `duration` overrides the words-a-minute estimate (SSML pauses make a prompt longer).
        """
        if self.closed:
            return 0.0
        duration = speech_seconds(text) if duration is None else duration
        entry = self.record(party, "say", text)
        self._speaking[party] = text
        self._utterances += 1
        peer = self.peer(party)
        self._deliver(peer.on_speech_start)
        self.clock.call_later(duration, self._end_speech, party, text, self._utterances, on_done, entry)
        return duration

    def _end_speech(self, party, text, number, on_done, entry):
        self._speaking.pop(party, None)
        transcript, confidence = self.transcribe(text, number)
        entry["heard"] = transcript      # what the other side's recognizer made of it
        if not self.closed:                 # (after the call, nobody is told: see _deliver)
            self._deliver(self.peer(party).on_speech_end, transcript, confidence)
            self._deliver(on_done)

    def transcribe(self, text, number=0):
        if self.recognizer is None:
            return strip_markup(text), 1.0
        return self.recognizer.transcribe(text, key=f"{self.noise_key}:{number}")

    def play_digits(self, party, digits, on_done=None):
        """`party` sends DTMF; each digit reaches the peer when its tone ends, 'w' waits 0.5 s."""
        if self.closed:
            return 0.0
        self.record(party, "press", digits)
        at = 0.0
        peer = self.peer(party)
        for char in digits:
            if char.lower() == "w":
                at += DTMF_PAUSE_SECONDS
                continue
            at += DTMF_TONE_SECONDS
            self.clock.call_later(at, self._deliver, peer.on_dtmf, char)
        self.clock.call_later(at, self._deliver, on_done)
        return at

    def hangup(self, party=None, reason="hangup"):
        """End the call (`party` None means the network ended it); both sides are told once."""
        if self.closed:
            return
        self.record(party, "hangup", reason)
        self.closed, self.end_reason, self.ended_at = True, reason, self.clock.now
        self.ended_by = party        # None when the network cut the call
        self._speaking.clear()
        for side in self.parties:
            if side is not party:
                side.on_hangup(reason)
        for callback in self.on_end:
            callback(self)

    def release(self):
        """Let go of the parties and callbacks of an ended call, once its owner has read what it
        needs: the log, the end reason and times stay. The parties point at the line and the line
        at them; without this, every ended call waits for Python's cyclic garbage collector,
        which costs an offline run 5-10% of its CPU. After the call nothing is delivered to a
        party (`_deliver`), so nothing needs them (`ended_by` then reads None)."""
        if self.closed:
            self.parties, self.on_end, self.listeners, self.ended_by = (), [], [], None
            self._speaking.clear()

    def record(self, party, kind, text):
        """Add an entry to the call's log and tell the listeners."""
        entry = {"t": round(self.clock.now - self.started_at, 3),
                 "party": getattr(party, "name", "network"), "kind": kind, "text": text}
        self.log.append(entry)
        for listener in self.listeners:
            listener(self, entry)
        return entry

    def _deliver(self, fn, *args):
        if fn is not None and not self.closed:
            fn(*args)
