"""Each TwiML verb beyond the basics, with Twilio's documented defaults: <Dial>, <Record>,
<Enqueue>/<Leave>, <Reject reason>, <Sms>/<Message>, <Start>, the verbs that are not modelled,
and invalid attribute values (13xxx warnings and the default, never a crash)."""
import pytest

from tests.test_twiml_leg import APP_ERROR, BASE, Call, twiml

SAID = twiml("<Say>After</Say>")


def form_of(call, path):
    (request,) = call.requests_to(path)
    return request


def dial_call(body, outcome="answered", script=(), **docs):
    """A call whose IVR leg dials with the given far-end outcome."""
    return Call({"/start": twiml(body), **docs}, script=script, dial_outcome=outcome)


# -- Dial -----------------------------------------------------------------------------------

def test_dial_without_action_is_answered_bridged_then_the_document_goes_on():
    call = dial_call("<Dial>+14155550111</Dial><Say>After</Say>")
    assert call.peer.heard == [(13.4, "After")]   # 3 s ringing, 10 s bridged, then the Say
    (dialed,) = call.leg.dialed
    assert dialed["to"] == ["+14155550111"] and dialed["status"] == "completed"
    assert dialed["duration"] == 10 and dialed["outcome"] == "answered"
    assert {"t": 0.0, "party": "ivr", "kind": "dial", "text": "dials +14155550111"} in call.line.log


def test_dial_action_gets_status_duration_and_sid_by_post():
    call = dial_call('<Dial action="/after"><Number>+14155550111</Number></Dial><Say>Skipped</Say>',
                     **{"/after": SAID})
    got = form_of(call, "/after")
    assert got["method"] == "POST" and got["t"] == 13.0
    assert got["form"]["DialCallStatus"] == "completed" and got["form"]["DialCallDuration"] == "10"
    assert got["form"]["DialCallSid"].startswith("CA") and call.peer.texts() == ["After"]


def test_dial_action_method_get_puts_the_status_in_the_query():
    call = dial_call('<Dial action="/after" method="GET">+14155550111</Dial>',
                     **{"/after": SAID})
    got = form_of(call, "/after")
    assert got["method"] == "GET" and got["args"]["DialCallStatus"] == "completed"


def test_dial_nouns_are_all_recorded():
    call = dial_call("<Dial><Number>+14155550111</Number><Client>alice</Client>"
                     "<Sip>sip:bob@example.com</Sip><Queue>support</Queue></Dial>")
    assert call.leg.dialed[0]["to"] == ["+14155550111", "client:alice", "sip:bob@example.com",
                                        "queue:support"]


@pytest.mark.parametrize("outcome,body,at,status", [
    ("busy", "<Dial action='/after'>+14155550111</Dial>", 1.0, "busy"),
    ("failed", "<Dial action='/after'>+14155550111</Dial>", 0.0, "failed"),
    ("no-answer", "<Dial action='/after'>+14155550111</Dial>", 30.0, "no-answer"),  # default 30
    ("no-answer", "<Dial action='/after' timeout='10'>+14155550111</Dial>", 10.0, "no-answer"),
    ("answered", "<Dial action='/after' timeout='2'>+14155550111</Dial>", 2.0, "no-answer"),
])
def test_dial_outcomes_post_their_status_at_their_time(outcome, body, at, status):
    call = dial_call(body, outcome, **{"/after": SAID})
    got = form_of(call, "/after")
    assert got["t"] == at and got["form"]["DialCallStatus"] == status
    assert "DialCallDuration" not in got["form"] and call.leg.dialed[0]["status"] == status


def test_dial_hangup_on_star_ends_the_bridge_when_the_caller_presses_star():
    body = "<Dial action='/after' hangupOnStar='true'>+14155550111</Dial>"
    call = dial_call(body, script=[(5, "press", "*")], **{"/after": SAID})
    got = form_of(call, "/after")
    assert got["t"] == 5.25 and got["form"]["DialCallDuration"] == "2"
    ignored = dial_call("<Dial action='/after'>+14155550111</Dial>", script=[(5, "press", "*")],
                        **{"/after": SAID})
    assert form_of(ignored, "/after")["t"] == 13.0   # hangupOnStar defaults to false


def test_dial_time_limit_cuts_the_bridge():
    call = dial_call("<Dial action='/after' timeLimit='4'>+14155550111</Dial>", **{"/after": SAID})
    got = form_of(call, "/after")
    assert got["t"] == 7.0 and got["form"]["DialCallDuration"] == "4"


@pytest.mark.parametrize("value", ["-1", "inf", "nan", "soon"])
def test_dial_invalid_timeout_warns_13212_and_rings_for_the_default(value):
    call = dial_call(f"<Dial action='/after' timeout='{value}'>+14155550111</Dial>", "no-answer",
                     **{"/after": SAID})
    assert form_of(call, "/after")["t"] == 30.0
    assert [code for code, _ in call.leg.errors] == [13212]


def test_dial_conference_is_not_modelled_and_ends_the_call_saying_so():
    call = dial_call("<Dial><Conference>room</Conference></Dial><Say>Never</Say>")
    assert call.line.end_reason == "not modelled: <Dial><Conference>"
    assert call.peer.heard == [] and call.leg.not_modelled_verb == "Dial><Conference"


# -- Record ---------------------------------------------------------------------------------

def echo_recording(values):
    return twiml(f"<Say>Recorded {values.get('RecordingDuration')} {values.get('Digits', 'none')}</Say>")


def test_record_defaults_beep_silence_timeout_and_the_current_document():
    def start(values):
        return echo_recording(values) if "RecordingUrl" in values else twiml("<Record/>")

    call = Call({"/start": start}, script=[(1, "say", "my name is john smith")])  # 2 s of speech
    first, second = call.requests_to("/start")
    assert second["method"] == "POST" and second["t"] == 3 + 5    # speech ends at 3, 5 s silence
    form = second["form"]
    assert form["RecordingDuration"] == "2" and "Digits" not in form
    assert form["RecordingSid"].startswith("RE") and form["RecordingUrl"].endswith(form["RecordingSid"])
    assert {"t": 0.0, "party": "ivr", "kind": "play", "text": "beep"} in call.line.log
    (recording,) = call.leg.recordings
    assert call.peer.texts() == ["Recorded 2 none"] and recording.items() <= form.items()


@pytest.mark.parametrize("keys,press,ends", [(None, "#", True), (None, "5", True),
                                             ('finishOnKey="*"', "5", False),
                                             ('finishOnKey="*"', "*", True)])
def test_record_finish_on_key_defaults_to_every_key(keys, press, ends):
    call = Call({"/start": twiml(f'<Record action="/done" {keys or ""}/>'), "/done": echo_recording},
                script=[(1, "say", "hello there"), (2, "press", press)])
    got = form_of(call, "/done")
    assert got["form"].get("Digits") == (press if ends else None)
    assert got["t"] == (2.25 if ends else 1.8 + 5)


def test_record_max_length_ends_it_and_the_silence_only_recording_is_skipped():
    call = Call({"/start": twiml('<Record action="/done" maxLength="3" timeout="0"/>'),
                 "/done": echo_recording}, script=[(1, "say", " ".join(["word"] * 20))])
    assert form_of(call, "/done")["t"] == 0.5 + 3
    silent = Call({"/start": twiml('<Record action="/done"/><Say>Nothing recorded</Say>'),
                   "/done": echo_recording})
    assert silent.requests_to("/done") == [] and silent.peer.heard == [(0.5 + 5 + 0.8, "Nothing recorded")]


def test_record_hangup_still_posts_the_recording_with_digits_hangup():
    call = Call({"/start": twiml('<Record action="/done"/>'), "/done": echo_recording},
                script=[(1, "say", "hello there"), (2, "hangup", None)])
    got = form_of(call, "/done")
    assert got["form"]["Digits"] == "hangup" and got["form"]["CallStatus"] == "completed"


def test_record_play_beep_false_and_do_not_trim():
    call = Call({"/start": twiml('<Record action="/done" playBeep="false" trim="do-not-trim"/>'),
                 "/done": echo_recording}, script=[(2, "say", "hello there")])
    got = form_of(call, "/done")
    assert got["form"]["RecordingDuration"] == str(round(2.8 + 5))   # from 0, silence included
    assert not any(entry["text"] == "beep" for entry in call.line.log)


def test_record_invalid_max_length_warns_13612():
    call = Call({"/start": twiml('<Record action="/done" maxLength="inf"/>'),
                 "/done": echo_recording}, script=[(1, "say", "hello")])
    assert [code for code, _ in call.leg.errors] == [13612] and call.requests_to("/done")


# -- Enqueue / Leave ------------------------------------------------------------------------

def test_enqueue_plays_the_wait_url_until_leave_then_posts_queue_result():
    visits = []

    def wait(values):
        visits.append(values["QueuePosition"])
        return twiml("<Say>Please hold</Say>" + ("<Leave/>" if len(visits) == 2 else ""))

    call = Call({"/start": twiml('<Enqueue waitUrl="/wait" action="/left">support</Enqueue>'),
                 "/wait": wait, "/left": SAID})
    got = form_of(call, "/left")
    assert visits == ["1", "1"] and got["form"]["QueueResult"] == "leave"
    assert call.peer.texts() == ["Please hold", "Please hold", "After"]


def test_leave_without_action_goes_on_after_the_enqueue():
    call = Call({"/start": twiml('<Enqueue waitUrl="/wait">support</Enqueue><Say>After</Say>'),
                 "/wait": twiml("<Leave/>")})
    assert call.peer.texts() == ["After"]


def test_enqueue_default_hold_music_until_the_caller_hangs_up():
    call = Call({"/start": twiml('<Enqueue action="/left">support</Enqueue>'), "/left": SAID},
                script=[(70, "hangup", None)])
    got = form_of(call, "/left")
    assert got["form"]["QueueResult"] == "hangup" and got["form"]["QueueTime"] == "70"
    music = [e for e in call.line.log if e["kind"] == "play"]
    assert len(music) == 3 and "hold music" in music[0]["text"]


# -- Reject, Sms/Message, Start, not modelled -----------------------------------------------

@pytest.mark.parametrize("attr,reason", [("", "rejected"), ('reason="busy"', "busy"),
                                         ('reason="rejected"', "rejected")])
def test_reject_ends_the_call_with_its_reason(attr, reason):
    call = Call({"/start": twiml(f"<Reject {attr}/><Say>Never</Say>")})
    assert call.line.end_reason == reason and call.peer.heard == []


@pytest.mark.parametrize("verb", ["Sms", "Message"])
def test_sms_and_message_are_noted_not_sent_and_the_call_goes_on(verb):
    call = Call({"/start": twiml(f'<{verb} to="+14155550111">Your code is 1234</{verb}><Say>After</Say>')})
    (note,) = call.leg.notes
    assert note.startswith(f"{verb}: not sent offline") and "+14155550111" in note
    assert call.peer.texts() == ["After"] and call.leg.errors == []


def test_start_stream_is_noted_and_the_call_goes_on():
    call = Call({"/start": twiml('<Start><Stream url="wss://x.test/s"/></Start><Say>After</Say>')})
    assert call.peer.texts() == ["After"] and "<Stream>" in call.leg.notes[0]


@pytest.mark.parametrize("verb", ["Connect", "Refer", "Pay", "Echo", "Queue", "Conference"])
def test_verbs_not_modelled_end_the_call_naming_the_verb(verb):
    call = Call({"/start": twiml(f"<Say>Before</Say><{verb}/><Say>Never</Say>")})
    assert call.line.end_reason == f"not modelled: <{verb}>"
    assert call.peer.texts() == ["Before"] and call.leg.not_modelled_verb == verb


# -- invalid attribute values ----------------------------------------------------------------

@pytest.mark.parametrize("body,code,heard", [
    ('<Say loop="inf">Hi</Say>', 13510, ["Hi"]),
    ('<Say loop="-2">Hi</Say>', 13510, ["Hi"]),
    ('<Say loop="1e9">Hi</Say>', 13510, ["Hi"]),
    ('<Play loop="nan">http://x.test/a.mp3</Play><Say>Hi</Say>', 13410, ["Hi"]),
    ('<Gather timeout="1"><Say loop="inf">Hi</Say></Gather>', 13322, ["Hi"]),
])
def test_invalid_loops_warn_and_play_once(body, code, heard):
    call = Call({"/start": twiml(body)})
    assert [c for c, _ in call.leg.errors] == [code] and call.peer.texts() == heard


def test_invalid_pause_length_warns_13910_and_pauses_one_second():
    call = Call({"/start": twiml('<Pause length="-1"/><Say>Hi</Say>')})
    assert call.leg.errors[0][0] == 13910 and call.peer.heard == [(1.4, "Hi")]


@pytest.mark.parametrize("attr,code", [('numDigits="inf"', 13314), ('numDigits="0"', 13314),
                                       ('timeout="nan"', 13313), ('speechTimeout="-3"', 13327)])
def test_invalid_gather_values_warn_and_take_the_default(attr, code):
    call = Call({"/start": twiml(f'<Gather input="dtmf speech" action="/got" {attr}/>'),
                 "/got": twiml("<Hangup/>")}, script=[(1, "press", "12#")])
    assert [c for c, _ in call.leg.errors] == [code]
    assert form_of(call, "/got")["form"]["Digits"] == "12"   # '#' ended it: numDigits unlimited


def test_invalid_method_warns_and_posts():
    call = Call({"/start": twiml('<Redirect method="DELETE">/next</Redirect>'),
                 "/next": SAID})
    assert form_of(call, "/next")["method"] == "POST" and call.leg.errors[0][0] == 13710


def test_an_application_error_mid_call_is_spoken_and_named():
    call = Call({"/start": twiml("<Redirect>/boom</Redirect>"), "/boom": ("crash", 503)})
    assert call.peer.texts() == [APP_ERROR]
    assert call.leg.app_error == {"code": 11200, "url": BASE + "/boom",
                                  "message": f"HTTP retrieval failure: POST {BASE}/boom returned HTTP 503"}


def test_entity_expansion_bombs_and_deep_nesting_end_or_play_without_harm():
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi"))
    bomb = Call({"/start": f'<?xml version="1.0"?><!DOCTYPE r [{entities}]>'
                           "<Response><Say>&i;</Say></Response>"})
    assert bomb.leg.app_error["code"] == 12100 and bomb.peer.texts() == [APP_ERROR]
    deep = Call({"/start": twiml("<Say>" + "<p>" * 5000 + "deep" + "</p>" * 5000 + "</Say>")})
    assert deep.peer.texts() == ["deep"] and deep.line.end_reason == "completed"


# -- any document: no crash, no hang ---------------------------------------------------------

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
import time  # noqa: E402
from xml.sax.saxutils import quoteattr  # noqa: E402

TAGS = ["Say", "Play", "Pause", "Gather", "Record", "Dial", "Enqueue", "Leave", "Redirect",
        "Hangup", "Reject", "Sms", "Start", "Connect", "Number", "Dance"]
ATTRS = ["loop", "length", "timeout", "numDigits", "finishOnKey", "speechTimeout", "maxLength",
         "timeLimit", "method", "action", "input", "playBeep", "hangupOnStar", "digits", "reason",
         "waitUrl", "actionOnEmptyResult", "trim"]
VALUES = st.sampled_from(["0", "1", "-1", "inf", "-inf", "nan", "1e308", "2.5", "", "abc", "#",
                          "GET", "POST", "true", "/start", "speech dtmf", "12w#", "9" * 40])


@st.composite
def verbs(draw, depth=0):
    tag = draw(st.sampled_from(TAGS))
    attrs = draw(st.dictionaries(st.sampled_from(ATTRS), VALUES, max_size=4))
    text = draw(st.sampled_from(["", "hello", "+14155550111", "/start", "x" * 50]))
    inner = "".join(draw(st.lists(verbs(depth + 1), max_size=2))) if depth < 2 else ""
    attr_text = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    return f"<{tag}{attr_text}>{text}{inner}</{tag}>"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.generate])
@given(st.lists(verbs(), min_size=1, max_size=4),
       st.lists(st.tuples(st.integers(0, 40), st.sampled_from(["press", "say", "hangup"]),
                          st.sampled_from(["1", "#", "*", "hello there"])), max_size=3),
       st.sampled_from(["answered", "busy", "no-answer", "failed"]))
def test_any_document_ends_the_call_without_crashing_or_hanging(body, script, outcome):
    started = time.perf_counter()
    call = Call({"/start": twiml("".join(body))}, script=script, dial_outcome=outcome,
                until=1000, limit=900)
    assert call.leg.finished and call.line.closed, (body, call.line.log[-3:])
    assert time.perf_counter() - started < 10, body
