"""Fetchers send what Twilio sends (params, signature), in process and over real HTTP; and the
showtimes example runs end to end through a TwimlLeg against a caller that follows its suites."""
import json
import socket
import threading
from pathlib import Path

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from app.matching import match
from app.simulator.clock import VirtualClock
from app.simulator.fetch import FetchError, FlaskFetcher, HttpFetcher
from app.simulator.line import Endpoint, Line
from app.simulator.recognizer import Recognizer
from app.simulator.twiml_leg import TwimlLeg
from examples.showtimes.app import create_app as create_showtimes

TOKEN = "test-auth-token"
PARAMS = {"CallSid": "CA1", "From": "+15550001111", "To": "+15552223333"}
SUITES = sorted((Path(__file__).resolve().parents[1] / "examples/showtimes/suites").glob("*.json"))


def echo_app():
    """Echoes what it received, as JSON; /missing is a 404."""
    app = Flask(__name__)

    @app.route("/hook", methods=["GET", "POST"])
    def hook():
        return {"method": request.method, "url": request.url, "form": dict(request.form),
                "args": dict(request.args),
                "signature": request.headers.get("X-Twilio-Signature")}

    return app


@pytest.fixture
def serve():
    """Serve a WSGI app on 127.0.0.1 on a free port; yields a function app -> base URL."""
    servers = []

    def start(app):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def valid(echo, public_url=None):
    """Whether the echoed request's signature checks out the way a Twilio app checks it."""
    url = public_url or echo["url"]
    return RequestValidator(TOKEN).validate(url, echo["form"], echo["signature"])


# -- FlaskFetcher ---------------------------------------------------------------------------

def test_flask_fetcher_posts_form_params_to_the_url_given():
    status, body = FlaskFetcher(echo_app())("POST", "http://ivr.test/hook?x=1", PARAMS)
    echo = json.loads(body)
    assert status == 200 and echo["method"] == "POST"
    assert echo["form"] == PARAMS and echo["args"] == {"x": "1"}
    assert echo["url"] == "http://ivr.test/hook?x=1" and echo["signature"] is None


def test_flask_fetcher_get_puts_params_in_the_query_string():
    status, body = FlaskFetcher(echo_app())("GET", "http://ivr.test/hook?x=1", PARAMS)
    echo = json.loads(body)
    assert echo["method"] == "GET" and echo["form"] == {}
    assert echo["args"] == {"x": "1", **PARAMS}


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_flask_fetcher_signs_the_url_it_requests(method):
    fetch = FlaskFetcher(echo_app(), auth_token=TOKEN)
    echo = json.loads(fetch(method, "http://ivr.test/hook?x=1", PARAMS)[1])
    assert echo["signature"] and valid(echo)
    assert not valid({**echo, "url": echo["url"] + "&tampered=1"})


def test_flask_fetcher_signs_the_public_url_when_given():
    fetch = FlaskFetcher(echo_app(), auth_token=TOKEN, public_url="https://abc.ngrok.io/")
    echo = json.loads(fetch("POST", "http://127.0.0.1:5000/hook?x=1", PARAMS)[1])
    assert valid(echo, public_url="https://abc.ngrok.io/hook?x=1")
    assert not valid(echo)


def test_flask_fetcher_returns_error_statuses_as_they_are():
    assert FlaskFetcher(echo_app())("POST", "http://ivr.test/missing", PARAMS)[0] == 404


# -- HttpFetcher ----------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["POST", "GET"])
def test_http_fetcher_sends_signed_requests_over_http(serve, method):
    base = serve(echo_app())
    status, body = HttpFetcher(auth_token=TOKEN)(method, base + "/hook?x=1", PARAMS)
    echo = json.loads(body)
    assert status == 200 and echo["method"] == method and valid(echo)
    assert (echo["form"] if method == "POST" else echo["args"]) == (
        PARAMS if method == "POST" else {"x": "1", **PARAMS})


def test_http_fetcher_returns_error_statuses_as_they_are(serve):
    base = serve(echo_app())
    assert HttpFetcher()("POST", base + "/missing", PARAMS)[0] == 404


def test_http_fetcher_raises_fetch_error_when_nothing_listens():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match="ConnectionError"):
        HttpFetcher(timeout=2)("POST", f"http://127.0.0.1:{port}/hook", PARAMS)


def test_http_fetcher_raises_fetch_error_on_timeout():
    with socket.socket() as sock:  # accepts connections (backlog) but never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        with pytest.raises(FetchError) as caught:
            HttpFetcher(timeout=0.2)("POST", f"http://127.0.0.1:{port}/hook", PARAMS)
        assert caught.value.code == 11205


# -- the showtimes example, end to end ------------------------------------------------------

class SuiteCaller(Endpoint):
    """A caller that follows a suite: listens until the IVR is quiet for the step's timeout,
    judges what it heard against `expect`, then presses, says, hangs up or just listens on."""

    name = "caller"

    def __init__(self, clock, line, steps):
        self.clock, self.line, self.steps = clock, line, steps
        self.index, self.heard, self.verdicts, self._quiet = 0, [], [], None

    def on_connect(self):
        self._begin_step()

    def _begin_step(self):
        self.heard = []
        if self.index < len(self.steps):
            self._wait_for_quiet()

    def _wait_for_quiet(self):
        self._stop_waiting()
        self._quiet = self.clock.call_later(self.steps[self.index]["timeout"], self._judge)

    def _stop_waiting(self):
        if self._quiet is not None:
            self._quiet.cancel()

    def on_speech_start(self):
        self._stop_waiting()

    def on_speech_end(self, transcript, confidence):
        self.heard.append(transcript)
        if self.index < len(self.steps):
            self._wait_for_quiet()

    def on_hangup(self, reason):
        self._stop_waiting()
        if self.index < len(self.steps) and self.heard:
            self._judge()

    def _judge(self):
        step, text = self.steps[self.index], " ".join(self.heard)
        self.verdicts.append((match(step["expect"], text).passed, text))
        self.index += 1
        then = step.get("then") or ""
        if then.startswith("press="):
            self.line.play_digits(self, then[len("press="):], self._begin_step)
        elif then.startswith("say="):
            self.line.say(self, then[len("say="):], self._begin_step)
        elif then == "hangup":
            self.line.hangup(self, "hangup")
        else:
            self._begin_step()


def run_suite(steps, fetch, url, seed=0):
    clock = VirtualClock()
    line = Line(clock, recognizer=Recognizer("realistic", seed=seed))
    ivr = TwimlLeg(clock, line, fetch, url, PARAMS, name="ivr")
    caller = SuiteCaller(clock, line, steps)
    line.connect(caller, ivr)
    clock.run(until=600, max_events=5000)
    return caller, ivr, line


def load_steps(path):
    return json.loads(path.read_text())["steps"]


def test_there_are_suites_for_dtmf_speech_and_an_invalid_choice():
    names = {path.stem for path in SUITES}
    assert {"happy_path_dtmf", "happy_path_speech", "invalid_then_valid"} <= names
    for path in SUITES:
        suite = json.loads(path.read_text())
        assert "target" not in suite and suite["name"] and suite["steps"]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.stem)
def test_showtimes_suites_pass_in_process(path, seed):
    steps = load_steps(path)
    caller, ivr, line = run_suite(steps, FlaskFetcher(create_showtimes()),
                                  "http://showtimes.test/voice", seed)
    assert [passed for passed, _ in caller.verdicts] == [True] * len(steps), caller.verdicts
    assert ivr.errors == [] and line.end_reason == "hangup" and line.log[-1]["party"] == "ivr"


def test_showtimes_over_http_with_signature_validation(serve):
    base = serve(create_showtimes(auth_token=TOKEN))
    steps = load_steps(SUITES[0])
    caller, ivr, line = run_suite(steps, HttpFetcher(auth_token=TOKEN), base + "/voice")
    assert [passed for passed, _ in caller.verdicts] == [True] * len(steps), caller.verdicts
    assert [url.rsplit("/", 1)[1] for _, url, _ in ivr.requests] == [
        "voice", "theater", "movie?theater=1"]
    assert ivr.requests[1][2]["Digits"] == "1" and ivr.errors == []


def test_showtimes_refuses_a_bad_signature_and_the_leg_reports_11200(serve):
    base = serve(create_showtimes(auth_token=TOKEN))
    caller, ivr, line = run_suite(load_steps(SUITES[0]), HttpFetcher(auth_token="wrong"),
                                  base + "/voice")
    assert [code for code, _ in ivr.errors] == [11200] and "403" in ivr.errors[0][1]
    assert line.end_reason == f"application error 11200 at {base}/voice" and ivr.unreachable
    ((passed, heard),) = caller.verdicts   # the first step hears Twilio's message, and fails
    assert not passed and "application error" in heard


def test_showtimes_wrong_choice_is_not_a_pass():
    steps = load_steps(SUITES[0])
    steps[0] = {**steps[0], "then": "press=2"}  # Riverside, not the Downtown menu expected next
    caller, _, _ = run_suite(steps, FlaskFetcher(create_showtimes()), "http://showtimes.test/voice")
    assert [passed for passed, _ in caller.verdicts][:2] == [True, False]
