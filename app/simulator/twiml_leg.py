"""One call leg run the way Twilio runs it: fetch TwiML from a webhook app, execute its verbs.

The leg is a party on a `Line`. It fetches its first document when the call connects, then
executes verbs in order; a Gather's action or a Redirect replaces the document, and running off
the end of a document hangs up, as Twilio does. Every wait (speech, tones, pauses, Gather
timeouts) is an event on the virtual clock, so nothing here sleeps.

Twilio behaviours carried over (from Twilio's TwiML reference):
- <Say>/<Play> `loop` repeats; loop="0" means "until hangup", capped (as Twilio caps <Play>) at
  1000 repetitions.
- <Play digits>: 'w' waits half a second (timing is the line's); <Play> of a URL is simulated as
  one second of silence per loop and written to the line log with kind "play".
- <Pause length> defaults to 1 second.
- <Redirect>: method POST by default; an empty Redirect re-requests the current document URL;
  relative URLs resolve against the current document URL (so do Gather actions).
- <Gather>: input dtmf (default), speech, or "dtmf speech"; timeout 5; finishOnKey '#' (the empty
  string disables it; pressing only the key is no input); numDigits unlimited; action = current
  document URL; method POST; actionOnEmptyResult false; speechTimeout = timeout, "auto" ends at a
  natural pause (1 s here). Nested Say/Play/Pause play first and input barges in on them; the
  timeout runs after them, and between digits. Speech listening is capped at 60 seconds.
- Faults: an unsupported verb is skipped with warning 12200; an HTTP failure or non-2xx status
  ends the call with error 11200; unparsable XML or a root other than <Response> ends it with
  error 12100. Errors are kept in `leg.errors` as (code, message).
- Not Twilio's, but needed offline: a Redirect loop costs no virtual time, so it would spin
  forever; after 100 documents at one instant the call ends with error 11200 ("redirect loop").
"""
import xml.etree.ElementTree as ET
from functools import partial
from statistics import mean
from urllib.parse import urljoin

from app.simulator.fetch import FetchError
from app.simulator.line import Endpoint

HTTP_RETRIEVAL_FAILURE = 11200
DOCUMENT_PARSE_FAILURE = 12100
SCHEMA_VALIDATION_WARNING = 12200

MAX_LOOPS = 1000
PLAY_URL_SECONDS = 1.0
DEFAULT_GATHER_TIMEOUT = 5.0
AUTO_SPEECH_TIMEOUT = 1.0
MAX_SPEECH_SECONDS = 60.0
MAX_INSTANT_DOCUMENTS = 100  # documents fetched with no virtual time passing: a Redirect loop


def _number(value, default):
    """An attribute as a non-negative number, or `default` when missing or malformed."""
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default


def _loops(verb):
    """How many times a Say/Play repeats: loop="0" means until hangup, capped like Twilio's."""
    count = int(_number(verb.get("loop"), 1))
    return MAX_LOOPS if count == 0 else count


def _method(verb, attribute="method"):
    """A verb's HTTP method attribute; Twilio's default is POST."""
    return (verb.get(attribute) or "POST").upper()


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
        inputs = (verb.get("input") or "dtmf").lower().split()
        self.wants_speech = "speech" in inputs
        self.wants_dtmf = "dtmf" in inputs or not self.wants_speech
        self.timeout = _number(verb.get("timeout"), DEFAULT_GATHER_TIMEOUT)
        self.speech_timeout = self._speech_timeout(verb.get("speechTimeout"))
        self.num_digits = int(_number(verb.get("numDigits"), 0))
        self.finish_on_key = verb.get("finishOnKey", "#")
        self.prompts = list(verb)
        partial_url = verb.get("partialResultCallback")
        self.partial_url = leg.resolve(partial_url) if partial_url else None
        self.partial_method = _method(verb, "partialResultCallbackMethod")
        self.phase, self.mode = self.PROMPTING, None
        self.digits, self.utterances, self.speaking = "", [], False
        self.on_result = None
        self._timers = {}

    def _speech_timeout(self, value):
        if value is None or value == "":
            return self.timeout
        if value.strip().lower() == "auto":
            return AUTO_SPEECH_TIMEOUT
        return _number(value, self.timeout)

    def start(self, on_result):
        """Begin; speech already under way when the Gather starts counts as a barge-in."""
        self.on_result = on_result
        if self.wants_speech and self.leg.line.is_speaking(self.leg.line.peer(self.leg)):
            self.mode, self.speaking = "speech", True
            self._listen(wait_for_input=False)
            return
        self.leg.play_prompts(self.prompts, self._prompts_done)

    def stop(self):
        """Abandon the Gather without a result (hangup, or the document was replaced)."""
        self.phase = self.DONE
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

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
            self._start_timer("cap", MAX_SPEECH_SECONDS, self._submit)
        if wait_for_input:
            self._start_timer("wait", self.timeout, self._submit)

    def on_dtmf(self, digit):
        if self.phase == self.DONE or not self.wants_dtmf or self.mode == "speech":
            return
        self.mode = "dtmf"
        if self.phase == self.PROMPTING:
            self._barge_in()
        self._cancel_timer("cap")
        if self.finish_on_key and digit in self.finish_on_key:
            self._submit()
            return
        self.digits += digit
        if self.num_digits and len(self.digits) >= self.num_digits:
            self._submit()
        else:
            self._start_timer("wait", self.timeout, self._submit)  # the inter-digit timeout

    def on_speech_start(self):
        if self.phase == self.DONE or not self.wants_speech or self.mode == "dtmf":
            return
        self.mode, self.speaking = "speech", True
        if self.phase == self.PROMPTING:
            self._barge_in()
        self._cancel_timer("wait")
        self._cancel_timer("silence")

    def on_speech_end(self, transcript, confidence):
        if self.phase == self.DONE or not self.speaking:
            return  # an utterance that began before this Gather listened for speech
        self.speaking = False
        self.utterances.append(((transcript or "").strip(), float(confidence)))
        self._start_timer("silence", self.speech_timeout, self._submit)
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
                    "Confidence": str(round(mean(conf for _, conf in heard), 4))}
        return None

    def _submit(self):
        if self.phase == self.DONE:
            return
        self.stop()
        self.on_result(self.result())

    def _start_timer(self, name, delay, fn):
        self._cancel_timer(name)
        self._timers[name] = self.clock.call_later(delay, fn)

    def _cancel_timer(self, name):
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()


class TwimlLeg(Endpoint):
    """A party on a line whose behaviour is the TwiML a webhook app returns.

    params: the Twilio call parameters sent with every request (CallSid, AccountSid, From, To,
    Direction, ...); CallStatus is added: "in-progress" while the call is up, "completed" on the
    status callback, which also carries CallDuration (whole seconds of virtual time, rounded).
    """

    def __init__(self, clock, line, fetch, url, params, name="caller", method="POST",
                 status_callback=None, status_callback_method="POST"):
        self.clock, self.line, self.fetch = clock, line, fetch
        self.url, self.method, self.name = url, method.upper(), name
        self.params = {str(k): str(v) for k, v in (params or {}).items()}
        self.status_callback = status_callback
        self.status_callback_method = status_callback_method.upper()
        self.errors = []      # [(code, message)]
        self.requests = []    # [(method, url, params)]
        self.finished = False
        self.document_url = url
        self._verbs, self._index = [], 0
        self._epoch = 0       # bumped to orphan pending continuations (new document, barge-in, end)
        self._wait = None
        self._gather = None
        self._instant, self._instant_count = None, 0
        self._handlers = {"Say": self._simple, "Play": self._simple, "Pause": self._simple,
                          "Gather": self._run_gather, "Redirect": self._redirect,
                          "Hangup": partial(self._hang_up, "hangup"),
                          "Reject": partial(self._hang_up, "rejected")}
        line.on_end.append(lambda _line: self._finish())

    # -- the line's events ------------------------------------------------------------------

    def on_connect(self):
        self._soon(self._load, self.method, self.url, {})

    def on_dtmf(self, digit):
        if self._gather:
            self._gather.on_dtmf(digit)

    def on_speech_start(self):
        if self._gather:
            self._gather.on_speech_start()

    def on_speech_end(self, transcript, confidence):
        if self._gather:
            self._gather.on_speech_end(transcript, confidence)

    def on_hangup(self, reason):
        self._finish()

    # -- documents --------------------------------------------------------------------------

    def _load(self, method, url, extra):
        """Request a document and run it; any failure ends the call as Twilio would."""
        if self._looping():
            self._error(HTTP_RETRIEVAL_FAILURE, f"HTTP retrieval failure: redirect loop: "
                        f"{MAX_INSTANT_DOCUMENTS} documents without time passing, last {url}")
            self.line.hangup(self, "error")
            return
        body = self._request(method, url, extra, "in-progress")
        verbs = None if body is None else self._parse(body, url)
        if verbs is None:
            self.line.hangup(self, "error")
            return
        self._epoch += 1
        self._cancel_wait()
        self.document_url, self._verbs, self._index = url, verbs, 0
        self._next()

    def _looping(self):
        """Count documents fetched at this virtual instant; True once there are too many."""
        if self._instant != self.clock.now:
            self._instant, self._instant_count = self.clock.now, 0
        self._instant_count += 1
        return self._instant_count > MAX_INSTANT_DOCUMENTS

    def _request(self, method, url, extra, status):
        """Send one webhook request; return the body, or None after recording error 11200."""
        params = {**self.params, "CallStatus": status, **extra}
        self.requests.append((method, url, params))
        try:
            code, body = self.fetch(method, url, params)
        except FetchError as exc:
            self._error(HTTP_RETRIEVAL_FAILURE, f"HTTP retrieval failure: {exc}")
            return None
        if not 200 <= code < 300:
            self._error(HTTP_RETRIEVAL_FAILURE,
                        f"HTTP retrieval failure: {method} {url} returned HTTP {code}")
            return None
        return body

    def _parse(self, body, url):
        """The verbs of a TwiML document, or None after recording error 12100."""
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            self._error(DOCUMENT_PARSE_FAILURE, f"Document parse failure: {url}: {exc}")
            return None
        if root.tag != "Response":
            self._error(DOCUMENT_PARSE_FAILURE,
                        f"Document parse failure: {url}: root is <{root.tag}>, not <Response>")
            return None
        return list(root)

    def _next(self):
        """Run the next verb; unsupported verbs are skipped; the end of the document hangs up."""
        while self._index < len(self._verbs):
            verb = self._verbs[self._index]
            self._index += 1
            handler = self._handlers.get(verb.tag)
            if handler:
                handler(verb)
                return
            self._warn_unsupported(verb)
        self.line.hangup(self, "completed")

    # -- verbs ------------------------------------------------------------------------------

    def _simple(self, verb):
        self.prompt(verb, self._next)

    def prompt(self, verb, on_done):
        """Play a Say, Play or Pause, then call `on_done`; return False for any other verb."""
        if verb.tag == "Say":
            self._say("".join(verb.itertext()).strip(), _loops(verb), on_done)
        elif verb.tag == "Play" and verb.get("digits"):
            self.line.play_digits(self, verb.get("digits"), self._guard(on_done))
        elif verb.tag == "Play":
            self._log("play", (verb.text or "").strip())
            self._wait_for(PLAY_URL_SECONDS * _loops(verb), on_done)
        elif verb.tag == "Pause":
            self._wait_for(_number(verb.get("length"), 1.0), on_done)
        else:
            return False
        return True

    def play_prompts(self, verbs, on_done):
        """Play a Gather's nested verbs in order; only Say, Play and Pause may nest."""
        def play_from(i):
            while i < len(verbs):
                verb, i = verbs[i], i + 1
                if self.prompt(verb, partial(play_from, i)):
                    return
                self._warn_unsupported(verb, " inside <Gather>")
            on_done()
        play_from(0)

    def _say(self, text, times, on_done):
        if not text:
            self._wait_for(0, on_done)  # nothing to say; still continue as a clock event
            return
        if times <= 0:
            on_done()
            return
        self.line.say(self, text, self._guard(self._say, text, times - 1, on_done))

    def _redirect(self, verb):
        self._soon(self._load, _method(verb), self.resolve((verb.text or "").strip()), {})

    def resolve(self, url):
        """A URL from the document, relative to it; none (or empty) means the document itself."""
        return urljoin(self.document_url, url) if url else self.document_url

    def _hang_up(self, reason, verb):
        self.line.hangup(self, reason)

    def _run_gather(self, verb):
        action, method = self.resolve(verb.get("action")), _method(verb)
        post_empty = (verb.get("actionOnEmptyResult") or "false").strip().lower() == "true"
        self._gather = GatherState(self, verb)
        self._gather.start(partial(self._gather_done, action, method, post_empty))

    def post_partial(self, url, method, stable, number):
        """partialResultCallback: what has been recognized so far. Twilio ignores the answer."""
        self._request(method, url, {"StableSpeechResult": stable, "UnstableSpeechResult": "",
                                    "SequenceNumber": str(number)}, "in-progress")

    def _gather_done(self, action, method, post_empty, result):
        """Input goes to the action (a new document); no input falls through to the next verb."""
        self._gather = None
        if result is None and not post_empty:
            self._next()
        else:
            self._soon(self._load, method, action, result or {})

    # -- the end of the call ----------------------------------------------------------------

    def _finish(self):
        """Stop everything and send the status callback, once, whoever ended the call."""
        if self.finished:
            return
        self.finished = True
        self.interrupt()
        if self._gather:
            self._gather.stop()
            self._gather = None
        if self.status_callback:
            duration = round(self.clock.now - self.line.started_at)
            self._request(self.status_callback_method, self.status_callback,
                          {"CallDuration": str(int(duration))}, "completed")

    # -- timing helpers ---------------------------------------------------------------------

    def interrupt(self):
        """Orphan whatever is playing (a barge-in): its completion callbacks will not run.

        The line cannot cut an utterance short, so a Say already under way is still heard to its
        end; what interruption stops is everything queued after it.
        """
        self._epoch += 1
        self._cancel_wait()

    def _guard(self, fn, *args):
        """`fn(*args)` as a callback that does nothing once the call moved on or ended."""
        epoch = self._epoch

        def run(*_ignored):
            if not self.finished and self._epoch == epoch:
                fn(*args)
        return run

    def _soon(self, fn, *args):
        """Run `fn` as its own clock event: no deep recursion, and redirect loops stay bounded
        by `clock.run(max_events=...)`."""
        self.clock.call_later(0, self._guard(fn, *args))

    def _wait_for(self, seconds, on_done):
        self._cancel_wait()
        self._wait = self.clock.call_later(seconds, self._guard(on_done))

    def _cancel_wait(self):
        if self._wait is not None:
            self._wait.cancel()
            self._wait = None

    # -- records ----------------------------------------------------------------------------

    def _error(self, code, message):
        self.errors.append((code, message))

    def _warn_unsupported(self, verb, where=""):
        self._error(SCHEMA_VALIDATION_WARNING,
                    f"Schema validation warning: <{verb.tag}>{where} is not supported; skipped")

    def _log(self, kind, text):
        self.line.record(self, kind, text)
