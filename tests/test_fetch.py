"""Fetchers send what Twilio sends (params, signature), in process and over real HTTP; and the
showtimes example runs end to end through a TwimlLeg against a caller that follows its suites."""
import json
import socket
import threading
import time
from pathlib import Path

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator

from app.matching import match
from app.simulator import fetch
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


# -- bounded fetches: slow, huge and crashing answers ---------------------------------------

class RawServer:
    """A socket server on 127.0.0.1 that answers every connection with `respond(conn, stop)`;
    used to trickle or flood bytes in ways a well-behaved HTTP server never would."""

    def __init__(self, respond):
        self.respond, self.stop = respond, threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/voice"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        with conn:
            try:
                conn.recv(65536)
                self.respond(conn, self.stop)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def raw_server():
    servers = []

    def start(respond):
        servers.append(RawServer(respond))
        return servers[-1].url

    yield start
    for server in servers:
        server.close()


def trickle(data, every):
    def respond(conn, stop):
        for byte in data:
            if stop.wait(every):
                return
            conn.sendall(bytes([byte]))
    return respond


OK_HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n"


@pytest.mark.parametrize("respond", [
    trickle(OK_HEADERS + b"<Response>" + b" " * 1000, 0.1),       # the body, a byte at a time
    trickle(OK_HEADERS, 0.3),                                       # even the headers
], ids=["body", "headers"])
def test_http_fetcher_gives_up_at_its_wall_deadline_however_slow_the_trickle(raw_server, respond):
    url = raw_server(respond)
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        HttpFetcher(timeout=1.0)("POST", url, PARAMS)
    assert caught.value.code == 11205 and "within 1 s" in str(caught.value)
    assert time.monotonic() - started < 1.5


def test_twilio_limits_are_15_seconds_and_64_kb():
    assert fetch.TOTAL_TIMEOUT == 15 and fetch.MAX_BODY_BYTES == 64 * 1024
    assert HttpFetcher().timeout == 15


def flood(conn, stop, chunked=False):
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n" +
            (b"Transfer-Encoding: chunked\r\n\r\n" if chunked else b"Content-Length: 1000000000\r\n\r\n"))
    conn.sendall(head)
    block = b"<Say>" + b"x" * 8000 + b"</Say>"
    for _ in range(2000):    # at most 16 MB, never the advertised gigabyte
        if stop.is_set():
            return
        conn.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)


@pytest.mark.parametrize("chunked", [False, True])
def test_http_fetcher_refuses_a_body_over_64_kb_without_reading_it_all(raw_server, chunked):
    url = raw_server(lambda conn, stop: flood(conn, stop, chunked))
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        HttpFetcher(timeout=5)("POST", url, PARAMS)
    assert caught.value.code == 11750 and "64 kB" in str(caught.value)
    assert time.monotonic() - started < 2


def test_flask_fetcher_caps_bodies_and_answers_500_for_an_app_that_raises():
    app = Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True   # as a debug-mode app does

    @app.route("/big", methods=["POST"])
    def big():
        return "<Response>" + "<Say>x</Say>" * 10000 + "</Response>"

    @app.route("/crash", methods=["POST"])
    def crash():
        return {}.has_key("x")  # a Python 2 idiom, as in a real sample app

    fetcher = FlaskFetcher(app)
    with pytest.raises(FetchError) as caught:
        fetcher("POST", "http://app.test/big", PARAMS)
    assert caught.value.code == 11750
    assert fetcher("POST", "http://app.test/crash", PARAMS)[0] == 500


def test_a_slow_app_ends_the_call_with_twilio_error_and_message(raw_server):
    url = raw_server(trickle(OK_HEADERS + b"<Response>" * 100, 0.2))
    clock = VirtualClock()
    line = Line(clock)
    caller = SuiteCaller(clock, line, [{"expect": "Welcome", "timeout": 5}])
    ivr = TwimlLeg(clock, line, HttpFetcher(timeout=0.5), url, PARAMS, name="ivr")
    line.connect(caller, ivr)
    clock.run(until=600, max_events=5000)
    assert ivr.app_error["code"] == 11205 and ivr.unreachable
    assert line.end_reason == f"application error 11205 at {url}"
    assert caller.verdicts[0][1] == "We are sorry, an application error has occurred. Goodbye."


def test_auth_token_for_twiml_targets_prefers_the_target_specific_one():
    assert fetch.twiml_auth_token({"TWILIO_AUTH_TOKEN": "a", "TWIML_AUTH_TOKEN": "b"}) == "b"
    assert fetch.twiml_auth_token({"TWILIO_AUTH_TOKEN": "a"}) == "a"
    assert fetch.twiml_auth_token({"TWILIO_AUTH_TOKEN": "  "}) is None
