"""Settings from the environment and `.env` (python-dotenv), as Flask config keys.

Every setting has a name a user can put in `.env`; `.env.example` explains each one.
"""
import os

from dotenv import load_dotenv

from app.errors import ConfigError

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
}
SECRETS = ("TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN", "DASHBOARD_PASSWORD")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def load_settings(env=None, dotenv_path=".env"):
    """Read every setting: the process environment wins over `.env`, which wins over defaults."""
    if env is None:
        load_dotenv(dotenv_path, override=False)
        env = os.environ
    settings = {key: env.get(key, default).strip() for key, default in DEFAULTS.items()}
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
