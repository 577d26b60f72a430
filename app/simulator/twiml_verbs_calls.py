"""TwiML verbs that move or end the call: <Dial>, <Enqueue>, <Leave>, <Redirect>, <Hangup>,
<Reject>; <Sms>/<Message> and <Start>/<Stop> as notes; the rest end the call as not modelled.

Twilio's behaviour (TwiML reference), and what stands in for the far end offline:
- <Dial>: destinations are the nouns <Number>, <Client>, <Sip>, <Queue> (several ring at once)
  or the bare text. What the far end does is the run's dial outcome (`--dial`, or a suite's
  "dial"; app.caller.DIAL_OUTCOMES): "answered" (default: picks up after DIAL_RING_SECONDS of ringing, is bridged, and
  hangs up after DIAL_TALK_SECONDS, silent on the line), "busy" (after BUSY_SECONDS),
  "no-answer" (rings for the Dial's `timeout`, default 30 s) or "failed" (at once). A `timeout`
  shorter than the ringing is a no-answer. `hangupOnStar="true"` lets the caller end the bridge
  with '*'; `timeLimit` (default 14400 s) cuts it. `record`, `callerId` and `answerOnBridge`
  change nothing offline. The action (method POST) gets DialCallStatus (completed, busy,
  no-answer, failed), DialCallSid and, once bridged, DialCallDuration; without an action the
  document goes on after the Dial. Each Dial is kept in `leg.dialed` (status "canceled" when
  the caller hung up before the far end answered).
  <Dial><Conference>, <Application> and <WhatsApp> are not modelled.
- <Enqueue name>: the caller waits in the queue; no agent ever answers offline. The waitUrl
  (POST, with QueuePosition, QueueSid, QueueTime, AvgQueueTime, CurrentQueueSize) is played
  again each time it ends; without one the wait is hold music (a "play" in the log, looped).
  <Leave> in the wait document takes the caller out: the Enqueue action gets QueueResult=leave
  (and QueueTime), or, without an action, the document goes on after the Enqueue. A caller who
  hangs up while queued is posted to the action with QueueResult=hangup.
- <Redirect>: method POST; empty re-requests the current document; relative URLs resolve
  against the current document.
- <Reject reason="rejected|busy">: the call ends unanswered with that reason.
- <Sms>/<Message>: nothing is sent offline; a note in the run says what would have been.
- <Start>/<Stop> (media streams, SIPREC, transcriptions) fork media without changing the call:
  noted and skipped. <Connect>, <Refer>, <Pay>, <Echo> and the nouns that only belong inside
  another verb end the call with the reason "not modelled: <Verb>".
"""

from app.ids import new_id
from app.simulator.twiml_attrs import Attributes

DIAL_RING_SECONDS = 3.0
DIAL_TALK_SECONDS = 10.0
BUSY_SECONDS = 1.0
DEFAULT_DIAL_TIMEOUT = 30.0
DEFAULT_TIME_LIMIT = 14400.0
DESTINATION_NOUNS = {"Number": "", "Client": "client:", "Sip": "", "Queue": "queue:"}
HOLD_MUSIC_SECONDS = 30.0
NOTED_VERBS = ("Start", "Stop")
NOT_MODELLED = ("Connect", "Refer", "Pay", "Prompt", "Echo", "Queue", "Conference", "Number",
                "Client", "Sip", "Stream", "Siprec", "Transcription", "Parameter", "Room",
                "Autopilot", "VirtualAgent", "ConversationRelay", "Application", "Identity")


# -- Dial ---------------------------------------------------------------------------------------

class DialState:
    """One <Dial> under way: ringing, then bridged or not, then its action or the next verb."""

    def __init__(self, leg, verb):
        self.leg, self.clock = leg, leg.clock
        attrs = Attributes(verb, leg.warn)
        self.action = leg.resolve(verb.get("action")) if attrs.has("action") else None
        self.method = attrs.method()
        self.timeout = attrs.number("timeout", DEFAULT_DIAL_TIMEOUT, minimum=1)
        self.time_limit = attrs.number("timeLimit", DEFAULT_TIME_LIMIT, minimum=1)
        self.hangup_on_star = attrs.flag("hangupOnStar")
        self.to = destinations(verb)
        self.sid = "CA" + new_id()
        self.record = {"to": self.to, "callerId": verb.get("callerId") or leg.params.get("To"),
                       "outcome": leg.dial_outcome, "status": None, "duration": 0}
        self.answered_at, self.done, self._timer = None, False, None

    def start(self):
        self.leg.dialed.append(self.record)
        self.leg.log("dial", f"dials {', '.join(self.to)}")
        outcome = self.leg.dial_outcome
        if outcome == "answered" and self.timeout >= DIAL_RING_SECONDS:
            self._later(DIAL_RING_SECONDS, self._answer)
        elif outcome in ("answered", "no-answer"):
            self._later(self.timeout, self._end, "no-answer")
        elif outcome == "busy":
            self._later(BUSY_SECONDS, self._end, "busy")
        else:
            self._later(0, self._end, "failed")

    def _answer(self):
        self.answered_at = self.clock.now
        self.leg.log("dial", f"{self.to[0]} answered; bridged")
        self._later(min(DIAL_TALK_SECONDS, self.time_limit), self._end, "completed")

    def on_dtmf(self, digit):
        if digit == "*" and self.hangup_on_star and self.answered_at is not None:
            self._end("completed")

    def on_speech_start(self):
        pass

    def on_speech_end(self, transcript, confidence):
        pass

    def stop(self):
        self.done = True
        if self._timer is not None:
            self._timer.cancel()

    def call_ended(self):
        """The caller hung up while dialing or bridged: the dialed call is canceled with it."""
        if not self.done:
            self.record["status"] = "canceled" if self.answered_at is None else "completed"

    def _later(self, delay, fn, *args):
        self._timer = self.clock.call_later(delay, self.leg.guard(fn, *args))

    def _end(self, status):
        if self.done:
            return
        self.stop()
        self.leg.listen(None)
        params = {"DialCallStatus": status, "DialCallSid": self.sid}
        if self.answered_at is not None:
            seconds = round(self.clock.now - self.answered_at)
            params["DialCallDuration"] = str(seconds)
            self.record["duration"] = seconds
        self.record["status"] = status
        self.leg.log("dial", f"dial ended: {status}")
        if self.action:
            self.leg.soon(self.leg.load, self.method, self.action, params)
        else:
            self.leg.next()


def destinations(verb):
    """Who a Dial calls: each noun's text (clients as client:NAME, queues as queue:NAME), or
    the bare text when there are no nouns."""
    found = [DESTINATION_NOUNS[noun.tag] + (noun.text or "").strip()
             for noun in verb if noun.tag in DESTINATION_NOUNS]
    bare = (verb.text or "").strip()
    return found or ([bare] if bare else [])


def run_dial(leg, verb):
    unsupported = next((noun.tag for noun in verb if noun.tag not in DESTINATION_NOUNS), None)
    if unsupported:
        leg.not_modelled(f"Dial><{unsupported}")
        return
    state = DialState(leg, verb)
    if not state.to:
        leg.warn(12200, "Dial: nothing to dial (no number or noun); skipped")
        leg.next()
        return
    leg.listen(state)
    state.start()


# -- Enqueue / Leave ----------------------------------------------------------------------------

class QueueWait:
    """A caller waiting in a queue; the leg plays `wait_url` documents until <Leave> or hangup."""

    def __init__(self, leg, verb):
        attrs = Attributes(verb, leg.warn)
        self.leg, self.name = leg, (verb.text or "").strip() or "default"
        self.action = leg.resolve(verb.get("action")) if attrs.has("action") else None
        self.method = attrs.method()
        self.wait_url = leg.resolve(verb.get("waitUrl")) if attrs.has("waitUrl") else None
        self.wait_method = attrs.method("waitUrlMethod")
        self.started = leg.clock.now
        self.resume = (leg.document_url, leg.verbs, leg.index)   # where to go on without action
        self.sid = "QU" + new_id()

    def params(self):
        waited = str(round(self.leg.clock.now - self.started))
        return {"QueueSid": self.sid, "QueuePosition": "1", "QueueTime": waited,
                "AvgQueueTime": waited, "CurrentQueueSize": "1"}

    def play_wait(self):
        """(Re)start the wait music: the waitUrl's TwiML, or Twilio's default hold music."""
        if self.wait_url:
            self.leg.soon(self.leg.load, self.wait_method, self.wait_url, self.params())
        else:
            self.leg.log("play", f"hold music (queue {self.name})")
            self.leg.wait_for(HOLD_MUSIC_SECONDS, self.play_wait)

    def leave(self, result):
        """Out of the queue: the action with QueueResult, or the verb after the Enqueue."""
        self.leg.queue = None
        params = {"QueueResult": result, "QueueSid": self.sid,
                  "QueueTime": str(round(self.leg.clock.now - self.started))}
        if result == "hangup":
            if self.action:
                self.leg.request(self.method, self.action, params, "completed")
        elif self.action:
            self.leg.soon(self.leg.load, self.method, self.action, params)
        else:
            self.leg.resume_document(*self.resume)


def run_enqueue(leg, verb):
    leg.queue = QueueWait(leg, verb)
    leg.log("queue", f"enqueued in {leg.queue.name}")
    leg.queue.play_wait()


def run_leave(leg, verb):
    if leg.queue is None:
        leg.note("Leave: the caller is not in a queue; ignored")
        leg.next()
        return
    leg.queue.leave("leave")


# -- the rest -----------------------------------------------------------------------------------

def run_redirect(leg, verb):
    method = Attributes(verb, leg.warn).method()
    leg.soon(leg.load, method, leg.resolve((verb.text or "").strip()), {})


def run_hangup(leg, verb):
    leg.end("hangup")


def run_reject(leg, verb):
    reason = (verb.get("reason") or "rejected").strip().lower()
    leg.end("busy" if reason == "busy" else "rejected")


def run_message(leg, verb):
    body = " ".join("".join(verb.itertext()).split())
    to = verb.get("to") or leg.params.get("From", "the caller")
    leg.note(f"{verb.tag}: not sent offline (would text {to}: {body!r})")
    leg.next()


def run_noted(leg, verb):
    nouns = ", ".join(f"<{noun.tag}>" for noun in verb) or "nothing"
    leg.note(f"{verb.tag}: {nouns} not modelled offline; the call goes on as on Twilio")
    leg.next()


def run_not_modelled(leg, verb):
    leg.not_modelled(verb.tag)


HANDLERS = {"Dial": run_dial, "Enqueue": run_enqueue, "Leave": run_leave,
            "Redirect": run_redirect, "Hangup": run_hangup, "Reject": run_reject,
            "Sms": run_message, "Message": run_message,
            **{tag: run_noted for tag in NOTED_VERBS},
            **{tag: run_not_modelled for tag in NOT_MODELLED}}
