"""Twilio's error codes and how a TwiML verb's attributes are read, invalid values included.

An app controls every attribute, so none may crash or hang a run: a value that is missing takes
Twilio's default; one that is not a number, not finite (``inf``, ``nan``), negative, or out of
range is what Twilio calls invalid, and Twilio logs a 13xxx warning and uses the default. Counts
(``loop``, ``numDigits``) are capped so that no document can ask for unbounded work.

Codes (Twilio's error and warning dictionary):
  11200 HTTP retrieval failure (non-2xx answer)      11205 HTTP connection failure / timeout
  11750 TwiML response body too large (64 kB)        12100 document parse failure
  12200 schema validation warning (unknown verb)     13xxx invalid attribute value (per verb)
"""
import math

HTTP_RETRIEVAL_FAILURE = 11200
HTTP_CONNECTION_FAILURE = 11205
RESPONSE_TOO_LARGE = 11750
DOCUMENT_PARSE_FAILURE = 12100
SCHEMA_VALIDATION_WARNING = 12200

# (verb, attribute) -> Twilio's warning code for an invalid value; nested Say/Play in a Gather
# have their own codes ("Gather->Say").
INVALID_ATTRIBUTE = {
    ("Say", "loop"): 13510, ("Gather->Say", "loop"): 13322, ("Play", "loop"): 13410,
    ("Pause", "length"): 13910,
    ("Gather", "timeout"): 13313, ("Gather", "numDigits"): 13314,
    ("Gather", "speechTimeout"): 13327, ("Gather", "method"): 13312,
    ("Dial", "method"): 13210, ("Dial", "timeout"): 13212, ("Dial", "hangupOnStar"): 13213,
    ("Dial", "timeLimit"): 13216, ("Record", "method"): 13610, ("Record", "timeout"): 13611,
    ("Record", "maxLength"): 13612, ("Record", "finishOnKey"): 13613,
    ("Redirect", "method"): 13710,
}
GENERIC_INVALID_ATTRIBUTE = 12200
MAX_COUNT = 1000   # Twilio's cap on loop="0"; also the most a count attribute may ask for


class Attributes:
    """A verb's attributes, read with Twilio's defaults; invalid values are reported to `warn`
    (a function (code, message)) and replaced by the default."""

    def __init__(self, verb, warn, family=None):
        self.verb, self.warn = verb, warn
        self.family = family or verb.tag    # "Gather->Say" for a Say nested in a Gather

    def get(self, name, default=None):
        return self.verb.get(name, default)

    def has(self, name):
        return (self.verb.get(name) or "").strip() != ""

    def number(self, name, default, minimum=0.0, maximum=None, integer=False):
        """A finite number >= minimum (<= maximum), or `default` after a warning."""
        raw = self.verb.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if (not math.isfinite(value) or value < minimum
                or (maximum is not None and value > maximum)
                or (integer and value != int(value))):
            self.invalid(name, raw, default)
            return default
        return int(value) if integer else value

    def count(self, name, default, minimum=0):
        """A whole number of repetitions or digits, at most MAX_COUNT."""
        return self.number(name, default, minimum=minimum, maximum=MAX_COUNT, integer=True)

    def method(self, name="method"):
        """An HTTP method: GET or POST; anything else warns and is POST (Twilio's default)."""
        raw = (self.verb.get(name) or "").strip().upper()
        if raw in ("GET", "POST"):
            return raw
        if raw:
            self.invalid(name, self.verb.get(name), "POST")
        return "POST"

    def flag(self, name, default=False):
        raw = (self.verb.get(name) or "").strip().lower()
        if raw in ("true", "false"):
            return raw == "true"
        if raw:
            self.invalid(name, self.verb.get(name), str(default).lower())
        return default

    def invalid(self, name, raw, default):
        code = INVALID_ATTRIBUTE.get((self.family, name), GENERIC_INVALID_ATTRIBUTE)
        self.warn(code, f"{self.family}: invalid {name} value {raw!r}; using the default "
                        f"({default})")


def loops(attrs):
    """How many times a Say/Play repeats: loop="0" means until hangup, capped like Twilio's."""
    count = attrs.count("loop", 1)
    return MAX_COUNT if count == 0 else count
