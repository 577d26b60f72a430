"""One call leg run the way Twilio runs it: fetch TwiML from a webhook app, execute its verbs.

The leg is a party on a `Line`. It fetches its first document when the call connects, then
executes verbs in order, each through one table of handlers (`VERBS`), grouped by family:
twiml_verbs_prompts (Say, Play, Pause), twiml_verbs_input (Gather, Record) and
twiml_verbs_calls (Dial, Enqueue, Leave, Redirect, Hangup, Reject, Sms/Message, and the verbs
that are noted or not modelled). A verb's action or a Redirect replaces the document, and
running off the end of a document hangs up, as Twilio does. Every wait (speech, tones, pauses,
timeouts) is an event on the virtual clock, so nothing here sleeps.

Faults, as on Twilio:
- a document that cannot be had (connection refused or no answer within 15 s: 11205; an HTTP
  status other than 2xx: 11200; a body over 64 kB: 11750) or read (not XML, or a root other
  than <Response>: 12100) is fatal: the caller hears "We are sorry, an application error has
  occurred. Goodbye." and the call ends with the reason "application error CODE at URL". The
  error is kept in `leg.app_error`; when the very first request got no answer or a non-2xx
  status, `leg.unreachable` is set (the target could not be reached at all: a setup error, not
  a test failure).
- an unknown verb is skipped with warning 12200; an invalid attribute is a 13xxx warning and
  its default (twiml_attrs). Errors and warnings are kept in `leg.errors` as (code, message).
- a verb that is not modelled ends the call with the reason "not modelled: <Verb>".
- Not Twilio's, but needed offline: a Redirect loop costs no virtual time, so it would spin
  forever; after 100 documents at one instant the call ends with error 11200 ("redirect loop").
"""
import xml.etree.ElementTree as ET
from urllib.parse import urljoin

from app.caller import inbound_params
from app.ids import new_id
from app.simulator import twiml_verbs_calls, twiml_verbs_input, twiml_verbs_prompts
from app.simulator.fetch import FetchError
from app.simulator.line import Endpoint
from app.simulator.twiml_attrs import (DOCUMENT_PARSE_FAILURE, HTTP_CONNECTION_FAILURE,
                                       HTTP_RETRIEVAL_FAILURE, SCHEMA_VALIDATION_WARNING)

APPLICATION_ERROR_MESSAGE = "We are sorry, an application error has occurred. Goodbye."
MAX_INSTANT_DOCUMENTS = 100  # documents fetched with no virtual time passing: a Redirect loop
VERBS = {**twiml_verbs_prompts.HANDLERS, **twiml_verbs_input.HANDLERS,
         **twiml_verbs_calls.HANDLERS}


class TwimlLeg(Endpoint):
    """A party on a line whose behaviour is the TwiML a webhook app returns.

    params: the Twilio call parameters sent with every request (CallSid, AccountSid, From, To,
    Direction, ...); CallStatus is added: "in-progress" while the call is up, "completed" on the
    status callback, which also carries CallDuration (whole seconds of virtual time, rounded).
    dial_outcome: what the far end of every <Dial> does (see twiml_verbs_calls.DIAL_OUTCOMES).
    """

    def __init__(self, clock, line, fetch, url, params, name="caller", method="POST",
                 status_callback=None, status_callback_method="POST", dial_outcome="answered"):
        self.clock, self.line, self.fetch = clock, line, fetch
        self.url, self.method, self.name = url, method.upper(), name
        self.params = {str(k): str(v) for k, v in (params or {}).items()}
        self.status_callback = status_callback
        self.status_callback_method = status_callback_method.upper()
        self.dial_outcome = dial_outcome
        self.errors = []      # [(code, message)]: errors and warnings, in order
        self.requests = []    # [(method, url, params)]
        self.notes = []       # what was not done offline (<Sms>, <Start>, ...)
        self.dialed = []      # one dict per <Dial>: to, callerId, outcome, status, duration
        self.recordings = []  # the parameters posted for each <Record>
        self.app_error = None     # {"code", "message", "url"} of the fatal error, if any
        self.unreachable = False  # the first request already failed
        self.not_modelled_verb = None
        self.finished = False
        self.document_url = url
        self.verbs, self.index = [], 0
        self.listener = None  # the Gather/Record/Dial under way, told of the caller's input
        self.queue = None     # the Enqueue under way
        self._epoch = 0       # bumped to orphan pending continuations (new document, barge-in, end)
        self._wait = None
        self._instant, self._instant_count = None, 0
        line.on_end.append(lambda _line: self._finish())

    # -- the line's events ------------------------------------------------------------------

    def on_connect(self):
        self.soon(self.load, self.method, self.url, {})

    def on_dtmf(self, digit):
        if self.listener:
            self.listener.on_dtmf(digit)

    def on_speech_start(self):
        if self.listener:
            self.listener.on_speech_start()

    def on_speech_end(self, transcript, confidence):
        if self.listener:
            self.listener.on_speech_end(transcript, confidence)

    def on_hangup(self, reason):
        self._finish()

    # -- documents --------------------------------------------------------------------------

    def load(self, method, url, extra):
        """Request a document and run it; any failure ends the call as Twilio would."""
        if self._looping():
            self.warn(HTTP_RETRIEVAL_FAILURE, f"HTTP retrieval failure: redirect loop: "
                      f"{MAX_INSTANT_DOCUMENTS} documents without time passing, last {url}")
            self.application_error(url)
            return
        body = self.request(method, url, extra, "in-progress")
        verbs = None if body is None else self._parse(body, url)
        if verbs is None:
            self.application_error(url)
            return
        self.resume_document(url, verbs, 0)

    def resume_document(self, url, verbs, index):
        """Run `verbs` from `index`, as the current document at `url`."""
        self._epoch += 1
        self._cancel_wait()
        self.document_url, self.verbs, self.index = url, verbs, index
        self.next()

    def _looping(self):
        """Count documents fetched at this virtual instant; True once there are too many."""
        if self._instant != self.clock.now:
            self._instant, self._instant_count = self.clock.now, 0
        self._instant_count += 1
        return self._instant_count > MAX_INSTANT_DOCUMENTS

    def request(self, method, url, extra, status):
        """Send one webhook request; return the body, or None after recording the error."""
        own = {"CallStatus": status, **extra}          # this request's parameters
        params = {**self.params, **own}
        self.requests.append((method, url, params))
        try:
            code, body = self.send(method, url, params, own)
        except FetchError as exc:
            self.warn(exc.code, f"{exc.title}: {exc}")
            return None
        if not 200 <= code < 300:
            self.warn(HTTP_RETRIEVAL_FAILURE,
                      f"HTTP retrieval failure: {method} {url} returned HTTP {code}")
            return None
        return body

    def send(self, method, url, params, own):
        """(status, body) of one request; `own` is the part of `params` not from `self.params`."""
        return self.fetch(method, url, params)

    def _parse(self, body, url):
        """The verbs of a TwiML document, or None after recording error 12100."""
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            self.warn(DOCUMENT_PARSE_FAILURE, f"Document parse failure: {url}: {exc}")
            return None
        if root.tag != "Response":
            self.warn(DOCUMENT_PARSE_FAILURE,
                      f"Document parse failure: {url}: root is <{root.tag}>, not <Response>")
            return None
        return list(root)

    def next(self):
        """Run the next verb; unknown verbs are skipped; the end of the document hangs up
        (or, for a caller waiting in a queue, plays the wait music again)."""
        while self.index < len(self.verbs):
            verb = self.verbs[self.index]
            self.index += 1
            handler = VERBS.get(verb.tag)
            if handler:
                handler(self, verb)
                return
            self.warn_unsupported(verb)
        if self.queue:
            self.queue.play_wait()
        else:
            self.end("completed")

    def resolve(self, url):
        """A URL from the document, relative to it; none (or empty) means the document itself."""
        return urljoin(self.document_url, url) if url else self.document_url

    def listen(self, listener):
        """Send the caller's input to `listener` (a Gather, Record or Dial), or to nobody."""
        self.listener = listener

    def post_partial(self, url, method, stable, number):
        """partialResultCallback: what has been recognized so far. Twilio ignores the answer."""
        self.request(method, url, {"StableSpeechResult": stable, "UnstableSpeechResult": "",
                                   "SequenceNumber": str(number)}, "in-progress")

    # -- the end of the call ----------------------------------------------------------------

    def end(self, reason):
        self.line.hangup(self, reason)

    def application_error(self, url):
        """Twilio's answer to a fatal error: say so, then hang up, naming the code and URL."""
        code, message = self.errors[-1]
        self.app_error = {"code": code, "message": message, "url": url}
        self.unreachable = (len(self.requests) <= 1 and not self.verbs
                            and code in (HTTP_RETRIEVAL_FAILURE, HTTP_CONNECTION_FAILURE))
        self._stop_activity()
        reason = f"application error {code} at {url}"
        self.line.say(self, APPLICATION_ERROR_MESSAGE, self.guard(self.end, reason))

    def not_modelled(self, tag):
        self.not_modelled_verb = tag
        self.end(f"not modelled: <{tag}>")

    def _stop_activity(self):
        self.interrupt()
        if self.listener:
            self.listener.stop()
            self.listener = None

    def _finish(self):
        """Stop everything and send the status callback, once, whoever ended the call."""
        if self.finished:
            return
        self.finished = True
        if self.listener and hasattr(self.listener, "call_ended"):
            self.listener.call_ended()
        self._stop_activity()
        if self.queue:
            self.queue.leave("hangup")
        if self.status_callback:
            duration = round(self.clock.now - self.line.started_at)
            self.request(self.status_callback_method, self.status_callback,
                         {"CallDuration": str(int(duration))}, "completed")

    # -- timing helpers ---------------------------------------------------------------------

    def interrupt(self):
        """Orphan whatever is playing (a barge-in): its completion callbacks will not run.

        The line cannot cut an utterance short, so a Say already under way is still heard to its
        end; what interruption stops is everything queued after it.
        """
        self._epoch += 1
        self._cancel_wait()

    def guard(self, fn, *args):
        """`fn(*args)` as a callback that does nothing once the call moved on or ended."""
        epoch = self._epoch

        def run(*_ignored):
            if not self.finished and self._epoch == epoch:
                fn(*args)
        return run

    def soon(self, fn, *args):
        """Run `fn` as its own clock event: no deep recursion, and redirect loops stay bounded
        by `clock.run(max_events=...)`."""
        self.clock.call_later(0, self.guard(fn, *args))

    def wait_for(self, seconds, on_done):
        self._cancel_wait()
        self._wait = self.clock.call_later(seconds, self.guard(on_done))

    def _cancel_wait(self):
        if self._wait is not None:
            self._wait.cancel()
            self._wait = None

    # -- records ----------------------------------------------------------------------------

    def warn(self, code, message):
        self.errors.append((code, message))

    def warn_unsupported(self, verb, where=""):
        self.warn(SCHEMA_VALIDATION_WARNING,
                  f"Schema validation warning: <{verb.tag}>{where} is not supported; skipped")

    def note(self, text):
        self.notes.append(text)
        self.log("note", text)

    def log(self, kind, text):
        self.line.record(self, kind, text)


def twiml_ivr(clock, line, fetch, target, suite=None, dial=None):
    """The IVR leg for a `twiml:` target: the suite's caller (or the default one) calls the app,
    whose first document is requested with the target's method; `dial` (the command line's)
    wins over the suite's."""
    params = inbound_params("CA" + new_id(), getattr(suite, "caller", None),
                            getattr(suite, "caller_id", None))
    outcome = dial or getattr(suite, "dial", None) or "answered"
    call_fetch = fetch.for_call() if hasattr(fetch, "for_call") else fetch  # its own cookies
    return TwimlLeg(clock, line, call_fetch, target.value, params, name="ivr",
                    method=target.method, dial_outcome=outcome)


def run_facts(leg):
    """What a finished TwiML call adds to its run's document: the fatal error (and whether it
    means the target was never reached), who was dialed, recordings, and notes."""
    facts = {"dialed": leg.dialed, "recordings": leg.recordings, "twimlNotes": leg.notes,
             "caller": {key: leg.params[key] for key in ("From", "FromCity", "FromState",
                                                          "FromZip", "FromCountry")
                        if key in leg.params}}
    if leg.app_error:
        error = leg.app_error
        facts["appError"] = {**error, "summary": f"Twilio error {error['code']} at {error['url']}"}
        if leg.unreachable:
            facts["setupError"] = f"the target could not be reached: {error['message']}"
    if leg.not_modelled_verb:
        facts["notModelled"] = leg.not_modelled_verb
    return facts
