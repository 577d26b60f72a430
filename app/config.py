"""Settings from the environment and `.env` (python-dotenv), as Flask config keys.

Every setting has a name a user can put in `.env`; `.env.example` explains each one. The `.env`
read is the one beside the project file when there is one (`app/project.py`), else the current
folder's; relative paths in it are relative to it, as in every file this tool reads.
"""
import os

from dotenv import dotenv_values, load_dotenv

from app import run_options
from app.errors import ConfigError
from app.targets import anchor

DEFAULTS = {
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_FROM_NUMBER": "",
    "TWILIO_API_BASE": "",
    "TWILIO_CPS": "1",
    "IVR_TARGET": "",
    "PUBLIC_URL": "",
    "NGROK_AUTHTOKEN": "",
    "PORT": "5000",
    "RESULTS_DB": "results/db.json",
    "VALIDATE_SIGNATURES": "true",
    "LIVE_DEADLINE_MARGIN": "60",
    "LIVE_HOST": "127.0.0.1",
    "DASHBOARD": "",                # empty: on, except on a server facing the internet
    "DASHBOARD_PASSWORD": "",
    # Run options (a suite or the project file overrides these; see README "Precedence").
    "IVR_SUITES": "",
    "IVR_LEX_BOT": "",
    "IVR_HOURS": "",
    "IVR_NOISE": "",
    "IVR_SEED": "",
    "IVR_CONCURRENCY": "",
    "IVR_LAMBDA_RESPONSES": "",
}
PATH_SETTINGS = ("IVR_TARGET", "RESULTS_DB", "IVR_SUITES", "IVR_LEX_BOT", "IVR_LAMBDA_RESPONSES")
SECRETS = ("TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN", "DASHBOARD_PASSWORD")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def load_settings(env=None, dotenv_path=".env"):
    """Read every setting: the process environment wins over `.env`, which wins over defaults."""
    from_file = {}
    if env is None:
        from_file = {k: v for k, v in dotenv_values(dotenv_path).items() if k not in os.environ}
        load_dotenv(dotenv_path, override=False)
        env = os.environ
    settings = {key: env.get(key, default).strip() for key, default in DEFAULTS.items()}
    for key in PATH_SETTINGS:
        if key in from_file and settings[key]:
            settings[key] = anchor(settings[key], os.path.dirname(str(dotenv_path)) or ".")
    for name, key, convert in (("seed", "IVR_SEED", _integer), ("concurrency", "IVR_CONCURRENCY", _integer),
                               ("hours", "IVR_HOURS", None), ("noise", "IVR_NOISE", None)):
        if settings[key]:
            settings[key] = convert(settings, key) if convert else settings[key]
            expected = run_options.check(name, settings[key])
            if expected:
                raise ConfigError(f"{key}: {expected}, got {settings[key]!r}")
        else:
            settings[key] = None
    settings["PORT"] = _integer(settings, "PORT")
    settings["TWILIO_CPS"] = _positive_float(settings, "TWILIO_CPS")
    settings["VALIDATE_SIGNATURES"] = _flag(settings, "VALIDATE_SIGNATURES")
    settings["DASHBOARD"] = _flag(settings, "DASHBOARD") if settings["DASHBOARD"] else None
    settings["LIVE_DEADLINE_MARGIN"] = _positive_float(settings, "LIVE_DEADLINE_MARGIN", zero_ok=True)
    settings["PUBLIC_URL"] = settings["PUBLIC_URL"].rstrip("/")
    return settings


def _integer(settings, key):
    try:
        return int(settings[key])
    except ValueError:
        raise ConfigError(f"{key}: expected a whole number, got {settings[key]!r}") from None


def _positive_float(settings, key, zero_ok=False):
    try:
        value = float(settings[key])
    except ValueError:
        value = -1
    if value < 0 or (value == 0 and not zero_ok) or value != value:
        least = "0 or more" if zero_ok else "greater than 0"
        raise ConfigError(f"{key}: expected a number {least}, got {settings[key]!r}")
    return value


def _flag(settings, key):
    value = settings[key].lower()
    if value not in _TRUE + _FALSE:
        raise ConfigError(f"{key}: expected true or false, got {settings[key]!r}")
    return value in _TRUE
