"""TwimlLeg runs TwiML the way Twilio does, on a virtual clock, against a scripted peer.

Each test serves a few TwiML documents from a tiny Flask app (through FlaskFetcher), puts a
scripted party on the other side of a Line, runs the clock, and checks what the peer heard, what
the app was asked, and when.
"""
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator

from app.simulator.clock import VirtualClock
from app.simulator.fetch import FetchError, FlaskFetcher
from app.simulator.line import Endpoint, Line
from app.simulator.twiml_leg import TwimlLeg

BASE = "http://ivr.test"
APP_ERROR = "We are sorry, an application error has occurred. Goodbye."
PARAMS = {"CallSid": "CA123", "AccountSid": "AC123", "From": "+15550001111",
          "To": "+15552223333", "Direction": "outbound-api"}


class ScriptedPeer(Endpoint):
    """The far party: does scripted things at given times and records what it hears."""

    name = "peer"

    def __init__(self, clock, line, script=()):
        self.clock, self.line, self.script = clock, line, list(script)
        self.heard, self.digits, self.hangups = [], [], []

    def on_connect(self):
        for when, action, arg in self.script:
            self.clock.call_at(when, self._act, action, arg)

    def _act(self, action, arg):
        if action == "say":
            self.line.say(self, arg)
        elif action == "press":
            self.line.play_digits(self, arg)
        elif action == "hangup":
            self.line.hangup(self, "hangup")

    def on_speech_end(self, transcript, confidence):
        self.heard.append((round(self.clock.now, 3), transcript))

    def on_dtmf(self, digit):
        self.digits.append((round(self.clock.now, 3), digit))

    def on_hangup(self, reason):
        self.hangups.append((round(self.clock.now, 3), reason))

    def texts(self):
        return [text for _, text in self.heard]


def make_app(docs, clock):
    """A Flask app serving `docs` {path: TwiML or fn(values) -> TwiML}; records every request."""
    app = Flask(__name__)
    seen = []

    @app.route("/<path:path>", methods=["GET", "POST"])
    def serve(path):
        seen.append({"t": round(clock.now, 3), "path": "/" + path, "method": request.method,
                     "args": dict(request.args), "form": dict(request.form),
                     "url": request.url, "signature": request.headers.get("X-Twilio-Signature")})
        doc = docs.get("/" + path)
        if doc is None:
            return "not found", 404
        if callable(doc):
            doc = doc(request.values)
        if isinstance(doc, tuple):
            return doc
        return doc, 200, {"Content-Type": "text/xml"}

    return app, seen


class Call:
    """One simulated call: the leg plays the IVR side, the scripted peer calls in."""

    def __init__(self, docs, script=(), start="/start", status_callback=None, auth_token=None,
                 recognizer=None, fetch=None, until=600, dial_outcome="answered", limit=None):
        self.clock = VirtualClock()
        self.line = Line(self.clock, recognizer=recognizer)
        self.app, self.seen = make_app(docs, self.clock)
        fetch = fetch or FlaskFetcher(self.app, auth_token=auth_token)
        self.leg = TwimlLeg(self.clock, self.line, fetch, BASE + start, PARAMS, name="ivr",
                            status_callback=status_callback, dial_outcome=dial_outcome)
        self.peer = ScriptedPeer(self.clock, self.line, script)
        if limit:   # the network's call-length limit, as the runner sets it
            self.clock.call_later(limit, self.line.hangup, None, "call-length limit")
        self.line.connect(self.peer, self.leg)
        self.clock.run(until=until, max_events=20000)

    def requests_to(self, path):
        return [r for r in self.seen if r["path"] == path]


def twiml(body):
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


# -- simple verbs ---------------------------------------------------------------------------

def test_say_is_heard_and_the_end_of_the_document_hangs_up():
    call = Call({"/start": twiml("<Say>Hello there</Say><Say>General Kenobi</Say>")})
    assert call.peer.heard == [(0.8, "Hello there"), (1.6, "General Kenobi")]
    assert call.line.end_reason == "completed" and call.line.ended_at == 1.6
    assert call.leg.finished and call.leg.errors == []


def test_first_request_carries_call_params_and_in_progress_status():
    call = Call({"/start": twiml("<Say>Hi</Say>")})
    (first,) = call.seen
    assert first["method"] == "POST" and first["form"] == {**PARAMS, "CallStatus": "in-progress"}
    assert call.leg.requests == [("POST", BASE + "/start", {**PARAMS, "CallStatus": "in-progress"})]


def test_say_loop_repeats_and_loop_zero_repeats_until_hangup():
    call = Call({"/start": twiml('<Say loop="3">Again</Say>')})
    assert call.peer.texts() == ["Again"] * 3
    forever = Call({"/start": twiml('<Say loop="0">Again</Say>')}, script=[(10.2, "hangup", None)])
    assert len(forever.peer.heard) == 25  # 0.4 s each until the peer hangs up
    assert forever.line.end_reason == "hangup" and forever.line.ended_at == 10.2


def test_play_digits_sends_tones_and_w_waits_half_a_second():
    call = Call({"/start": twiml('<Play digits="1w2"/><Say>Done</Say>')})
    assert call.peer.digits == [(0.25, "1"), (1.0, "2")]
    assert call.peer.heard == [(1.4, "Done")]


def test_play_url_is_a_logged_one_second_silence_per_loop():
    call = Call({"/start": twiml('<Play loop="2">http://x.test/a.mp3</Play><Say>After</Say>')})
    assert call.peer.heard == [(2.4, "After")]
    played = {"t": 0.0, "party": "ivr", "kind": "play", "text": "http://x.test/a.mp3"}
    assert played in call.line.log


def test_pause_defaults_to_one_second_and_honours_length():
    call = Call({"/start": twiml('<Pause/><Say>One</Say><Pause length="3"/><Say>Two</Say>')})
    assert call.peer.heard == [(1.4, "One"), (4.8, "Two")]


def test_hangup_stops_the_document_and_reject_ends_the_call_too():
    call = Call({"/start": twiml("<Say>Bye</Say><Hangup/><Say>Never said</Say>")})
    assert call.peer.texts() == ["Bye"]
    assert call.line.end_reason == "hangup" and call.peer.hangups == [(0.4, "hangup")]
    rejected = Call({"/start": twiml("<Reject/><Say>Never said</Say>")})
    assert rejected.peer.heard == [] and rejected.line.end_reason == "rejected"


# -- Redirect -------------------------------------------------------------------------------

def test_redirect_relative_url_with_get_puts_params_in_the_query():
    call = Call({"/ivr/start": twiml('<Redirect method="GET">next?x=1</Redirect>'),
                 "/ivr/next": twiml("<Say>Next</Say>")}, start="/ivr/start")
    (redirected,) = call.requests_to("/ivr/next")
    assert redirected["method"] == "GET" and redirected["form"] == {}
    assert redirected["args"] == {"x": "1", **PARAMS, "CallStatus": "in-progress"}
    assert call.peer.texts() == ["Next"]


def test_empty_redirect_requests_the_current_document_again_with_post():
    visits = []

    def start(values):
        visits.append(values["CallSid"])
        return twiml("<Redirect/>") if len(visits) == 1 else twiml("<Say>Second visit</Say>")

    call = Call({"/start": start})
    assert [r["method"] for r in call.requests_to("/start")] == ["POST", "POST"]
    assert call.peer.texts() == ["Second visit"]


def test_a_redirect_loop_that_takes_no_time_is_cut_off():
    call = Call({"/start": twiml("<Redirect/>")}, status_callback=BASE + "/start")
    assert call.leg.errors[-1][0] == 11200 and "redirect loop" in call.leg.errors[-1][1]
    assert len(call.requests_to("/start")) == 100 + 1  # the documents, then the status callback
    assert call.line.end_reason == f"application error 11200 at {BASE}/start"
    assert call.peer.texts() == [APP_ERROR]


# -- Gather: DTMF ---------------------------------------------------------------------------

def echo_digits(values):
    return twiml(f"<Say>Got {values.get('Digits', 'nothing')}</Say>")


def test_gather_num_digits_posts_as_soon_as_enough_digits_arrive():
    call = Call({"/start": twiml('<Gather numDigits="3" action="/got"/>'), "/got": echo_digits},
                script=[(1, "press", "1234")])
    (got,) = call.requests_to("/got")
    assert got["t"] == 1.75 and got["form"]["Digits"] == "123"
    assert got["form"]["CallStatus"] == "in-progress" and got["form"]["CallSid"] == "CA123"
    assert call.peer.texts() == ["Got 123"]


def test_gather_finish_on_key_submits_without_the_key():
    call = Call({"/start": twiml('<Gather action="/got"/>'), "/got": echo_digits},
                script=[(1, "press", "12#")])
    (got,) = call.requests_to("/got")
    assert got["t"] == 1.75 and got["form"]["Digits"] == "12"


def test_gather_empty_finish_on_key_keeps_the_key_and_waits_for_the_timeout():
    call = Call({"/start": twiml('<Gather finishOnKey="" timeout="2" action="/got"/>'),
                 "/got": echo_digits}, script=[(1, "press", "12#")])
    (got,) = call.requests_to("/got")
    assert got["form"]["Digits"] == "12#" and got["t"] == 3.75


def test_gather_timeout_applies_between_digits():
    docs = {"/start": twiml('<Gather timeout="5" action="/got"/>'), "/got": echo_digits}
    within = Call(docs, script=[(1, "press", "1"), (4, "press", "2")])
    (got,) = within.requests_to("/got")
    assert got["form"]["Digits"] == "12" and got["t"] == 9.25
    late = Call(docs, script=[(1, "press", "1"), (7, "press", "2")])
    (got,) = late.requests_to("/got")
    assert got["form"]["Digits"] == "1" and got["t"] == 6.25


def test_gather_no_input_falls_through_after_the_prompts_and_the_timeout():
    call = Call({"/start": twiml('<Gather timeout="2" action="/got"><Say>Press a key</Say>'
                                 '</Gather><Say>No input</Say>'), "/got": echo_digits})
    assert call.requests_to("/got") == []
    assert call.peer.heard == [(1.2, "Press a key"), (4.0, "No input")]


def test_gather_only_the_finish_key_is_no_input():
    call = Call({"/start": twiml('<Gather action="/got"/><Say>No input</Say>'),
                 "/got": echo_digits}, script=[(1, "press", "#")])
    assert call.requests_to("/got") == [] and call.peer.heard == [(2.05, "No input")]


def test_gather_action_on_empty_result_posts_without_digits_or_speech():
    call = Call({"/start": twiml('<Gather input="dtmf speech" timeout="2" action="/got" '
                                 'actionOnEmptyResult="true"/><Say>Not reached</Say>'),
                 "/got": echo_digits})
    (got,) = call.requests_to("/got")
    assert got["t"] == 2 and "Digits" not in got["form"] and "SpeechResult" not in got["form"]
    assert call.peer.texts() == ["Got nothing"]


def test_gather_default_action_is_the_current_document():
    def start(values):
        if "Digits" in values:
            return twiml(f"<Say>Again {values['Digits']}</Say>")
        return twiml('<Gather numDigits="1"/>')

    call = Call({"/start": start}, script=[(1, "press", "7")])
    assert [r["form"].get("Digits") for r in call.requests_to("/start")] == [None, "7"]
    assert call.peer.texts() == ["Again 7"]


def test_gather_digit_barges_in_on_the_nested_prompts():
    call = Call({"/start": twiml('<Gather numDigits="1" action="/got">'
                                 '<Say>one two three four five six seven eight nine ten</Say>'
                                 '<Say>This is never said</Say></Gather>'),
                 "/got": twiml('<Pause length="5"/><Say>Got it</Say>')},
                script=[(1, "press", "5")])
    (got,) = call.requests_to("/got")
    assert got["t"] == 1.25 and got["form"]["Digits"] == "5"
    # The line cannot cut the utterance under way short; what was queued after it is dropped.
    assert call.peer.heard == [(4.0, "one two three four five six seven eight nine ten"),
                               (7.05, "Got it")]


def test_dtmf_only_gather_ignores_speech():
    call = Call({"/start": twiml('<Gather timeout="3" action="/got"/><Say>No input</Say>'),
                 "/got": echo_digits}, script=[(0.5, "say", "one")])
    assert call.requests_to("/got") == [] and call.peer.texts() == ["No input"]


# -- Gather: speech -------------------------------------------------------------------------

def echo_speech(values):
    return twiml(f"<Say>Heard {values.get('SpeechResult', 'nothing')}</Say>")


def test_speech_utterances_within_speech_timeout_are_joined_into_one_result():
    call = Call({"/start": twiml('<Gather input="speech" speechTimeout="2" action="/heard"/>'),
                 "/heard": echo_speech},
                script=[(1, "say", "hello there"), (2.8, "say", "general kenobi")])
    (heard,) = call.requests_to("/heard")
    assert heard["form"]["SpeechResult"] == "hello there general kenobi"
    assert heard["t"] == 5.6 and heard["form"]["Confidence"] == "1.0"


def test_a_pause_longer_than_speech_timeout_splits_the_utterances():
    gather = twiml('<Gather input="speech" speechTimeout="2" action="/heard"/>')
    call = Call({"/start": gather, "/heard": gather},
                script=[(1, "say", "hello there"), (4.8, "say", "general kenobi")])
    results = [(r["t"], r["form"]["SpeechResult"]) for r in call.requests_to("/heard")]
    assert results == [(3.8, "hello there"), (7.6, "general kenobi")]


def test_speech_timeout_defaults_to_timeout_and_auto_is_a_short_pause():
    docs = {"/heard": echo_speech}
    default = Call({**docs, "/start": twiml('<Gather input="speech" timeout="4" '
                                            'action="/heard"/>')}, script=[(1, "say", "hello")])
    assert default.requests_to("/heard")[0]["t"] == 5.4
    auto = Call({**docs, "/start": twiml('<Gather input="speech" speechTimeout="auto" '
                                         'action="/heard"/>')}, script=[(1, "say", "hello")])
    assert auto.requests_to("/heard")[0]["t"] == 2.4


def test_speech_not_begun_within_timeout_is_no_input():
    call = Call({"/start": twiml('<Gather input="speech" timeout="3" action="/heard"/>'
                                 '<Say>Nothing heard</Say>'), "/heard": echo_speech},
                script=[(5, "say", "too late")])
    assert call.requests_to("/heard") == []
    assert call.peer.heard == [(3.8, "Nothing heard")]


def test_speech_under_way_when_the_gather_starts_counts():
    call = Call({"/start": twiml('<Say>Hi</Say><Gather input="speech" timeout="1" '
                                 'speechTimeout="1" action="/heard"/>'), "/heard": echo_speech},
                script=[(0.1, "say", "one two three four five six seven eight nine ten")])
    (heard,) = call.requests_to("/heard")
    assert heard["t"] == 5.1
    assert heard["form"]["SpeechResult"] == "one two three four five six seven eight nine ten"


def test_speech_barges_in_on_the_nested_prompts():
    call = Call({"/start": twiml('<Gather input="speech" speechTimeout="1" action="/heard">'
                                 '<Say>one two three four five</Say><Say>Never said</Say>'
                                 '</Gather>'), "/heard": echo_speech},
                script=[(1, "say", "operator")])
    (heard,) = call.requests_to("/heard")
    assert heard["t"] == 2.4 and heard["form"]["SpeechResult"] == "operator"
    assert "Never said" not in call.peer.texts()


def test_speech_gather_listens_at_most_sixty_seconds():
    words = " ".join(["word"] * 12)  # 4.8 s each, 1.2 s apart: never a 3 s silence
    script = [(1 + 6 * k, "say", words) for k in range(15)]
    call = Call({"/start": twiml('<Gather input="speech" speechTimeout="3" action="/heard"/>'),
                 "/heard": twiml("<Hangup/>")}, script=script)
    (heard,) = call.requests_to("/heard")
    assert heard["t"] == 60
    assert heard["form"]["SpeechResult"] == " ".join([words] * 10)


def test_confidence_is_the_mean_over_the_utterances():
    class FixedRecognizer:
        def __init__(self):
            self.scores = iter([0.5, 0.9])

        def transcribe(self, text, key=""):
            return text.lower(), next(self.scores)

    call = Call({"/start": twiml('<Gather input="speech" speechTimeout="2" action="/heard"/>'),
                 "/heard": twiml("<Hangup/>")}, recognizer=FixedRecognizer(),
                script=[(1, "say", "Hello"), (2, "say", "World")])
    (heard,) = call.requests_to("/heard")
    assert heard["form"]["SpeechResult"] == "hello world"
    assert float(heard["form"]["Confidence"]) == pytest.approx(0.7)


def test_dtmf_speech_gather_takes_the_first_kind_of_input():
    gather = twiml('<Gather input="dtmf speech" numDigits="1" speechTimeout="1" action="/got"/>')
    by_key = Call({"/start": gather, "/got": twiml("<Hangup/>")},
                  script=[(1, "press", "2"), (1.5, "say", "ignored")])
    assert [r["form"].get("Digits") for r in by_key.requests_to("/got")] == ["2"]
    by_voice = Call({"/start": gather, "/got": twiml("<Hangup/>")},
                    script=[(1, "say", "two"), (1.1, "press", "9")])
    (got,) = by_voice.requests_to("/got")
    assert got["form"]["SpeechResult"] == "two" and "Digits" not in got["form"]


# -- faults ---------------------------------------------------------------------------------

def test_unknown_verb_is_skipped_with_warning_12200():
    call = Call({"/start": twiml('<Dance>now</Dance><Gather timeout="1">'
                                 '<Sms>hi</Sms><Say>Prompt</Say></Gather><Say>Still here</Say>')})
    assert [code for code, _ in call.leg.errors] == [12200, 12200]
    assert "<Dance>" in call.leg.errors[0][1] and "<Sms> inside <Gather>" in call.leg.errors[1][1]
    assert call.peer.texts() == ["Prompt", "Still here"]
    assert call.line.end_reason == "completed"


@pytest.mark.parametrize("body", ["<Response><Say>unclosed</Response>", "", "<Say>Hi</Say>"])
def test_unparsable_document_ends_the_call_with_12100(body):
    call = Call({"/start": body})
    assert [code for code, _ in call.leg.errors] == [12100]
    assert call.line.end_reason == f"application error 12100 at {BASE}/start"
    assert call.peer.texts() == [APP_ERROR] and call.leg.unreachable is False
    assert call.leg.app_error["code"] == 12100 and call.leg.app_error["url"] == BASE + "/start"


@pytest.mark.parametrize("status", [500, 404, 302])
def test_http_error_ends_the_call_with_11200(status):
    call = Call({"/start": twiml('<Gather numDigits="1" action="/broken"/>'),
                 "/broken": ("boom", status)}, script=[(1, "press", "1")])
    assert call.leg.errors == [(11200, f"HTTP retrieval failure: POST {BASE}/broken "
                                       f"returned HTTP {status}")]
    assert call.line.end_reason == f"application error 11200 at {BASE}/broken"
    assert call.peer.heard == [(4.85, APP_ERROR)] and call.line.ended_at == 4.85  # 9 words
    assert not call.leg.unreachable  # the first document was fine


def test_fetch_failure_ends_the_call_with_11200():
    def unreachable(method, url, params):
        raise FetchError("connection refused")

    call = Call({}, fetch=unreachable)
    assert [code for code, _ in call.leg.errors] == [11205]
    assert call.line.end_reason == f"application error 11205 at {BASE}/start"
    assert call.leg.finished and call.leg.unreachable and call.peer.texts() == [APP_ERROR]


# -- the end of the call --------------------------------------------------------------------

def status_docs(body):
    return {"/start": twiml(body), "/status": ""}


@pytest.mark.parametrize("body,script,duration", [
    ("<Say>one two three four five six seven eight nine ten</Say>", [], "4"),
    ('<Gather timeout="30"/>', [(12.6, "hangup", None)], "13"),
    ("<Pause length='7'/><Redirect>/missing</Redirect>", [], "11"),  # + the error message
])
def test_status_callback_is_sent_once_with_the_duration(body, script, duration):
    call = Call(status_docs(body), script=script, status_callback=BASE + "/status")
    (status,) = call.requests_to("/status")
    assert status["form"] == {**PARAMS, "CallStatus": "completed", "CallDuration": duration}
    assert call.leg.finished


def test_peer_hangup_during_a_gather_cancels_every_timer():
    call = Call(status_docs('<Gather input="dtmf speech" timeout="30"/><Say>Never</Say>'),
                script=[(3, "hangup", None)], status_callback=BASE + "/status")
    assert call.clock.pending() == 0 and call.clock.now == 3
    assert [r["path"] for r in call.seen] == ["/start", "/status"]
    assert call.peer.heard == []


def test_requests_are_signed_when_a_token_is_set():
    token = "secret-token"
    call = Call({"/start": twiml('<Redirect method="GET">/next?a=b</Redirect>'),
                 "/next": twiml("<Hangup/>")}, auth_token=token)
    validator = RequestValidator(token)
    post, get = call.seen
    assert validator.validate(post["url"], post["form"], post["signature"])
    assert post["url"] == BASE + "/start"
    assert get["method"] == "GET" and validator.validate(get["url"], {}, get["signature"])
    assert dict(parse_qsl(urlsplit(get["url"]).query))["CallSid"] == "CA123"
    assert not validator.validate(post["url"], {**post["form"], "Digits": "1"}, post["signature"])
