"""`twiml:` targets end to end: the runner and the command line against TwiML apps served on
127.0.0.1 — signed requests, twiml:GET:, the inbound caller and its overrides, the dial
outcome, and what an unreachable or failing app does to the verdict, the summary and the exit
code."""

import pytest
from click.testing import CliRunner
from flask import Flask, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from app.cli import cli
from app.report import summary_lines
from app.runner import Job, OfflineRunner
from app.suite import parse_suite
from app.targets import parse_target
from examples.showtimes.app import create_app as showtimes_app

TOKEN = "app-token"


def where_app(seen):
    """Answers GET only (as a Voice URL configured for GET), saying where the caller is from;
    <Dial>s with an action that reports DialCallStatus."""
    app = Flask(__name__)

    @app.route("/voice", methods=["GET"])
    def voice():
        seen.append(dict(request.args))
        response = VoiceResponse()
        response.say(f"Hello {request.args['CallerName']} from {request.args['FromCity']} "
                     f"{request.args['FromState']}")
        response.dial("+14155550111", action="/dialed")
        return str(response)

    @app.route("/dialed", methods=["POST"])
    def dialed():
        response = VoiceResponse()
        response.say(f"Dial status {request.form['DialCallStatus']}")
        return str(response)

    return app


def suite(steps, **meta):
    return parse_suite({"name": "t", "steps": steps, **meta}, "t.json")


def run(store, suites, target, **options):
    return OfflineRunner(store, noise="off", **options).run([Job(s, target) for s in suites])


def test_every_request_is_signed_with_the_twilio_auth_token(store, serve, monkeypatch):
    monkeypatch.delenv("TWIML_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    base = serve(showtimes_app(auth_token=TOKEN))   # refuses requests that fail RequestValidator
    steps = [{"expect": "Welcome to Movie Showtimes.", "match": "contains", "then": "press=1",
              "timeout": 3},
             {"expect": "You chose Downtown Cinema.", "match": "contains", "timeout": 3}]
    [doc] = run(store, [suite(steps)], parse_target(f"twiml:{base}/voice")).documents
    assert doc["status"] == "complete" and doc["twilioErrors"] == []
    monkeypatch.setenv("TWIML_AUTH_TOKEN", "another-account")   # the target-specific one wins
    [doc] = run(store, [suite(steps)], parse_target(f"twiml:{base}/voice")).documents
    assert doc["status"] == "failed" and doc["appError"]["code"] == 11200
    assert doc["setupError"] and "403" in doc["appError"]["message"]


def test_get_target_default_caller_and_dial_outcome(store, serve):
    seen = []
    base = serve(where_app(seen))
    steps = [{"expect": "Hello TEST CALLER from SAN FRANCISCO CA", "timeout": 3},
             {"expect": "Dial status completed", "timeout": 12}]
    [doc] = run(store, [suite(steps)], parse_target(f"twiml:GET:{base}/voice")).documents
    assert doc["status"] == "complete", doc["results"]
    assert seen[0]["FromZip"] == "94103" and seen[0]["CallerState"] == "CA"
    assert seen[0]["ToState"] == "NY" and seen[0]["Direction"] == "inbound"
    (dialed,) = doc["dialed"]
    assert dialed["to"] == ["+14155550111"] and dialed["status"] == "completed"
    assert doc["target"] == f"twiml:GET:{base}/voice" and doc["caller"]["FromCity"] == "SAN FRANCISCO"


def test_suite_caller_and_dial_override_the_defaults_and_the_command_line_wins(store, serve):
    seen = []
    base = serve(where_app(seen))
    steps = [{"expect": "Hello ADA from AUSTIN TX", "timeout": 0.8},   # busy comes after 1 s
             {"expect": "Dial status busy", "timeout": 3}]
    texas = suite(steps, callerId="+15125550100", dial="busy",
                  caller={"name": "ADA", "city": "AUSTIN", "state": "TX"})
    target = parse_target(f"twiml:GET:{base}/voice")
    [doc] = run(store, [texas], target).documents
    assert doc["status"] == "complete", doc["results"]
    assert seen[0]["From"] == "+15125550100" and seen[0]["FromZip"] == "94103"  # not overridden
    [doc] = run(store, [texas], target, dial="no-answer").documents
    assert doc["status"] == "failed" and doc["dialed"][0]["outcome"] == "no-answer"
    assert doc["dialed"][0]["status"] == "canceled"  # the suite hung up while it still rang


def test_a_post_to_a_get_only_app_is_an_unreachable_target(store, serve):
    base = serve(where_app([]))
    steps = [{"expect": "Hello", "match": "contains", "timeout": 3}]
    [doc] = run(store, [suite(steps)], parse_target(f"twiml:{base}/voice")).documents
    assert doc["setupError"] and "405" in doc["appError"]["message"]
    assert doc["callEnd"] == f"application error 11200 at {base}/voice"
    assert "Twilio error 11200 at " + base in summary_lines([doc])[1]


def test_command_line_exits_2_and_names_code_and_url_when_nothing_answers(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"steps": [{"expect": "Hello", "timeout": 3}]}')
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]      # bound, not listening: connection refused
        url = f"http://127.0.0.1:{port}/voice"
        result = CliRunner().invoke(cli, ["run", str(path), "--target", f"twiml:{url}",
                                          "--db", str(tmp_path / "db.json"), "--no-color"])
    assert result.exit_code == 2, result.output
    assert f"hangs up (application error 11205 at {url})" in result.output
    assert f"FAIL s (0/1 steps, failed): Twilio error 11205 at {url}" in result.output
    assert "We are sorry, an application error has occurred. Goodbye." in result.output


def test_a_failure_after_the_first_document_is_a_test_failure_not_a_setup_error(store, serve):
    app = Flask(__name__)

    @app.route("/voice", methods=["POST"])
    def voice():
        return '<Response><Gather numDigits="1" action="/boom"><Say>Press 1</Say></Gather></Response>'

    @app.route("/boom", methods=["POST"])
    def boom():
        abort(500)

    base = serve(app)
    steps = [{"expect": "Press 1", "then": "press=1", "timeout": 2},
             {"expect": "Thanks", "timeout": 3}]
    [doc] = run(store, [suite(steps)], parse_target(f"twiml:{base}/voice")).documents
    assert doc["status"] == "failed" and "setupError" not in doc
    assert doc["appError"]["url"] == base + "/boom"
    assert doc["results"][1]["actualResult"] == "We are sorry, an application error has occurred. Goodbye."


@pytest.mark.parametrize("meta,message", [
    ({"callerId": "4155550100"}, '"callerId": expected a phone number in E.164 form'),
    ({"caller": {"town": "X"}}, '"caller": unknown key "town"'),
    ({"caller": {"city": 5}}, '"caller.city": expected a string'),
    ({"dial": "maybe"}, '"dial": expected one of answered, busy, no-answer, failed'),
])
def test_bad_caller_fields_name_the_file_and_field(meta, message):
    from app.errors import SuiteError
    with pytest.raises(SuiteError, match="t.json: " + message.replace("(", r"\(").replace(")", r"\)")):
        suite([{"expect": "x"}], **meta)


def test_validator_sees_the_exact_url_of_a_get_request(serve, store, monkeypatch):
    monkeypatch.setenv("TWIML_AUTH_TOKEN", TOKEN)
    checked = []
    app = Flask(__name__)

    @app.route("/voice", methods=["GET"])
    def voice():
        ok = RequestValidator(TOKEN).validate(request.url, {}, request.headers["X-Twilio-Signature"])
        checked.append((ok, "CallSid=" in request.url))
        return "<Response><Say>Signed</Say></Response>"

    base = serve(app)
    [doc] = run(store, [suite([{"expect": "Signed", "timeout": 3}])],
                parse_target(f"twiml:GET:{base}/voice?menu=main")).documents
    assert doc["status"] == "complete" and checked == [(True, True)]


def test_cookies_an_app_sets_last_for_its_call_and_no_other(store, serve):
    app = Flask(__name__)
    app.secret_key = "k"
    from flask import session

    @app.route("/voice", methods=["POST"])
    def voice():
        seen = session.get("caller")
        session["caller"] = request.form["CallSid"]
        if seen is None:
            return '<Response><Say>First visit</Say><Redirect>/voice</Redirect></Response>'
        same = "same call" if seen == request.form["CallSid"] else "another call"
        return f"<Response><Say>Back from {same}</Say></Response>"

    base = serve(app)
    steps = [{"expect": "First visit Back from same call", "timeout": 3}]
    docs = run(store, [suite(steps)] * 3, parse_target(f"twiml:{base}/voice")).documents
    assert [d["status"] for d in docs] == ["complete"] * 3, [d["results"] for d in docs]
