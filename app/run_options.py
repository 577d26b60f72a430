"""The options of an offline run that a suite, the project file or the environment can set.

Hours, Lambda responses, noise and seed can differ from suite to suite; concurrency, target, Lex
bot, suites folder and results path are per invocation. Every layer (command line, suite,
project file, environment) is checked against the same table, so a value is accepted or
refused the same way wherever it is written. Precedence is applied by `merge`.
"""
import json

from app.errors import ConfigError
from app.simulator.recognizer import NOISE_MODES

HOURS = ("open", "closed")
DEFAULTS = {"hours": "open", "noise": "realistic", "seed": 0, "lambda_responses": None}
PER_SUITE = tuple(DEFAULTS)


def check(key, value):
    """None when `value` is acceptable for `key`, else what was expected (for an error message)."""
    if key == "hours" and value not in HOURS:
        return f"expected {' or '.join(json.dumps(h) for h in HOURS)}"
    if key == "noise" and value not in NOISE_MODES:
        return f"expected {' or '.join(NOISE_MODES)}"
    if key == "seed" and (isinstance(value, bool) or not isinstance(value, int)):
        return "expected a whole number"
    if key == "concurrency" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        return "expected a whole number, 1 or more"
    if key == "lambda_responses" and not isinstance(value, (str, dict)):
        return "expected an object of function name or ARN to its response, or a JSON file's path"
    return None


def merge(*layers):
    """The per-suite options from layers given highest first; None means "not set here"."""
    merged = dict(DEFAULTS)
    for key in PER_SUITE:
        merged[key] = next((layer[key] for layer in layers if layer.get(key) is not None), DEFAULTS[key])
    return merged


def read_lambda_responses(value):
    """A Lambda responses setting as the object the simulator uses: a path to a JSON file is
    read (once per path and run, by the caller's cache), an inline object is taken as it is."""
    if value is None or isinstance(value, dict):
        return value
    from app import limits
    try:
        data = limits.read_json(value, ConfigError)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{value}: cannot read Lambda responses: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{value}: expected an object mapping a function name or ARN to its response")
    return data
