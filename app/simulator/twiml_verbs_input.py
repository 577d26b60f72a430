"""TwiML verbs that take the caller's input: <Gather> (digits or speech) and <Record>.

Twilio's behaviour (TwiML reference):
- <Gather>: input dtmf (default), speech, or "dtmf speech"; timeout 5; finishOnKey '#' (the empty
  string disables it; pressing only the key is no input); numDigits unlimited; action = current
  document URL; method POST; actionOnEmptyResult false; speechTimeout = timeout, "auto" ends at a
  natural pause (1 s here). Nested Say/Play/Pause play first and input barges in on them; the
  timeout runs after them, and between digits. Speech listening is capped at 60 seconds.
  Invalid timeout/numDigits/speechTimeout are warnings 13313/13314/13327 and take the default.
- <Record>: a beep (playBeep, default true), then records until `timeout` seconds of silence
  (default 5; 0 disables silence detection), a key in finishOnKey (default "1234567890*#"), or
  maxLength seconds (default 3600). The action (default: the current document, POST) gets
  RecordingUrl, RecordingSid, RecordingDuration (whole seconds; trim="trim-silence", the default,
  leaves out the silence before and after the speech) and Digits: the key that ended it, or
  "hangup" when the caller hung up (that request is still sent; its answer is ignored). A
  recording in which the caller said nothing is not stored and the action is not requested:
  the document goes on with the next verb.
"""
from functools import partial
from statistics import mean

from app.ids import new_id
from app.simulator.twiml_attrs import Attributes
from app.simulator.twiml_verbs_prompts import play_prompts

DEFAULT_GATHER_TIMEOUT = 5.0
AUTO_SPEECH_TIMEOUT = 1.0
MAX_SPEECH_SECONDS = 60.0
DEFAULT_RECORD_TIMEOUT = 5.0
DEFAULT_MAX_LENGTH = 3600.0
DEFAULT_RECORD_KEYS = "1234567890*#"
BEEP_SECONDS = 0.5


class Timers:
    """Named virtual-clock timers, restarted and cancelled by name."""

    def __init__(self, clock):
        self.clock, self._timers = clock, {}

    def start(self, name, delay, fn):
        self.cancel(name)
        self._timers[name] = self.clock.call_later(delay, fn)

    def cancel(self, name):
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def cancel_all(self):
        for name in list(self._timers):
            self.cancel(name)


class GatherState:
    """One <Gather> in progress: plays its nested prompts, then collects digits or speech.

    The first kind of input decides the result: after a digit, speech is ignored, and after
    speech starts, digits are ignored. `on_result` gets {"Digits": ...}, {"SpeechResult": ...,
    "Confidence": ...} or None for no input. SpeechResult joins the utterances heard, in order,
    with spaces; Confidence is their mean, because one result stands for all of them.
    """

    PROMPTING, LISTENING, DONE = "prompting", "listening", "done"

    def __init__(self, leg, verb):
        self.leg, self.clock = leg, leg.clock
        attrs = Attributes(verb, leg.warn)
        inputs = (verb.get("input") or "dtmf").lower().split()
        self.wants_speech = "speech" in inputs
        self.wants_dtmf = "dtmf" in inputs or not self.wants_speech
        self.timeout = attrs.number("timeout", DEFAULT_GATHER_TIMEOUT)
        self.speech_timeout = self._speech_timeout(attrs)
        self.num_digits = attrs.count("numDigits", 0, minimum=1) if attrs.has("numDigits") else 0
        self.finish_on_key = verb.get("finishOnKey", "#")
        self.prompts = list(verb)
        partial_url = verb.get("partialResultCallback")
        self.partial_url = leg.resolve(partial_url) if partial_url else None
        self.partial_method = attrs.method("partialResultCallbackMethod")
        self.phase, self.mode = self.PROMPTING, None
        self.digits, self.utterances, self.speaking = "", [], False
        self.on_result = None
        self._timers = Timers(self.clock)

    def _speech_timeout(self, attrs):
        if (attrs.get("speechTimeout") or "").strip().lower() == "auto":
            return AUTO_SPEECH_TIMEOUT
        return attrs.number("speechTimeout", self.timeout)

    def start(self, on_result):
        """Begin; speech already under way when the Gather starts counts as a barge-in."""
        self.on_result = on_result
        if self.wants_speech and self.leg.line.is_speaking(self.leg.line.peer(self.leg)):
            self.mode, self.speaking = "speech", True
            self._listen(wait_for_input=False)
            return
        play_prompts(self.leg, self.prompts, self._prompts_done, "Gather")

    def stop(self):
        """Abandon the Gather without a result (hangup, or the document was replaced)."""
        self.phase = self.DONE
        self._timers.cancel_all()

    def _prompts_done(self):
        if self.phase == self.PROMPTING:
            self._listen()

    def _barge_in(self):
        """Input arrived during the prompts: stop what is queued and listen."""
        self.leg.interrupt()
        self._listen(wait_for_input=False)

    def _listen(self, wait_for_input=True):
        """Prompts are over: start the clocks Twilio starts once it listens."""
        self.phase = self.LISTENING
        if self.wants_speech and self.mode != "dtmf":
            self._timers.start("cap", MAX_SPEECH_SECONDS, self._submit)
        if wait_for_input:
            self._timers.start("wait", self.timeout, self._submit)

    def on_dtmf(self, digit):
        if self.phase == self.DONE or not self.wants_dtmf or self.mode == "speech":
            return
        self.mode = "dtmf"
        if self.phase == self.PROMPTING:
            self._barge_in()
        self._timers.cancel("cap")
        if self.finish_on_key and digit in self.finish_on_key:
            self._submit()
            return
        self.digits += digit
        if self.num_digits and len(self.digits) >= self.num_digits:
            self._submit()
        else:
            self._timers.start("wait", self.timeout, self._submit)  # the inter-digit timeout

    def on_speech_start(self):
        if self.phase == self.DONE or not self.wants_speech or self.mode == "dtmf":
            return
        self.mode, self.speaking = "speech", True
        if self.phase == self.PROMPTING:
            self._barge_in()
        self._timers.cancel("wait")
        self._timers.cancel("silence")

    def on_speech_end(self, transcript, confidence):
        if self.phase == self.DONE or not self.speaking:
            return  # an utterance that began before this Gather listened for speech
        self.speaking = False
        self.utterances.append(((transcript or "").strip(), float(confidence)))
        self._timers.start("silence", self.speech_timeout, self._submit)
        if self.partial_url:
            stable = " ".join(text for text, _ in self.utterances if text)
            self.leg.post_partial(self.partial_url, self.partial_method, stable, len(self.utterances))

    def result(self):
        """The parameters to post to the action, or None when nothing usable was heard."""
        if self.mode == "dtmf" and self.digits:
            return {"Digits": self.digits}
        heard = [(text, conf) for text, conf in self.utterances if text]
        if self.mode == "speech" and heard:
            return {"SpeechResult": " ".join(text for text, _ in heard),
                    "Confidence": str(round(_mean(conf for _, conf in heard), 4))}
        return None

    def _submit(self):
        if self.phase == self.DONE:
            return
        self.stop()
        self.on_result(self.result())


def _mean(values):
    """statistics.mean (exact, so the Confidence string never depends on summing order), with
    the usual single utterance answered at once: mean() works in fractions, ~100 us a Gather."""
    values = list(values)
    return values[0] if len(values) == 1 else mean(values)


def run_gather(leg, verb):
    """<Gather>: input goes to the action (a new document); no input falls through."""
    attrs = Attributes(verb, leg.warn)
    action, method = leg.resolve(verb.get("action")), attrs.method()
    post_empty = attrs.flag("actionOnEmptyResult")
    state = GatherState(leg, verb)
    leg.listen(state)
    state.start(partial(_gather_done, leg, action, method, post_empty))


def _gather_done(leg, action, method, post_empty, result):
    leg.listen(None)
    if result is None and not post_empty:
        leg.next()
    else:
        leg.soon(leg.load, method, action, result or {})


class RecordState:
    """One <Record> in progress: beep, then record until silence, a finish key or maxLength."""

    def __init__(self, leg, verb):
        self.leg, self.clock = leg, leg.clock
        attrs = Attributes(verb, leg.warn)
        self.action, self.method = leg.resolve(verb.get("action")), attrs.method()
        self.timeout = attrs.number("timeout", DEFAULT_RECORD_TIMEOUT)
        self.max_length = attrs.number("maxLength", DEFAULT_MAX_LENGTH, minimum=1)
        self.finish_on_key = self._keys(verb, attrs)
        self.beep = attrs.flag("playBeep", True)
        self.trim = (verb.get("trim") or "trim-silence").strip() != "do-not-trim"
        self.started = self.first_speech = self.last_speech = None
        self.speaking = self.done = False
        self._timers = Timers(self.clock)

    @staticmethod
    def _keys(verb, attrs):
        keys = verb.get("finishOnKey", DEFAULT_RECORD_KEYS)
        if all(key in DEFAULT_RECORD_KEYS for key in keys):
            return keys
        attrs.invalid("finishOnKey", keys, DEFAULT_RECORD_KEYS)
        return DEFAULT_RECORD_KEYS

    def start(self):
        if self.beep:
            self.leg.log("play", "beep")
            self.leg.wait_for(BEEP_SECONDS, self._record)
        else:
            self._record()

    def _record(self):
        self.started = self.clock.now
        self._timers.start("max", self.max_length, self._finish)
        self._silence_timer()

    def _silence_timer(self):
        if self.timeout > 0:
            self._timers.start("silence", self.timeout, self._finish)

    def on_dtmf(self, digit):
        if not self.done and self.started is not None and digit in self.finish_on_key:
            self._finish(digit)

    def on_speech_start(self):
        if self.done or self.started is None:
            return
        self.speaking = True
        self.first_speech = self.clock.now if self.first_speech is None else self.first_speech
        self._timers.cancel("silence")

    def on_speech_end(self, transcript, confidence):
        if self.done or not self.speaking:
            return
        self.speaking, self.last_speech = False, self.clock.now
        self._silence_timer()

    def stop(self):
        self.done = True
        self._timers.cancel_all()

    def call_ended(self):
        """The caller hung up while recording: Twilio still posts the recording (Digits=hangup)."""
        if not self.done and self.started is not None:
            params = self._params("hangup")
            self.stop()
            if params:
                self.leg.request(self.method, self.action, params, "completed")

    def _finish(self, digit=None):
        if self.done:
            return
        params = self._params(digit)
        self.stop()
        self.leg.listen(None)
        if params is None:
            self.leg.note("Record: nothing was said, so no recording; going on with the next verb")
            self.leg.next()
        else:
            self.leg.recordings.append(params)
            self.leg.soon(self.leg.load, self.method, self.action, params)

    def _params(self, digit):
        """The action's parameters, or None for a recording with no speech in it."""
        if self.first_speech is None:
            return None
        now = self.clock.now
        end = now if self.speaking else self.last_speech
        seconds = (end - self.first_speech) if self.trim else (now - self.started)
        sid = "RE" + new_id()
        account = self.leg.params.get("AccountSid", "AC" + "0" * 32)
        params = {"RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{account}"
                                  f"/Recordings/{sid}",
                  "RecordingSid": sid, "RecordingDuration": str(max(1, round(seconds)))}
        if digit:
            params["Digits"] = digit
        return params


def run_record(leg, verb):
    if verb.get("transcribeCallback") or (verb.get("transcribe") or "").lower() == "true":
        leg.note("Record: transcription is not modelled offline; no transcribeCallback is sent")
    state = RecordState(leg, verb)
    leg.listen(state)
    state.start()


HANDLERS = {"Gather": run_gather, "Record": run_record}
