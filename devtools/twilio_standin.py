"""A Twilio stand-in: the slice of Twilio's REST API a live run uses, served on 127.0.0.1, which
plays every call it creates against our webhooks over real HTTP.

It exists so the live path (REST client, CPS pacing, webhook server, signatures, status
callbacks, tunnel-free public URL) can be tested end to end without an account, money or the
internet. Point the app at it with TWILIO_API_BASE=http://127.0.0.1:PORT. It is a development
tool, never part of a run against a real IVR.

What it answers, shaped as Twilio answers (JSON; errors as {"code", "message", "more_info",
"status"}):
- POST /2010-04-01/Accounts/{AccountSid}/Calls.json. Basic auth (the account SID and the auth
  token) is checked: 20003, HTTP 401. Then the form: 21201 without To, 21213 without From, 21205
  without Url (inline Twiml is not supported here), 21211/21212 for a To/From that is not E.164,
  and a configured error for a refused number (by default 21219: a trial account calling an
  unverified number). Otherwise 201 and a call resource: sid "CA" + 32 hex, status "queued".
- GET .../Calls/{CallSid}.json: the call as it is now (how a runner learns a call is over when
  the webhooks could not tell it).
- POST .../Calls/{CallSid}.json with Status=completed or canceled: ends a call still ringing.

Each created call then runs in its own worker thread:
1. status callbacks for the StatusCallbackEvent values asked for: initiated, ringing, then
   answered (CallStatus in-progress), or a final busy / no-answer / failed when configured so;
2. the conversation: the caller leg is the simulator's TwimlLeg fetching our webhooks with
   HttpFetcher (signed with the stand-in's signing token), the callee is the sample Amazon
   Connect flow and Lex bot (ConnectFlowLeg), on a VirtualClock, so the call's virtual seconds
   pass at once;
3. the "completed" status callback, which the TwimlLeg sends when the line hangs up.

Configurable: the account SID and auth token, a different token to sign webhooks with (a wrong
TWILIO_AUTH_TOKEN as our server sees it), refused numbers and their errors, and how calls are
answered (answer, busy, no-answer, failed; "hold": ring until ended through the REST API;
"stall": answer, fetch the first TwiML, then never move on), and whether status callbacks are
sent at all.
Every creation request is kept with its wall-clock arrival time, for pacing tests.

    python -m devtools.twilio_standin --port 8765 --token secret
"""
import argparse
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

from flask import Flask, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from app.simulator.clock import VirtualClock
from app.simulator.connect_flow import load_flow
from app.simulator.connect_leg import ConnectFlowLeg
from app.simulator.fetch import FetchError, HttpFetcher
from app.simulator.lex import LexBot
from app.simulator.line import Line
from app.simulator.network import call_params
from app.simulator.recognizer import Recognizer
from app.simulator.twiml_leg import TwimlLeg

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FLOW = ROOT / "aws-connect-contact-flows"
DEFAULT_LEX_BOT = ROOT / "aws-lex-bot"
DEFAULT_ACCOUNT_SID = "AC" + "5" * 32
API_VERSION = "2010-04-01"
ANSWERS = ("answer", "busy", "no-answer", "failed", "hold", "stall")
FINAL = ("completed", "busy", "no-answer", "failed", "canceled")
MAX_CALL_SECONDS = 900
MAX_EVENTS = 20_000
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# Error codes from Twilio's error dictionary, with messages in this tool's words.
MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    21201: "No 'To' number is specified",
    21205: "Url parameter is required",
    21210: "'From' phone number not verified: {from_}",
    21211: "Invalid 'To' Phone Number: {to}",
    21212: "Invalid 'From' Phone Number: {from_}",
    21213: "No 'From' number is specified",
    21214: "'To' phone number cannot be reached: {to}",
    21215: "Geographic permission to call {to} is not enabled for this account",
    21219: "The number {to} is unverified. Trial accounts may only call verified numbers; "
           "verify it in the console or upgrade the account",
}


class TwilioError(Exception):
    """A refusal, answered as Twilio's JSON error body with its HTTP status."""

    def __init__(self, code, status=400, **values):
        super().__init__(code)
        self.code, self.status = code, status
        self.message = MESSAGES.get(code, "Call refused").format(to=values.get("to", ""),
                                                                 from_=values.get("from_", ""))

    def body(self):
        return {"code": self.code, "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}", "status": self.status}


@dataclass
class StandInCall:
    """One call as the stand-in knows it; `webhooks` lists (method, url, HTTP status or None)."""
    sid: str
    to: str
    from_: str
    url: str
    method: str
    status_callback: str | None
    status_callback_method: str
    events: tuple
    date_created: str
    status: str = "queued"
    log: list = field(default_factory=list)       # the call's transcript, for tests to inspect
    errors: list = field(default_factory=list)    # Twilio error codes our leg recorded
    webhooks: list = field(default_factory=list)


class QuietHandler(WSGIRequestHandler):
    """No access log: test output should show the run, not the stand-in's traffic."""

    def log_request(self, *args, **kwargs):
        pass


class RecordingFetcher:
    """An HttpFetcher that notes each request's outcome on the call (tests look for 403s)."""

    def __init__(self, fetch, call):
        self.fetch, self.call = fetch, call

    def __call__(self, method, url, params):
        try:
            code, body = self.fetch(method, url, params)
        except FetchError:
            self.call.webhooks.append((method, url, None))
            raise
        self.call.webhooks.append((method, url, code))
        return code, body


class TwilioStandIn:
    def __init__(self, token, account_sid=DEFAULT_ACCOUNT_SID, signing_token=None, refuse=None,
                 answer="answer", answers=None, flow=DEFAULT_FLOW, lex_bot=DEFAULT_LEX_BOT,
                 noise="realistic", seed=0, drop_callbacks=False, host="127.0.0.1", port=0):
        """refuse: {number: error code}; answers: {number: how that number answers};
        drop_callbacks: send no status callbacks at all (lost on the way, as far as we know)."""
        if answer not in ANSWERS or any(a not in ANSWERS for a in (answers or {}).values()):
            raise ValueError(f"answer must be one of {', '.join(ANSWERS)}")
        self.token, self.account_sid = token, account_sid
        self.signing_token = signing_token or token
        self.refuse, self.answer, self.answers = dict(refuse or {}), answer, dict(answers or {})
        self.flow = load_flow(flow)
        self.bot = LexBot.load(lex_bot) if lex_bot else None
        self.noise, self.seed, self.drop_callbacks = noise, seed, drop_callbacks
        self.calls = {}             # sid -> StandInCall
        self.creations = []         # (wall time of arrival, form fields) for every create request
        self._lock = threading.Lock()
        self._workers = []
        self._server = make_server(host, port, self._app(), threaded=True,
                                   request_handler=QuietHandler)
        self.base_url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="twilio-standin",
                                        daemon=True)

    # -- lifetime ---------------------------------------------------------------------------

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)
        self.wait_idle(timeout=5)

    def serve_forever(self):
        """Serve in this thread (the command line) until interrupted."""
        self._server.serve_forever()

    def wait_idle(self, timeout=10):
        """Wait for every call's worker; True when all are done."""
        deadline = time.monotonic() + timeout
        for worker in list(self._workers):
            worker.join(max(0.0, deadline - time.monotonic()))
        return not any(worker.is_alive() for worker in self._workers)

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc):
        self.stop()

    # -- the REST API -----------------------------------------------------------------------

    def _app(self):
        app = Flask(__name__)
        prefix = f"/{API_VERSION}/Accounts/<account>/Calls"
        app.add_url_rule(f"{prefix}.json", "create", self._create, methods=["POST"])
        app.add_url_rule(f"{prefix}/<sid>.json", "fetch", self._fetch, methods=["GET"])
        app.add_url_rule(f"{prefix}/<sid>.json", "update", self._update, methods=["POST"])
        app.register_error_handler(TwilioError, lambda exc: (jsonify(exc.body()), exc.status))
        return app

    def _authenticate(self, account):
        auth = request.authorization
        if (auth is None or auth.username != self.account_sid or auth.password != self.token
                or account != self.account_sid):
            raise TwilioError(20003, status=401)

    def _create(self, account):
        arrived = time.time()
        form = {key: request.form.getlist(key) for key in request.form}
        with self._lock:
            self.creations.append((arrived, form))
        self._authenticate(account)
        call = self._new_call(request.form, arrived)
        with self._lock:
            self.calls[call.sid] = call
        response = jsonify(self._resource(call))   # as created: queued, before the call moves on
        worker = threading.Thread(target=self._play, args=(call,), name=f"call-{call.sid}", daemon=True)
        self._workers.append(worker)
        worker.start()
        return response, 201

    def _new_call(self, form, arrived):
        to, from_, url = form.get("To", ""), form.get("From", ""), form.get("Url", "")
        if not to:
            raise TwilioError(21201)
        if not from_:
            raise TwilioError(21213)
        if not re.match(r"^https?://", url):
            raise TwilioError(21205)
        if not _E164.match(to):
            raise TwilioError(21211, to=to)
        if not _E164.match(from_):
            raise TwilioError(21212, from_=from_)
        if to in self.refuse:
            raise TwilioError(self.refuse[to], to=to, from_=from_)
        created = format_datetime(datetime.fromtimestamp(arrived, timezone.utc))
        return StandInCall(
            sid="CA" + secrets.token_hex(16), to=to, from_=from_, url=url,
            method=(form.get("Method") or "POST").upper(),
            status_callback=form.get("StatusCallback") or None,
            status_callback_method=(form.get("StatusCallbackMethod") or "POST").upper(),
            events=tuple(form.getlist("StatusCallbackEvent") or ["completed"]),
            date_created=created)

    def _call(self, account, sid):
        self._authenticate(account)
        call = self.calls.get(sid)
        if call is None:
            raise TwilioError(20404, status=404)
        return call

    def _fetch(self, account, sid):
        return jsonify(self._resource(self._call(account, sid)))

    def _update(self, account, sid):
        call = self._call(account, sid)
        wanted = request.form.get("Status")
        with self._lock:
            if wanted in ("completed", "canceled") and call.status not in FINAL:
                call.status = "canceled" if call.status in ("queued", "ringing") else "completed"
        return jsonify(self._resource(call))

    def _resource(self, call):
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{call.sid}.json"
        return {
            "sid": call.sid, "account_sid": self.account_sid, "api_version": API_VERSION,
            "to": call.to, "to_formatted": call.to, "from": call.from_,
            "from_formatted": call.from_, "status": call.status, "direction": "outbound-api",
            "date_created": call.date_created, "date_updated": call.date_created,
            "start_time": None, "end_time": None, "duration": None, "price": None,
            "price_unit": "USD", "answered_by": None, "caller_name": None, "forwarded_from": None,
            "parent_call_sid": None, "phone_number_sid": None, "group_sid": None,
            "queue_time": "0", "trunk_sid": None, "annotation": None, "uri": uri,
            "subresource_uris": {
                "notifications": uri.replace(".json", "/Notifications.json"),
                "recordings": uri.replace(".json", "/Recordings.json"),
                "events": uri.replace(".json", "/Events.json"),
            },
        }

    # -- the call ---------------------------------------------------------------------------

    def _play(self, call):
        """Ring, then answer (play the flow against our webhooks) or end as configured."""
        fetch = RecordingFetcher(HttpFetcher(auth_token=self.signing_token), call)
        self._progress(call, fetch, "initiated", "initiated")
        self._progress(call, fetch, "ringing", "ringing")
        outcome = self.answers.get(call.to, self.answer)
        if outcome == "hold":
            return
        if outcome not in ("answer", "stall"):
            self._progress(call, fetch, "completed", outcome)
            return
        self._progress(call, fetch, "answered", "in-progress")
        if outcome == "stall":
            self._stall(call, fetch)
        else:
            self._converse(call, fetch)

    def _stall(self, call, fetch):
        """Answer, fetch the first TwiML, then go quiet with the call up: a hung call."""
        try:
            fetch(call.method, call.url, {**self._params(call), "CallStatus": "in-progress"})
        except FetchError:
            pass

    def _progress(self, call, fetch, event, status):
        """Move the call to `status`; send the status callback when `event` was asked for."""
        with self._lock:
            if call.status in FINAL:
                return
            call.status = status
        if event in call.events and call.status_callback and not self.drop_callbacks:
            params = {**self._params(call), "CallStatus": status,
                      "CallbackSource": "call-progress-events"}
            try:
                fetch(call.status_callback_method, call.status_callback, params)
            except FetchError:
                pass  # Twilio, too, just logs a callback it could not deliver

    def _converse(self, call, fetch):
        clock = VirtualClock()
        line = Line(clock, Recognizer(self.noise, self.seed), call_id=call.sid)
        # registered before the caller leg's own hook, so the call is completed before its callback
        line.on_end.append(lambda _line: self._set_status(call, "completed"))
        wanted = "completed" in call.events and not self.drop_callbacks
        completed = call.status_callback if wanted else None
        caller = TwimlLeg(clock, line, fetch, call.url, self._params(call), name="caller",
                          method=call.method, status_callback=completed,
                          status_callback_method=call.status_callback_method)
        ivr = ConnectFlowLeg(clock, line, self.flow, lex_bot=self.bot, name="ivr")
        clock.call_later(MAX_CALL_SECONDS, line.hangup, None, "call-length limit")
        line.connect(caller, ivr)
        clock.run(max_events=MAX_EVENTS)
        line.hangup(None, "stand-in event limit")  # no-op when the call already ended
        call.log, call.errors = line.log, list(caller.errors)

    def _set_status(self, call, status):
        with self._lock:
            if call.status not in FINAL:
                call.status = status

    def _params(self, call):
        params = call_params(call.sid, "outbound-api", call.from_, call.to)
        params["AccountSid"] = self.account_sid
        return params


def _refusal(text):
    number, _, code = text.partition("=")
    return number, int(code or 21219)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m devtools.twilio_standin",
                                     description="A local Twilio Calls API for testing live runs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", required=True, help="The auth token it accepts (and signs with).")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--signing-token", help="Sign webhooks with another token (tests 403s).")
    parser.add_argument("--refuse", action="append", default=[], type=_refusal,
                        metavar="NUMBER[=CODE]", help="Refuse calls to NUMBER (default code 21219).")
    parser.add_argument("--answer", choices=ANSWERS, default="answer")
    parser.add_argument("--flow", default=str(DEFAULT_FLOW))
    parser.add_argument("--lex-bot", default=str(DEFAULT_LEX_BOT))
    parser.add_argument("--noise", choices=("off", "realistic"), default="realistic")
    args = parser.parse_args(argv)
    standin = TwilioStandIn(args.token, account_sid=args.account_sid,
                            signing_token=args.signing_token, refuse=dict(args.refuse),
                            answer=args.answer, flow=args.flow, lex_bot=args.lex_bot,
                            noise=args.noise, host=args.host, port=args.port)
    print(f"Twilio stand-in at {standin.base_url} (account {args.account_sid}); "
          f"set TWILIO_API_BASE={standin.base_url}", flush=True)
    try:
        standin.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
