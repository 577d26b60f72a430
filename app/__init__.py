"""IVR test server: runs JSON test suites against phone IVRs, live through Twilio or offline."""

from flask import Flask

from app.config import load_settings
from app.errors import ConfigError
from app.runs import RunManager, steady_time
from app.store import ResultStore

MAX_REQUEST_BYTES = 64 * 1024       # the server refuses bodies past it (413) before reading them


def raise_open_files_limit(wanted=4096):
    """Let the server hold its connections: the soft limit on open files is often 1,024. Also
    hand the interpreter lock over more often (every 1 ms instead of 5 ms), so a dashboard page
    being rendered holds a webhook up for less."""
    import resource
    import sys
    sys.setswitchinterval(0.001)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def create_app(test_config=None):
    """Application factory. `test_config` overrides settings; it may carry a `STORE` (a
    ResultStore) and a `CLOCK` (a callable giving seconds, e.g. the simulator's virtual clock)."""
    app = Flask(__name__)
    app.config.from_mapping(load_settings() if test_config is None or not test_config.get("TESTING")
                            else load_settings(env={}))
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.config.update(test_config or {})
    store = app.config.get("STORE") or ResultStore(app.config["RESULTS_DB"])
    app.extensions["runs"] = RunManager(store, app.config.get("CLOCK") or steady_time)
    app.extensions["store"] = store

    from app import dashboard, webhooks
    app.register_blueprint(webhooks.bp)
    if dashboard_wanted(app.config):
        dashboard.register(app)
    return app


def dashboard_wanted(config):
    """The dashboard is on unless the server faces the internet (an auth token and a public
    URL: Twilio, and anyone, can reach it), where it takes DASHBOARD=true and a password."""
    public = bool(config.get("TWILIO_AUTH_TOKEN") and config.get("PUBLIC_URL"))
    wanted = config.get("DASHBOARD")
    if wanted is None:
        return not public
    if wanted and public and not config.get("DASHBOARD_PASSWORD"):
        raise ConfigError("DASHBOARD=true on a server facing the internet (TWILIO_AUTH_TOKEN and "
                          "PUBLIC_URL set) needs DASHBOARD_PASSWORD: set it, or DASHBOARD=false")
    return bool(wanted)
