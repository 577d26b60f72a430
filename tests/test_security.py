"""Security: signatures checked by default, secrets never shown, request bodies bounded, and a
call that would never end is cut with a clear result."""
import json
import logging
import signal
import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from twilio.request_validator import RequestValidator

from app import MAX_REQUEST_BYTES, create_app
from app.cli import cli
from app.config import load_settings
from app.errors import ConfigError
from app.runner import Job, OfflineRunner
from app.store import ResultStore
from app.suite import load_suite, parse_suite
from app.targets import parse_target
from bench._util import HttpCall, Server, suite_answers, suite_copies
from tests.phonecall import PUBLIC_URL, PhoneCall

TOKEN = "security-auth-token-5ecret0123456789"
NGROK = "ngrok-authtoken-5ecret9876543210"
ENDPOINTS = ["/voice", "/gather?run=x&step=0", "/partial?run=x&step=0", "/status"]
PARAMS = {"CallSid": "CA" + "5" * 32, "AccountSid": "AC" + "0" * 32, "CallStatus": "in-progress"}


def signature(path, params, token=TOKEN, base=PUBLIC_URL):
    return RequestValidator(token).compute_signature(base + path, params)


@pytest.fixture
def secured(tmp_path):
    """The app as configured from settings with only a token: nothing says 'validate'."""
    store = ResultStore(tmp_path / "db.json", flush_delay=0.01)
    settings = load_settings(env={"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC_URL})
    app = create_app({**settings, "TESTING": True, "STORE": store})
    yield app, store
    store.close()


# ------------------------------------------------------------------ signatures

def test_a_token_turns_validation_on_and_only_the_flag_turns_it_off():
    assert load_settings(env={"TWILIO_AUTH_TOKEN": TOKEN})["VALIDATE_SIGNATURES"] is True
    assert load_settings(env={"TWILIO_AUTH_TOKEN": TOKEN, "VALIDATE_SIGNATURES": "false"})[
        "VALIDATE_SIGNATURES"] is False
    with pytest.raises(ConfigError):
        load_settings(env={"TWILIO_AUTH_TOKEN": TOKEN, "VALIDATE_SIGNATURES": "maybe"})


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_webhook_refuses_a_request_not_signed_with_our_token(secured, path):
    app, _ = secured
    client = app.test_client()
    forged = {
        "no signature": {},
        "empty signature": {"X-Twilio-Signature": ""},
        "another token": {"X-Twilio-Signature": signature(path, PARAMS, token="not-our-token")},
        "another url": {"X-Twilio-Signature": signature("/elsewhere", PARAMS)},
        "another host": {"X-Twilio-Signature": signature(path, PARAMS, base="https://evil.example")},
        "garbage": {"X-Twilio-Signature": "A" * 28},
    }
    for name, headers in forged.items():
        assert client.post(path, data=PARAMS, headers=headers).status_code == 403, name
    tampered = {**PARAMS, "CallStatus": "completed"}
    headers = {"X-Twilio-Signature": signature(path, PARAMS)}
    assert client.post(path, data=tampered, headers=headers).status_code == 403
    assert client.post(path, data=PARAMS, headers=headers).status_code == 200


def test_a_refusal_reveals_neither_the_token_nor_the_expected_signature(secured, caplog):
    app, _ = secured
    caplog.set_level(logging.DEBUG)
    response = app.test_client().post("/voice", data=PARAMS, headers={"X-Twilio-Signature": "x"})
    body = response.get_data(as_text=True)
    expected = signature("/voice", PARAMS)
    assert response.status_code == 403
    assert TOKEN not in body and expected not in body
    assert TOKEN not in caplog.text and expected not in caplog.text


def test_serve_over_http_refuses_unsigned_requests(tmp_path):
    server = Server(tmp_path / "results" / "db.json", suite_copies(tmp_path / "suites", 1), token=TOKEN)
    try:
        unsigned = HttpCall(server.port, "CA" + "6" * 32, suite_answers(), token=None)
        assert unsigned.post("/voice")[0] == 403
        signed = HttpCall(server.port, "CA" + "7" * 32, suite_answers(), token=TOKEN)
        signed.run()
        assert set(signed.statuses) == {200}
    finally:
        server.stop(signal.SIGINT)
    assert TOKEN not in server.output()


# ------------------------------------------------------------------ secrets stay secret

def test_no_secret_in_logs_or_results_of_calls_and_refusals(secured, caplog):
    app, store = secured
    caplog.set_level(logging.DEBUG)
    runs = app.extensions["runs"]
    suite = load_suite("testSuite/testSalesCall.json")
    run_id = runs.create(suite, target="security")
    client = app.test_client()
    PhoneCall(client, [suite.steps[0].expect[0], suite.steps[1].expect[0]], run_id=run_id,
              token=TOKEN).run()
    for path in ENDPOINTS:                                   # and some refusals
        client.post(path, data=PARAMS, headers={"X-Twilio-Signature": "wrong"})
    store.flush()
    assert store.get(run_id)["status"] == "complete"
    assert TOKEN not in caplog.text
    assert TOKEN not in store.path.read_text(encoding="utf-8")


def test_offline_runs_keep_their_signing_token_out_of_results_and_logs(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    store = ResultStore(tmp_path / "db.json")
    runner = OfflineRunner(store)
    suite = load_suite("testSuite/testSalesCall.json")
    runner.run([Job(suite, parse_target("aws-connect-contact-flows", "aws-lex-bot"))])
    store.close()
    token = runner.network.fetch.auth_token
    assert token and token not in store.path.read_text() and token not in caplog.text


def test_no_secret_in_cli_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                      # no .env of a developer's
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("NGROK_AUTHTOKEN", NGROK)
    monkeypatch.delenv("VALIDATE_SIGNATURES", raising=False)
    db = tmp_path / "db.json"
    root = Path(__file__).resolve().parent.parent
    runner = CliRunner()
    outputs = [
        runner.invoke(cli, ["run", str(root / "testSuite"), "--target",
                            str(root / "aws-connect-contact-flows"), "--lex-bot",
                            str(root / "aws-lex-bot"), "--db", str(db)]),
        runner.invoke(cli, ["run", str(root / "examples" / "failing"), "--target",
                            str(root / "aws-connect-contact-flows"), "--lex-bot",
                            str(root / "aws-lex-bot"), "--db", str(db)]),
        runner.invoke(cli, ["results", "--json", "--db", str(db)]),
        runner.invoke(cli, ["results", "--db", str(db)]),
        runner.invoke(cli, ["validate", str(root / "testSuite")]),
        runner.invoke(cli, ["run", "--target", "nowhere", "--db", str(db)]),
    ]
    assert outputs[0].exit_code == 0, outputs[0].output
    for result in outputs:
        text = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert TOKEN not in text and NGROK not in text
    stored = db.read_text(encoding="utf-8")
    assert TOKEN not in stored and NGROK not in stored


def test_no_secret_in_a_live_run_through_the_twilio_stand_in(tmp_path):
    """A live run (the Twilio stand-in on loopback), once well and once with credentials Twilio
    refuses: neither what it prints nor what it stores holds the auth token."""
    from devtools.twilio_standin import TwilioStandIn
    from tests.test_live import TARGET, live_env, run_main
    for standin_token, exit_code in ((TOKEN, 0), ("the-token-twilio-knows", 1)):
        twilio = TwilioStandIn(standin_token, account_sid="AC" + "7" * 32).start()
        try:
            db = tmp_path / f"live-{standin_token[:6]}.json"
            env = live_env(twilio, db, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_ACCOUNT_SID="AC" + "7" * 32)
            done = run_main(env, "testSuite/testSalesCall.json", "--target", TARGET, "--db", str(db))
        finally:
            twilio.stop()
        assert done.returncode == exit_code, done.stdout + done.stderr
        assert TOKEN not in done.stdout + done.stderr
        assert db.exists() and TOKEN not in db.read_text(encoding="utf-8")


def test_an_ngrok_failure_does_not_print_the_ngrok_token(monkeypatch):
    from pyngrok import ngrok
    from pyngrok.exception import PyngrokNgrokError

    from app.tunnel import open_tunnel

    def connect(*args, **kwargs):
        raise PyngrokNgrokError(
            "The ngrok process errored on start: authentication failed: The authtoken you "
            f"specified does not look like a proper ngrok tunnel authtoken.\nYour authtoken: {NGROK}")
    monkeypatch.setattr(ngrok, "connect", connect)
    monkeypatch.setattr(ngrok, "kill", lambda *args, **kwargs: None)
    with pytest.raises(ConfigError) as error:
        open_tunnel(5123, NGROK)
    assert NGROK not in str(error.value)


# ------------------------------------------------------------------ bounded bodies

@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_over_64_kb_gets_413(secured, path):
    app, store = secured
    big = {**PARAMS, "SpeechResult": "x" * (MAX_REQUEST_BYTES + 1)}
    response = app.test_client().post(path, data=big, headers={"X-Twilio-Signature": signature(path, big)})
    assert response.status_code == 413
    just_under = {**PARAMS, "SpeechResult": "x" * (MAX_REQUEST_BYTES - 1000)}
    response = app.test_client().post(path, data=just_under,
                                      headers={"X-Twilio-Signature": signature(path, just_under)})
    assert response.status_code != 413


def raw_post(port, length, send, timeout=5):
    """POST /voice declaring `length` bytes, sending `send`; the status line, or None on timeout."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"POST /voice HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Twilio-Signature: x\r\n"
                     f"Content-Type: application/x-www-form-urlencoded\r\n"
                     f"Content-Length: {length}\r\n\r\n".encode())
        try:
            sock.sendall(b"a" * send)
            return sock.recv(100).split(b"\r\n")[0].decode()
        except (socket.timeout, ConnectionError):
            return None


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path / "results" / "db.json", suite_copies(tmp_path / "suites", 1), token=TOKEN)
    yield running
    running.stop(signal.SIGINT)


def test_serve_answers_413_to_a_big_body(server):
    assert raw_post(server.port, 100_000, 100_000).split()[1] == "413"
    assert raw_post(server.port, 1000, 1000).startswith("HTTP/1.1 403")        # still serving


def test_serve_refuses_a_declared_huge_body_at_once(server):
    started = time.monotonic()
    status = raw_post(server.port, 50_000_000, 100_000, timeout=2)
    assert status is not None and status.split()[1] == "413"
    assert time.monotonic() - started < 2


# ------------------------------------------------------------------ calls that never end

LOOPING_FLOW = {"Version": "2019-10-30", "StartAction": "menu", "Actions": [{
    "Identifier": "menu", "Type": "GetParticipantInput",
    "Parameters": {"Text": "Press 1 to hear this menu again.", "InputTimeLimitSeconds": "5"},
    "Transitions": {"Conditions": [{"NextAction": "menu", "Condition": {"Operator": "Equals",
                                                                         "Operands": ["1"]}}],
                    "Errors": [{"NextAction": "menu", "ErrorType": kind} for kind in
                               ("NoMatchingCondition", "InputTimeLimitExceeded", "NoMatchingError")]}}]}


def test_a_flow_and_suite_that_would_loop_forever_are_cut_at_the_call_length_limit(tmp_path):
    """The menu repeats for every press and the suite presses 1 for 500 steps (some 40 minutes
    of call): the network's limit (900 s by default) ends the call, and the run says so."""
    flow = tmp_path / "loop.json"
    flow.write_text(json.dumps(LOOPING_FLOW))
    suite = parse_suite([{"expect": "Press 1 to hear this menu again.", "then": "press=1",
                          "timeout": 2}] * 500, "loop-suite.json")
    store = ResultStore(tmp_path / "db.json")
    started = time.perf_counter()
    [doc] = OfflineRunner(store, noise="off").run([Job(suite, parse_target(str(flow)))]).documents
    store.close()
    assert time.perf_counter() - started < 20
    assert doc["status"] == "failed" and doc["callEnd"] == "call-length limit"
    assert doc["virtualSeconds"] == 900 and "call-length limit" in doc["ivrOutcome"]
    assert 0 < doc["passedSteps"] < 500 and doc["results"][-1]["reason"] == "call ended"
    assert doc["transcript"][-1] == {"t": 900.0, "party": "network", "kind": "hangup",
                                     "text": "call-length limit"}


def test_the_call_length_limit_is_configurable(tmp_path):
    flow = tmp_path / "loop.json"
    flow.write_text(json.dumps(LOOPING_FLOW))
    suite = parse_suite([{"expect": "Press 1 to hear this menu again.", "then": "press=1",
                          "timeout": 2}] * 100, "loop-suite.json")
    store = ResultStore(tmp_path / "db.json")
    [doc] = OfflineRunner(store, noise="off", max_call_seconds=60).run(
        [Job(suite, parse_target(str(flow)))]).documents
    store.close()
    assert doc["status"] == "failed" and doc["callEnd"] == "call-length limit"
    assert doc["virtualSeconds"] == 60


def test_no_secret_appears_in_the_dashboard_or_the_html_report(tmp_path):
    ngrok_token = "ngrok-5ecret-token-0123456789"
    store = ResultStore(tmp_path / "db.json")
    [doc] = OfflineRunner(store).run([Job(load_suite("testSuite/testSalesCall.json"),
                                          parse_target("aws-connect-contact-flows", "aws-lex-bot"))]).documents
    app = create_app({"TESTING": True, "STORE": store, "TWILIO_AUTH_TOKEN": TOKEN,
                      "NGROK_AUTHTOKEN": ngrok_token})
    client = app.test_client()
    pages = [client.get("/"), client.get(f"/runs/{doc['unique_id']}")]
    assert all(page.status_code == 200 for page in pages)
    from app.dashboard import render_static_report
    texts = [page.get_data(as_text=True) for page in pages] + [render_static_report([doc])]
    assert doc["suite"] in texts[0]
    for text in texts:
        assert TOKEN not in text and ngrok_token not in text
    store.close()
