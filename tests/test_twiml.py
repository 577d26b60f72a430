import xml.etree.ElementTree as ET

from app import twiml
from app.engine import HANGUP, Reply
from app.suite import Action


def urls(step, silence):
    return f"/gather?run=R&step={step}" + ("&silence=1" if silence else "")


def parse(text):
    return ET.fromstring(text)


def test_listen_is_a_speech_gather_then_a_redirect():
    root = parse(twiml.render(Reply(listen=2, timeout=2.5), urls))
    gather, redirect = list(root)
    assert gather.tag == "Gather" and gather.get("input") == "speech"
    assert gather.get("timeout") == gather.get("speechTimeout") == "3"
    assert gather.get("action") == "/gather?run=R&step=2"
    assert redirect.tag == "Redirect" and redirect.text == "/gather?run=R&step=2&silence=1"


def test_actions_come_before_the_next_gather():
    reply = Reply(actions=(Action("press", "1w2"),), listen=1, timeout=3)
    tags = [(v.tag, v.get("digits")) for v in parse(twiml.render(reply, urls))]
    assert tags[0] == ("Play", "1w2") and tags[1][0] == "Gather"


def test_say_then_hangup():
    root = parse(twiml.render(Reply(actions=(Action("say", "alan turing"),), hangup=True), urls))
    assert [(v.tag, v.text) for v in root] == [("Say", "alan turing"), ("Hangup", None)]


def test_hangup():
    assert [v.tag for v in parse(twiml.render(HANGUP, urls))] == ["Hangup"]


def test_empty_is_what_the_twilio_library_writes_for_an_empty_response():
    from twilio.twiml.voice_response import VoiceResponse
    assert twiml.empty() == str(VoiceResponse())
    assert parse(twiml.empty()).tag == "Response" and not list(parse(twiml.empty()))
