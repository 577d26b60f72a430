"""Live calls through Twilio (placeholder until the live-calls issue lands)."""
from app.errors import ConfigError


def run_live(jobs, store, settings, reporter, concurrency=1):
    raise ConfigError("live calls to phone numbers are not available yet; "
                      "use a flow export or a twiml:URL target")
