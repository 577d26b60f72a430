"""Live runs end to end on loopback: `python main.py run --target +1...` in a subprocess, calling a
Twilio stand-in (devtools/twilio_standin.py) that plays the sample Connect flow against the run's
webhook server over real HTTP. Nothing leaves 127.0.0.1, and every wait is bounded.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from app import create_app
from app.config import DEFAULTS
from app.live import SIGNATURE_REJECTED, STATUS_EVENTS, WebhookServer
from app.simulator.fetch import HttpFetcher
from app.simulator.network import call_params
from app.suite import load_suites
from app.twiml import empty
from bench._util import free_port
from devtools.twilio_standin import TwilioStandIn

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "standin-auth-token-0123456789abcdef"
ACCOUNT = "AC" + "7" * 32
EMPTY_TWIML = empty()          # what /partial and /status answer (webhooks.acknowledged)
FROM = "+15550001111"
TARGET = "+15551234567"
REFUSED = "+15559990000"
RUN_TIMEOUT = 60
SAMPLE_SUITES = 5


@pytest.fixture
def standin():
    """`standin(**options)` starts a TwilioStandIn on a free port; all are stopped afterwards."""
    started = []

    def start(**options):
        options.setdefault("account_sid", ACCOUNT)
        started.append(TwilioStandIn(options.pop("token", TOKEN), **options).start())
        return started[-1]
    yield start
    for server in started:
        server.stop()


def live_env(standin, db, **overrides):
    """A complete environment, so neither the developer's shell nor a .env file leaks in."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in DEFAULTS}
    env.update({key: value for key, value in DEFAULTS.items()})
    env.update(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_FROM_NUMBER=FROM,
               TWILIO_API_BASE=standin.base_url, PUBLIC_URL=f"http://127.0.0.1:{port}",
               PORT=str(port), TWILIO_CPS="50", RESULTS_DB=str(db), NGROK_AUTHTOKEN="",
               IVR_TARGET="", LIVE_DEADLINE_MARGIN="30", PYTHONUNBUFFERED="1")
    env.update(overrides)
    return env


def run_main(env, *args):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "main.py", "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT)
    done.elapsed = time.monotonic() - started
    return done


def stored_runs(db):
    data = json.loads(Path(db).read_text(encoding="utf-8"))
    return {doc["unique_id"]: doc for doc in data["_default"].values()}


def write_suites(folder, targets, steps=None):
    """One suite per target, each the sample testSalesCall (or `steps`) with its own target."""
    folder.mkdir(parents=True, exist_ok=True)
    sample = json.loads((ROOT / "testSuite" / "testSalesCall.json").read_text(encoding="utf-8"))
    for i, target in enumerate(targets):
        suite = {"name": f"suite {i} to {target}", "target": target, "steps": steps or sample}
        (folder / f"s{i}.json").write_text(json.dumps(suite), encoding="utf-8")
    return folder


# -- the command line against the stand-in --------------------------------------------------

def test_every_sample_suite_passes_as_a_live_call(standin, tmp_path):
    twilio = standin()
    db = tmp_path / "db.json"
    env = live_env(twilio, db)
    done = run_main(env, "--target", TARGET, "--db", str(db))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "suites: 5 passed, 0 failed" in done.stdout
    runs = stored_runs(db)
    assert len(runs) == SAMPLE_SUITES
    public = env["PUBLIC_URL"]
    assert len(twilio.creations) == SAMPLE_SUITES
    for when, form in twilio.creations:
        run_id = form["Url"][0].split("run=")[1]
        assert form["To"] == [TARGET] and form["From"] == [FROM]
        assert form["Url"] == [f"{public}/voice?run={run_id}"]
        assert form["StatusCallback"] == [f"{public}/status?run={run_id}"]
        assert form["StatusCallbackEvent"] == STATUS_EVENTS
        assert form["Timeout"] == ["30"]
        doc = runs[run_id]
        assert doc["status"] == "complete" and doc["mode"] == "live"
        assert doc["callSid"].startswith("CA") and len(doc["callSid"]) == 34
        call = twilio.calls[doc["callSid"]]
        assert call.status == "completed"
        assert [hook for hook in call.webhooks if hook[2] != 200] == []
    assert "Traceback" not in done.stderr


def test_a_wrong_auth_token_fails_the_runs_with_the_signature_message(standin, tmp_path):
    twilio = standin(signing_token="the-token-twilio-really-signs-with")
    db = tmp_path / "db.json"
    done = run_main(live_env(twilio, db), "--target", TARGET, "--db", str(db))
    assert done.returncode == 1, done.stdout + done.stderr
    assert len(stored_runs(db)) == SAMPLE_SUITES
    for doc in stored_runs(db).values():
        assert doc["status"] == "failed"
        assert doc["endReason"] == SIGNATURE_REJECTED
        assert doc["rejectedRequests"] >= 1
        assert {status for _m, _u, status in twilio.calls[doc["callSid"]].webhooks} == {403}
    assert "X-Twilio-Signature did not validate" in done.stdout
    assert done.elapsed < 30, "closed when Twilio reported the call over, not at the deadline"


def test_a_refused_number_fails_its_run_with_twilios_error(standin, tmp_path):
    twilio = standin(refuse={REFUSED: 21219})
    db = tmp_path / "db.json"
    suites = write_suites(tmp_path / "suites", [TARGET, REFUSED, TARGET])
    done = run_main(live_env(twilio, db), str(suites), "--db", str(db))
    assert done.returncode == 1, done.stdout + done.stderr
    runs = list(stored_runs(db).values())
    refused = [doc for doc in runs if doc["target"] == REFUSED]
    assert len(refused) == 1
    doc = refused[0]
    assert doc["status"] == "failed" and doc["callSid"] is None
    assert doc["endReason"].startswith("Twilio error 21219: The number +15559990000 is unverified")
    assert doc["twilioError"]["code"] == 21219 and doc["twilioError"]["status"] == 400
    assert "unverified" in doc["twilioError"]["message"]
    assert [d["status"] for d in runs if d["target"] == TARGET] == ["complete", "complete"]


def test_calls_are_created_no_faster_than_twilio_cps(standin, tmp_path):
    twilio = standin()
    db = tmp_path / "db.json"
    suites = write_suites(tmp_path / "suites", [TARGET] * 3)
    done = run_main(live_env(twilio, db, TWILIO_CPS="4"), str(suites), "--db", str(db))
    assert done.returncode == 0, done.stdout + done.stderr
    times = sorted(when for when, _form in twilio.creations)
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert len(gaps) == 2
    assert min(gaps) >= 1 / 4, gaps
    assert max(gaps) < 1 / 4 + 0.3, gaps


def test_missing_credentials_name_the_settings(standin, tmp_path):
    twilio = standin()
    db = tmp_path / "db.json"
    env = live_env(twilio, db, TWILIO_ACCOUNT_SID="", TWILIO_FROM_NUMBER="")
    done = run_main(env, "--target", TARGET, "--db", str(db))
    assert done.returncode == 2
    assert "TWILIO_ACCOUNT_SID" in done.stderr and "TWILIO_FROM_NUMBER" in done.stderr
    assert "TWILIO_AUTH_TOKEN" not in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert twilio.creations == []


def test_bad_credentials_fail_every_run_with_one_request(standin, tmp_path):
    twilio = standin(token="the-real-token")
    db = tmp_path / "db.json"
    done = run_main(live_env(twilio, db), "--target", TARGET, "--db", str(db))
    assert done.returncode == 1, done.stdout + done.stderr
    assert len(twilio.creations) == 1
    for doc in stored_runs(db).values():
        assert doc["endReason"] == "Twilio error 20003: Authenticate"
        assert doc["twilioError"] == {"code": 20003, "message": "Authenticate", "status": 401}


def test_an_unreachable_twilio_api_is_an_error(standin, tmp_path):
    twilio = standin()
    db = tmp_path / "db.json"
    env = live_env(twilio, db, TWILIO_API_BASE=f"http://127.0.0.1:{free_port()}")
    done = run_main(env, "--target", TARGET, "--db", str(db))
    assert done.returncode == 2
    for doc in stored_runs(db).values():
        assert doc["status"] == "error"
        assert doc["endReason"].startswith("could not reach Twilio's API")


@pytest.mark.parametrize("answer", ["busy", "no-answer", "failed"])
def test_a_call_that_is_not_answered_closes_with_twilios_status(standin, tmp_path, answer):
    twilio = standin(answer=answer)
    db = tmp_path / "db.json"
    suites = write_suites(tmp_path / "suites", [TARGET])
    done = run_main(live_env(twilio, db), str(suites), "--db", str(db))
    assert done.returncode == 1
    (doc,) = stored_runs(db).values()
    assert doc["status"] == answer and doc["endReason"] == answer
    assert done.elapsed < 30, "closed by the status callback, not the deadline"


def test_an_ivr_that_hangs_up_with_steps_left_fails_them_with_call_ended(standin, tmp_path):
    twilio = standin()
    db = tmp_path / "db.json"
    steps = [{"expect": "Hello, and welcome to the awesome phone center, press 1 for sales.",
              "then": "press=2", "timeout": 3},
             {"expect": "Please hold while we connect you to support.", "timeout": 3},
             {"expect": "Support, how can I help?", "timeout": 3}]
    suites = write_suites(tmp_path / "suites", [TARGET], steps)
    done = run_main(live_env(twilio, db), str(suites), "--db", str(db))
    assert done.returncode == 1
    (doc,) = stored_runs(db).values()
    assert doc["status"] == "failed" and doc["endReason"] == "call ended"
    assert [r["status"] for r in doc["results"]] == ["passed", "passed", "failed"]
    assert doc["results"][-1]["reason"] == "call ended"


@pytest.mark.parametrize("answer, status, reason, call_status", [
    ("hold", "no-answer", "no answer within 2 s (deadline)", "canceled"),
    ("stall", "stalled", "the call did not finish within 2 s", "completed"),
], ids=["never answered", "hangs after answering"])
def test_a_call_that_does_not_finish_is_closed_at_its_deadline(standin, tmp_path, answer, status,
                                                               reason, call_status):
    twilio = standin(answer=answer)
    db = tmp_path / "db.json"
    suites = write_suites(tmp_path / "suites", [TARGET], [{"expect": "hello", "timeout": 1}])
    done = run_main(live_env(twilio, db, LIVE_DEADLINE_MARGIN="1"), str(suites), "--db", str(db))
    assert done.returncode == 1
    (doc,) = stored_runs(db).values()
    assert doc["status"] == status
    assert doc["endReason"].startswith(reason)
    assert twilio.calls[doc["callSid"]].status == call_status, "the runner ended the call"
    assert 2 <= done.elapsed < 20


def test_a_public_url_that_leads_elsewhere_fails_once_twilio_says_the_call_is_over(standin, tmp_path):
    twilio = standin()
    db = tmp_path / "db.json"
    suites = write_suites(tmp_path / "suites", [TARGET])
    env = live_env(twilio, db, PUBLIC_URL=f"http://127.0.0.1:{free_port()}")
    done = run_main(env, str(suites), "--db", str(db))
    assert done.returncode == 1
    (doc,) = stored_runs(db).values()
    assert doc["status"] == "failed" and doc["callStatus"] == "completed"
    assert doc["endReason"].startswith("the call ended without reaching our webhooks")
    assert twilio.calls[doc["callSid"]].errors[0][0] == 11205   # HTTP connection failure
    assert done.elapsed < 30, "closed when Twilio reported the call over, not at the deadline"


def test_a_lost_status_callback_is_recovered_from_the_rest_api(standin, tmp_path):
    twilio = standin(answer="busy", drop_callbacks=True)
    db = tmp_path / "db.json"
    suites = write_suites(tmp_path / "suites", [TARGET])
    done = run_main(live_env(twilio, db), str(suites), "--db", str(db))
    assert done.returncode == 1
    (doc,) = stored_runs(db).values()
    assert doc["status"] == "busy" and doc["endReason"] == "busy"
    assert twilio.calls[doc["callSid"]].webhooks == []
    assert done.elapsed < 30


# -- status callbacks through real HTTP, against the live webhook server -------------------

@pytest.fixture
def webhooks(store):
    """The webhook app on the server a live run uses (app/serving.py) and a signed HTTP client."""
    app = create_app({"TESTING": True, "STORE": store, "TWILIO_AUTH_TOKEN": TOKEN,
                      "VALIDATE_SIGNATURES": True})
    server = WebhookServer(app, "127.0.0.1", 0).start()
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.port}"
    yield app, HttpFetcher(auth_token=TOKEN, timeout=5)
    server.stop()


def new_run(app):
    (suite,), _errors = load_suites([str(ROOT / "testSuite" / "testSalesCall.json")])
    return app.extensions["runs"].create(suite, target=TARGET)


def post(app, fetch, path, run_id, sid, **fields):
    params = {**call_params(sid, "outbound-api", FROM, TARGET), **fields}
    return fetch("POST", f"{app.config['PUBLIC_URL']}{path}?run={run_id}", params)


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed", "canceled"])
def test_a_final_status_callback_closes_the_run(webhooks, status):
    app, fetch = webhooks
    run_id = new_run(app)
    app.extensions["runs"].annotate(run_id, callSid="CA" + "1" * 32)   # as LiveRunner notes it
    assert "<Hangup" in post(app, fetch, "/status", run_id, "CA" + "9" * 32, CallStatus=status)[1]
    assert app.extensions["store"].get(run_id)["status"] == "queued"     # another call's: refused
    code, body = post(app, fetch, "/status", run_id, "CA" + "1" * 32, CallStatus=status)
    assert code == 200 and body == EMPTY_TWIML
    doc = app.extensions["store"].get(run_id)
    assert doc["status"] == status and doc["endReason"] == status
    assert [r["reason"] for r in doc["results"]] == [status, status]


def test_completed_with_steps_left_fails_them_and_late_callbacks_change_nothing(webhooks):
    app, fetch = webhooks
    run_id, sid = new_run(app), "CA" + "2" * 32
    code, body = post(app, fetch, "/voice", run_id, sid, CallStatus="in-progress")
    assert code == 200 and "<Gather" in body
    assert post(app, fetch, "/status", run_id, sid, CallStatus="completed") == (200, EMPTY_TWIML)
    store = app.extensions["store"]
    closed = store.get(run_id)
    assert closed["status"] == "failed" and closed["endReason"] == "call ended"
    for late in ("busy", "completed", "canceled"):
        assert post(app, fetch, "/status", run_id, sid, CallStatus=late) == (200, EMPTY_TWIML)
    assert store.get(run_id) == closed


def test_an_unsigned_status_callback_is_refused(webhooks):
    app, _fetch = webhooks
    run_id = new_run(app)
    code, _body = post(app, HttpFetcher(auth_token="wrong", timeout=5), "/status", run_id,
                       "CA" + "3" * 32, CallStatus="busy")
    assert code == 403
    assert app.extensions["store"].get(run_id)["status"] == "queued"


# -- the stand-in itself answers as Twilio does ----------------------------------------------

def standin_client(twilio, token=TOKEN):
    client = Client(ACCOUNT, token)
    client.api.base_url = twilio.base_url
    return client


@pytest.mark.parametrize("fields, code", [
    ({"to": "5551234", "from_": FROM, "url": "http://127.0.0.1:1/voice"}, 21211),
    ({"to": TARGET, "from_": "nobody", "url": "http://127.0.0.1:1/voice"}, 21212),
    ({"to": TARGET, "from_": FROM, "twiml": "<Response/>"}, 21205),
    ({"to": "", "from_": FROM, "url": "http://127.0.0.1:1/voice"}, 21201),
    ({"to": TARGET, "from_": "", "url": "http://127.0.0.1:1/voice"}, 21213),
])
def test_the_standin_refuses_bad_input_with_twilios_codes(standin, fields, code):
    twilio = standin()
    with pytest.raises(TwilioRestException) as refused:
        standin_client(twilio).calls.create(**fields)
    assert refused.value.code == code and refused.value.status == 400
    assert twilio.calls == {}


def test_the_standin_checks_basic_auth(standin):
    twilio = standin()
    with pytest.raises(TwilioRestException) as refused:
        standin_client(twilio, token="nope").calls.create(to=TARGET, from_=FROM,
                                                          url="http://127.0.0.1:1/voice")
    assert refused.value.code == 20003 and refused.value.status == 401


def test_the_standin_returns_a_call_resource(standin):
    twilio = standin(answer="hold")
    call = standin_client(twilio).calls.create(to=TARGET, from_=FROM, url="http://127.0.0.1:1/voice")
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert call.status == "queued" and call.to == TARGET and call._from == FROM
    assert call.account_sid == ACCOUNT and call.api_version == "2010-04-01"
    assert call.uri == f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{call.sid}.json"
    assert call.date_created is not None
