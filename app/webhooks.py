"""The Twilio webhooks: `/voice` when a call is answered, `/gather` for what the caller heard,
`/partial` for speech recognized so far, `/status` for Twilio's status callbacks. Twilio and the offline emulator both come through here.

Every request is checked against `X-Twilio-Signature` whenever an auth token is configured.
Nothing a caller sends can make these answer with a 500: malformed input gets a 4xx, an unknown
call gets valid TwiML that hangs up.
"""
import hmac
import re

from flask import Blueprint, Response, abort, current_app, request, url_for
from twilio.request_validator import RequestValidator

from app import twiml
from app.errors import StorageError

bp = Blueprint("webhooks", __name__)
_SID = re.compile(r"[A-Za-z0-9_-]{1,64}")          # whole value (fullmatch): no "\n" after it
SIGNATURE_ERROR = "X-Twilio-Signature did not validate"   # the 403's description; live runs count it


def runs():
    return current_app.extensions["runs"]


def xml(text):
    return Response(text, mimetype="text/xml")


def acknowledged():
    """The answer to a callback Twilio does not act on (/partial, /status): 200 with an empty
    `<Response/>`. Not a 204: a 204 may not state a length (RFC 9110), and a server may close
    the connection after a response without one (waitress, which served this before cheroot,
    did after every 204). A call's next webhook then had to open a new connection, and with
    1,000 connections open that accept waited ~1 s (bench/serve_capacity.py: /gather p50 900
    ms, handler 2-8 ms). Twilio ignores both answers."""
    return xml(twiml.empty())


def hangup(reason, *args):
    current_app.logger.warning(reason, *args)
    return xml(twiml.hangup())


@bp.before_request
def check_signature():
    """403 unless the request is signed with our auth token (when one is configured)."""
    if request.endpoint == "webhooks.health":
        return None
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not token or not current_app.config.get("VALIDATE_SIGNATURES", True):
        return None
    signature = request.headers.get("X-Twilio-Signature", "")
    public = current_app.config.get("PUBLIC_URL")
    url = public + request.full_path.rstrip("?") if public else request.url
    if not signature or not signature_matches(RequestValidator(token), url, signature):
        current_app.logger.warning("rejected %s: %s", request.path, SIGNATURE_ERROR)
        abort(403, SIGNATURE_ERROR)
    return None


def signature_matches(validator, url, signature):
    """Check the exact URL first (one HMAC); `validate` also tries the URL with and without its
    port, which costs two parses and two HMACs on every request."""
    expected = validator.compute_signature(url, request.form)
    return hmac.compare_digest(expected, signature) or validator.validate(url, request.form, signature)


@bp.get("/health")
def health():
    """200 while results are being stored; 503 with the reason once a write failed (a full
    disk, a read-only folder), until one succeeds again."""
    failure = current_app.extensions["store"].health()
    if failure:
        return {"status": "error", "reason": failure}, 503
    return {"status": "ok"}


@bp.app_errorhandler(StorageError)
def storage_failed(error):
    """A write that failed: the caller is told (503, Twilio plays its error) and so is the log,
    every time (the store logs each failure), never a 500 with a traceback."""
    return Response(f"results cannot be stored: {error}\n", status=503, mimetype="text/plain")


def call_sid():
    sid = request.values.get("CallSid", "")
    if not _SID.fullmatch(sid):
        abort(400, "CallSid is missing or malformed")
    return sid


def step_number():
    try:
        return int(request.args.get("step", ""))
    except ValueError:
        abort(400, "step must be a whole number")


def render(reply, run_id):
    def gather_url(step, silence):
        extra = {"silence": 1} if silence else {}
        return url_for("webhooks.gather", run=run_id, step=step, **extra)

    def partial_url(step):
        return url_for("webhooks.partial", run=run_id, step=step)
    return xml(twiml.render(reply, gather_url, partial_url))


@bp.post("/voice")
def voice():
    sid, run_id = call_sid(), request.args.get("run")
    answered = runs().answer(sid, run_id)
    if answered is None:
        return hangup("call %s: no queued suite and no run %r; hanging up", sid, run_id)
    run_id, reply = answered
    return render(reply, run_id)


@bp.post("/gather")
def gather():
    sid, step, run_id = call_sid(), step_number(), request.args.get("run", "")
    speech = request.form.get("SpeechResult")
    if speech is not None and not request.args.get("silence"):
        reply = runs().hear(run_id, sid, step, speech, request.form.get("Confidence"))
    else:
        reply = runs().silence(run_id, sid, step)
    if reply is None:
        return hangup("gather for unknown call %s (run %r); hanging up", sid, run_id)
    return render(reply, run_id)


@bp.post("/partial")
def partial():
    """Gather's partialResultCallback: the transcript so far. Twilio ignores the answer."""
    sid, step, run_id = call_sid(), step_number(), request.args.get("run", "")
    text = request.form.get("StableSpeechResult") or request.form.get("UnstableSpeechResult") or ""
    if not runs().partial(run_id, sid, step, text):
        current_app.logger.warning("partial result for unknown call %s (run %r)", sid, run_id)
    return acknowledged()


@bp.post("/status")
def status():
    sid = call_sid()
    call_status = request.form.get("CallStatus", "")
    if not runs().call_status(sid, call_status, request.args.get("run")):
        return hangup("status %r for unknown call %s", call_status, sid)
    return acknowledged()
