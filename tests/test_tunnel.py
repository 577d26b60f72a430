"""The ngrok path: a live run without PUBLIC_URL opens a tunnel with pyngrok and closes it.

pyngrok is replaced here (ngrok's cloud is unreachable from tests, and a real agent must never
start); the rest of the live run is real: the webhook server, the Twilio stand-in, the calls.
"""
import pytest
from pyngrok import ngrok
from pyngrok.exception import PyngrokError

from app.config import load_settings
from app.errors import ConfigError
from app.live import run_live
from app.report import ConsoleReporter
from app.runner import Job
from app.suite import load_suites
from app.targets import Target
from app.tunnel import open_tunnel
from tests.test_live import ACCOUNT, FROM, ROOT, TARGET, TOKEN, standin  # noqa: F401 - fixture


class FakeNgrok:
    """Records pyngrok calls; `connect` answers with a URL that reaches the local port."""

    def __init__(self, fail=False):
        self.fail, self.connected, self.disconnected, self.killed = fail, [], [], 0

    def connect(self, addr=None, proto=None, name=None, pyngrok_config=None, **options):
        self.connected.append((addr, proto, pyngrok_config.auth_token))
        if self.fail:
            raise PyngrokError("authentication failed: bad authtoken")
        return type("Tunnel", (), {"public_url": f"http://127.0.0.1:{addr}"})()

    def disconnect(self, public_url, pyngrok_config=None):
        self.disconnected.append(public_url)

    def kill(self, pyngrok_config=None):
        self.killed += 1


@pytest.fixture
def fake_ngrok(monkeypatch):
    fake = FakeNgrok()
    for name in ("connect", "disconnect", "kill"):
        monkeypatch.setattr(ngrok, name, getattr(fake, name))
    return fake


def test_open_tunnel_passes_the_port_and_the_token(fake_ngrok):
    tunnel = open_tunnel(5123, "ngrok-token")
    assert fake_ngrok.connected == [("5123", "http", "ngrok-token")]
    assert tunnel.public_url == "http://127.0.0.1:5123"
    tunnel.close()
    tunnel.close()
    assert fake_ngrok.disconnected == ["http://127.0.0.1:5123"] and fake_ngrok.killed == 1


def test_without_a_token_the_error_names_both_ways(fake_ngrok):
    with pytest.raises(ConfigError) as error:
        open_tunnel(5123, "")
    assert "PUBLIC_URL" in str(error.value) and "NGROK_AUTHTOKEN" in str(error.value)
    assert fake_ngrok.connected == []


def test_a_failed_connect_is_a_config_error_and_stops_the_agent(fake_ngrok):
    fake_ngrok.fail = True
    with pytest.raises(ConfigError) as error:
        open_tunnel(5123, "bad-token")
    assert "could not open an ngrok tunnel" in str(error.value) and "bad authtoken" in str(error.value)
    assert fake_ngrok.killed == 1


def live_settings(standin, **overrides):
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": FROM,
           "TWILIO_API_BASE": standin.base_url, "PUBLIC_URL": "", "NGROK_AUTHTOKEN": "ngrok-token",
           "PORT": "0", "TWILIO_CPS": "50", "LIVE_DEADLINE_MARGIN": "10"}
    env.update(overrides)
    return load_settings(env=env)


def sample_jobs():
    suites, errors = load_suites([str(ROOT / "testSuite" / "testSalesCall.json")])
    assert not errors
    return [Job(suite, Target("phone", TARGET)) for suite in suites]


def test_a_live_run_without_public_url_calls_through_the_tunnel(fake_ngrok, standin, store):
    twilio = standin()
    lines = []
    result = run_live(sample_jobs(), store, live_settings(twilio),
                      ConsoleReporter(quiet=True, echo=lines.append))
    (doc,) = result.documents
    assert doc["status"] == "complete", doc
    ((port, proto, token),) = fake_ngrok.connected
    assert proto == "http" and token == "ngrok-token" and int(port) > 0
    tunnel_url = f"http://127.0.0.1:{port}"
    (_when, form), = twilio.creations
    assert form["Url"] == [f"{tunnel_url}/voice?run={doc['unique_id']}"]
    assert fake_ngrok.disconnected == [tunnel_url] and fake_ngrok.killed == 1
    assert lines == [f"PASS {doc['suite']} (2/2 steps, complete)"]


def test_a_live_run_with_neither_public_url_nor_ngrok_token_is_refused(fake_ngrok, standin, store):
    twilio = standin()
    with pytest.raises(ConfigError) as error:
        run_live(sample_jobs(), store, live_settings(twilio, NGROK_AUTHTOKEN=""),
                 ConsoleReporter(quiet=True, echo=lambda _line: None))
    assert "PUBLIC_URL" in str(error.value) and "NGROK_AUTHTOKEN" in str(error.value)
    assert twilio.creations == []
