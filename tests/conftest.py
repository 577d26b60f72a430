import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.store import ResultStore
from tests.phonecall import AUTH_TOKEN, PUBLIC_URL, PhoneCall


@pytest.fixture
def store(tmp_path):
    store = ResultStore(tmp_path / "results" / "db.json", flush_delay=0.01)
    yield store
    store.close()


@pytest.fixture
def app(store):
    return create_app({"TESTING": True, "STORE": store, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                       "PUBLIC_URL": PUBLIC_URL})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runs(app):
    return app.extensions["runs"]


@pytest.fixture
def phone(client):
    """Make a PhoneCall: `phone(ivr_says, run_id=None)`."""
    def make(ivr_says, run_id=None, **kwargs):
        return PhoneCall(client, ivr_says, run_id=run_id, **kwargs)
    return make


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
