"""Live runs: every suite becomes a real phone call that Twilio places to the target number.

Twilio needs to reach our webhooks, so a live run serves them itself (app/serving.py, in a background
thread of this process) at PUBLIC_URL, or through an ngrok tunnel it opens when PUBLIC_URL is
empty. Calls are created with Twilio's REST client, no faster than TWILIO_CPS and no more than
`concurrency` at a time; the next queued suite starts as a call ends.

A run closes through the webhooks: the engine judges every step, and Twilio's status callbacks
report busy, no-answer, failed, canceled or an early hang-up. What the webhooks cannot report is
handled here:
- Twilio refuses to create the call (a bad number, an unverified number on a trial account):
  the run fails with Twilio's code and message, and the other suites go on. Bad credentials
  (HTTP 401) fail the queued runs too, with the same error: every call would be refused alike.
- Twilio's requests never reach the engine: our server refused them because X-Twilio-Signature
  did not validate (a wrong auth token, or a PUBLIC_URL that is not the address Twilio calls), or
  PUBLIC_URL leads somewhere else. Every open call's status is asked of the REST API every
  POLL_SECONDS; once Twilio says the call is over, the run fails with a message saying what to
  check (the 403s are counted per run id by an error handler on our app). A final status whose
  callback was lost is applied as if it had arrived.
- A call that never finishes is cut at its deadline: the sum of its steps' timeouts plus
  LIVE_DEADLINE_MARGIN seconds (default 60, for ringing and the IVR's own talking). It closes as
  `no-answer` if it was never answered, else `stalled`, and the call is hung up.
"""
import logging
import threading
import time
from collections import Counter, deque
from contextlib import ExitStack
from dataclasses import dataclass

import requests
from flask import request
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app import create_app
from app.errors import ConfigError
from app.runner import OfflineResult
from app.tunnel import open_tunnel
from app.webhooks import SIGNATURE_ERROR

log = logging.getLogger(__name__)

REQUIRED_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
FINAL_CALL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
CALLBACK_GRACE_SECONDS = 3.0   # how long a finished command waits for the calls' last callbacks
RING_TIMEOUT_SECONDS = 30       # Twilio's `Timeout`: how long the target may ring
DEFAULT_DEADLINE_MARGIN = 60.0  # seconds added to the steps' timeouts (ringing, the IVR talking)
REST_TIMEOUT_SECONDS = 15
PACING_HEADROOM_SECONDS = 0.01  # so network jitter never lands two creations closer than 1/CPS
TICK_SECONDS = 0.1
POLL_SECONDS = 2.0              # how often the REST API is asked about each open call
SIGNATURE_REJECTED = ("webhook requests were rejected: X-Twilio-Signature did not validate "
                      "(check TWILIO_AUTH_TOKEN and PUBLIC_URL)")
UNREACHED = ("the call ended without reaching our webhooks (check that PUBLIC_URL leads to this "
             "server; Twilio's debugger shows error 11200 for each failed request)")


def run_live(jobs, store, settings, reporter, concurrency=1):
    """Place one call per job and wait until every run is finished; returns an OfflineResult.

    `concurrency` is the cap the command line passes (its --concurrency, 10 unless given): CPS
    pacing already spaces the calls, and an IVR that takes several calls at once is the usual
    case. Ctrl-C marks the unfinished runs interrupted, hangs their calls up and returns.
    """
    check_credentials(settings)
    margin = settings["LIVE_DEADLINE_MARGIN"]
    started = time.perf_counter()
    with ExitStack() as cleanup:
        rejected = Counter()
        app = webhook_app(store, settings, rejected)
        server = WebhookServer(app, settings["LIVE_HOST"], settings["PORT"])
        cleanup.callback(server.stop)
        server.start()
        public = public_url(settings, server.port, cleanup)
        app.config["PUBLIC_URL"] = public
        _tell(reporter, f"webhooks: {public}/voice and {public}/status "
                        f"(listening on {server.host}:{server.port})")
        runner = LiveRunner(app.extensions["runs"], twilio_client(settings), settings, public,
                            rejected, reporter, concurrency, margin)
        run_ids = runner.run(jobs)
    store.flush()
    return OfflineResult([store.get(run_id) for run_id in run_ids],
                         wall_seconds=time.perf_counter() - started)


# -- settings -------------------------------------------------------------------------------

def check_credentials(settings):
    """A ConfigError naming every Twilio setting a live call needs and does not have."""
    missing = [key for key in REQUIRED_SETTINGS if not settings.get(key)]
    if missing:
        raise ConfigError(f"live calls need {', '.join(missing)}: set "
                          f"{'it' if len(missing) == 1 else 'them'} in the environment or in .env "
                          "(see .env.example)")


def public_url(settings, port, cleanup):
    """PUBLIC_URL, or an ngrok tunnel to `port` that `cleanup` closes when the run ends."""
    if settings.get("PUBLIC_URL"):
        return settings["PUBLIC_URL"]
    tunnel = open_tunnel(port, settings.get("NGROK_AUTHTOKEN"))
    cleanup.callback(tunnel.close)
    return tunnel.public_url.rstrip("/")


# -- the webhook server ---------------------------------------------------------------------

def webhook_app(store, settings, rejected):
    """Our webhook app, counting in `rejected` the requests per run that failed the signature."""
    app = create_app({"STORE": store, "TWILIO_AUTH_TOKEN": settings["TWILIO_AUTH_TOKEN"],
                      "PUBLIC_URL": settings.get("PUBLIC_URL", ""),
                      "VALIDATE_SIGNATURES": settings.get("VALIDATE_SIGNATURES", True)})

    @app.errorhandler(403)
    def count_rejection(error):
        run_id = request.args.get("run")
        known = run_id and app.extensions["runs"].session(run_id) is not None
        if known and error.description == SIGNATURE_ERROR:
            rejected[run_id] += 1
        return error
    return app


class WebhookServer:
    """The webhook app on the webhook server (app/serving.py), in a background thread for as
    long as a live run lasts."""

    def __init__(self, app, host, port):
        from app.serving import create_server
        try:
            self._server = create_server(app, host=host, port=port)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port} for Twilio's webhooks "
                              f"({exc.strerror or exc}): set PORT to a free port") from None
        self.host, self.port = host, self._server.effective_port

    def start(self):
        self._server.start()
        return self

    def stop(self):
        self._server.stop()


# -- Twilio's REST API ----------------------------------------------------------------------

def twilio_client(settings):
    """A REST client; TWILIO_API_BASE (a Twilio stand-in, for tests) replaces api.twilio.com."""
    client = Client(settings["TWILIO_ACCOUNT_SID"], settings["TWILIO_AUTH_TOKEN"],
                    http_client=TwilioHttpClient(timeout=REST_TIMEOUT_SECONDS))
    base = settings.get("TWILIO_API_BASE")
    if base:
        client.api.base_url = base.rstrip("/")   # Domain.absolute_url joins base + /2010-04-01/...
    client.calls  # noqa: B018 - builds the lazy resource tree now, not inside the first paced call
    return client


def twilio_error(exc):
    """Twilio's answer to a refused request as {"code", "message", "status"}."""
    if isinstance(exc, TwilioServiceException):
        return {"code": exc.code, "message": exc.detail or exc.title, "status": exc.status}
    message = exc.msg or ""
    for prefix in ("Unable to create record: ", "Unable to update record: ", "Unable to fetch record: "):
        message = message.removeprefix(prefix)
    return {"code": exc.code, "message": message, "status": exc.status}


class Pacer:
    """Spaces call creations 1/TWILIO_CPS seconds apart: above an account's calls-per-second
    Twilio queues the calls, which makes a suite's timing depend on how many ran before it."""

    def __init__(self, cps, clock=time.monotonic):
        self.interval = 1.0 / cps + PACING_HEADROOM_SECONDS
        self.clock = clock
        self._next = None

    def delay(self):
        """Seconds until the next creation is allowed (0 when it is now)."""
        return 0.0 if self._next is None else max(0.0, self._next - self.clock())

    def take(self):
        self._next = self.clock() + self.interval


# -- the runs -------------------------------------------------------------------------------

@dataclass
class LiveCall:
    run_id: str
    sid: str
    deadline: float      # time.monotonic() after which the run is closed
    limit: float         # the seconds that deadline allowed, for the message
    next_poll: float     # when to ask Twilio's REST API how the call is doing
    over_since: float | None = None   # when Twilio first said the call was over


class LiveRunner:
    """Starts calls as slots and CPS allow, watches their deadlines, reports each finished run."""

    def __init__(self, runs, client, settings, public, rejected, reporter=None, concurrency=1,
                 margin=DEFAULT_DEADLINE_MARGIN):
        self.runs, self.client, self.public = runs, client, public
        self.from_number = settings["TWILIO_FROM_NUMBER"]
        self.rejected, self.reporter = rejected, reporter
        self.concurrency, self.margin = max(1, int(concurrency or 1)), margin
        self.pacer = Pacer(settings.get("TWILIO_CPS") or 1)
        self._pending, self._active = deque(), {}
        self._changed = threading.Event()
        runs.listeners.append(self._on_change)
        if reporter is not None:
            runs.listeners.append(reporter.run_changed)

    def run(self, jobs):
        """Play every job; returns the run ids, in the order of `jobs`."""
        run_ids = []
        for job in jobs:
            run_id = self.runs.create(job.suite, target=str(job.target), extra={"mode": "live", **job.extra})
            self._pending.append((run_id, job))
            run_ids.append(run_id)
        try:
            while self._pending or self._active:
                self._start_calls()
                self._watch_calls()
                self._changed.wait(self._pause())
                self._changed.clear()
            self._await_final_callbacks(run_ids)
        except KeyboardInterrupt:
            self._abandon()
        return run_ids

    def _await_final_callbacks(self, run_ids, grace=CALLBACK_GRACE_SECONDS):
        """Twilio posts a call's final status callback just after the call hangs up, which can
        be after its run is complete. Keep serving a moment for it (bounded), so it is answered
        rather than refused by a server that has gone away (Twilio would log an error)."""
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            sessions = [self.runs.session(run_id) for run_id in run_ids]
            if all(s is None or s.call_sid is None or s.call_over for s in sessions):
                return
            self._changed.wait(0.05)

    def _on_change(self, session):
        if session.finished:
            self._changed.set()

    def _pause(self):
        if self._pending and len(self._active) < self.concurrency:
            return min(TICK_SECONDS, self.pacer.delay())
        return TICK_SECONDS

    # starting calls

    def _start_calls(self):
        while self._pending and len(self._active) < self.concurrency and self.pacer.delay() == 0:
            run_id, job = self._pending.popleft()
            call = self._place(run_id, job)
            if call is not None:
                self._active[run_id] = call
            else:
                self._report(run_id)

    def _place(self, run_id, job):
        """Create the call; a refusal fails the run with Twilio's error and returns None.

        The pause to the next creation counts from this request's answer, not its start: the
        request reached Twilio by then, however slowly it travelled, so two creations never
        arrive closer than 1/TWILIO_CPS (a slow first request and a fast second one would)."""
        try:
            created = self.client.calls.create(
                to=job.target.value, from_=self.from_number,
                url=f"{self.public}/voice?run={run_id}", method="POST",
                status_callback=f"{self.public}/status?run={run_id}",
                status_callback_method="POST", status_callback_event=STATUS_EVENTS,
                timeout=RING_TIMEOUT_SECONDS)
        except (TwilioRestException, TwilioServiceException) as exc:
            self._refused(run_id, twilio_error(exc))
            return None
        except requests.RequestException as exc:
            self.runs.stop(run_id, "error", f"could not reach Twilio's API: {exc}")
            return None
        finally:
            self.pacer.take()
        self.runs.annotate(run_id, callSid=created.sid)
        _tell(self.reporter, f"calling {job.target.value} for {job.suite.name} ({created.sid})")
        limit = sum(step.timeout for step in job.suite.steps) + self.margin
        now = time.monotonic()
        return LiveCall(run_id, created.sid, now + limit, limit, now + POLL_SECONDS)

    def _refused(self, run_id, error):
        """Fail the run with Twilio's error; bad credentials fail every queued run the same way."""
        reason = f"Twilio error {error['code']}: {error['message']}"
        self.runs.stop(run_id, "failed", reason, twilioError=error)
        if error.get("status") == 401:
            while self._pending:
                other, _job = self._pending.popleft()
                self.runs.stop(other, "failed", reason, twilioError=error)
                self._report(other)

    # watching calls

    def _watch_calls(self):
        now = time.monotonic()
        for call in list(self._active.values()):
            session = self.runs.session(call.run_id)
            if not session.finished and now >= call.next_poll:
                self._poll(call, session, now)
            if not session.finished and now >= call.deadline:
                self._expire(call, session)
            if session.finished:
                del self._active[call.run_id]
                self._report(call.run_id)

    def _poll(self, call, session, now):
        """Ask Twilio how the call is doing: its callbacks may never reach us (a PUBLIC_URL that
        leads elsewhere, requests our server refused), and then only the REST API can tell."""
        call.next_poll = now + POLL_SECONDS
        status = self._call_status(call)
        if status not in FINAL_CALL_STATUSES:
            return
        if self.rejected[call.run_id]:
            self.runs.stop(call.run_id, "failed", SIGNATURE_REJECTED, callStatus=status,
                           rejectedRequests=self.rejected[call.run_id])
        elif call.over_since is None:
            call.over_since = now       # give its own callbacks one more poll to arrive
        elif session.status == "queued" and status == "completed":
            self.runs.stop(call.run_id, "failed", UNREACHED, callStatus=status)
        else:
            self.runs.call_status(call.sid, status, call.run_id)   # the callback that never came

    def _call_status(self, call):
        try:
            return self.client.calls(call.sid).fetch().status
        except (TwilioRestException, TwilioServiceException, requests.RequestException) as exc:
            log.warning("could not fetch call %s: %s", call.sid, exc)
            return None

    def _expire(self, call, session):
        """The deadline passed with the run still open: close it, then end the call."""
        if self.rejected[call.run_id]:
            status, reason = "failed", SIGNATURE_REJECTED
        elif session.status == "queued":
            status, reason = "no-answer", f"no answer within {call.limit:g} s (deadline)"
        else:
            status, reason = "stalled", (f"the call did not finish within {call.limit:g} s (the "
                                         "steps' timeouts plus LIVE_DEADLINE_MARGIN)")
        answered = session.status != "queued"
        count = self.rejected[call.run_id]
        self.runs.stop(call.run_id, status, reason, **({"rejectedRequests": count} if count else {}))
        self._hang_up(call, answered)

    def _hang_up(self, call, answered):
        """End a call we gave up on, so it does not keep ringing or running up charges."""
        try:
            self.client.calls(call.sid).update(status="completed" if answered else "canceled")
        except (TwilioRestException, TwilioServiceException, requests.RequestException) as exc:
            log.warning("could not hang up call %s: %s", call.sid, exc)

    def _abandon(self):
        """Ctrl-C: close every open run as interrupted and hang up the calls in progress."""
        for run_id, _job in self._pending:
            self.runs.stop(run_id, "interrupted", "the live run was stopped before this call")
        self._pending.clear()
        for call in list(self._active.values()):
            answered = self.runs.session(call.run_id).status != "queued"
            self.runs.stop(call.run_id, "interrupted", "the live run was stopped during the call")
            self._hang_up(call, answered)
        self._active.clear()

    def _report(self, run_id):
        if self.reporter is not None:
            self.reporter.finished(self.runs.session(run_id).document())


def _tell(reporter, text):
    """A progress line, unless the reporter prints one line per suite only."""
    if reporter is not None and not getattr(reporter, "quiet", True):
        reporter.echo(text)
