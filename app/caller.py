"""Who an offline call to a TwiML app comes from, and the parameters Twilio sends about it.

Twilio describes an inbound call to the app with the caller's and the called number's
geography (looked up from the numbers): From/FromCity/FromState/FromZip/FromCountry, the same
for To, and the older duplicates Caller*/Called* that it still sends; CallerName when caller
name lookup is on. Apps branch on these (a "you're calling from CA" menu), so every offline call
carries them: DEFAULT_CALLER calling DEFAULT_CALLED, unless a suite says otherwise with
`"callerId": "+E164"` and `"caller": {"name", "city", "state", "zip", "country"}`, and what
every <Dial>'s far end does with `"dial": "answered" | "busy" | "no-answer" | "failed"`.
"""
import re

from app.errors import SuiteError

ACCOUNT_SID = "AC" + "0" * 32
API_VERSION = "2010-04-01"
DEFAULT_CALLER = {"number": "+14155550100", "name": "TEST CALLER", "city": "SAN FRANCISCO",
                  "state": "CA", "zip": "94103", "country": "US"}
DEFAULT_CALLED = {"number": "+12125550199", "city": "NEW YORK", "state": "NY", "zip": "10001",
                  "country": "US"}
CALLER_FIELDS = ("name", "city", "state", "zip", "country")
DIAL_OUTCOMES = ("answered", "busy", "no-answer", "failed")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def inbound_params(call_sid, caller=None, caller_id=None, called=None):
    """The parameters Twilio sends with every request about an inbound call."""
    who = {**DEFAULT_CALLER, **(caller or {})}
    who["number"] = caller_id or who["number"]
    to = {**DEFAULT_CALLED, **(called or {})}
    params = {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "Direction": "inbound",
              "ApiVersion": API_VERSION, "From": who["number"], "To": to["number"],
              "Caller": who["number"], "Called": to["number"]}
    for prefix, party in (("From", who), ("Caller", who), ("To", to), ("Called", to)):
        for field in ("city", "state", "zip", "country"):
            params[f"{prefix}{field.capitalize()}"] = party[field]
    if who.get("name"):
        params["CallerName"] = who["name"]
    return params


def check_caller_fields(meta, where):
    """Validate a suite's callerId, caller and dial; returns them, each None when absent."""
    caller_id, caller, dial = meta.get("callerId"), meta.get("caller"), meta.get("dial")
    if caller_id is not None and not (isinstance(caller_id, str) and _E164.match(caller_id)):
        raise SuiteError(f'{where}"callerId": expected a phone number in E.164 form '
                         f'(+14155550100), got {caller_id!r}')
    if caller is not None:
        if not isinstance(caller, dict):
            raise SuiteError(f'{where}"caller": expected an object with '
                             f'{", ".join(CALLER_FIELDS)}, got {type(caller).__name__}')
        for key, value in caller.items():
            if key not in CALLER_FIELDS:
                raise SuiteError(f'{where}"caller": unknown key "{key}" (expected one of '
                                 f'{", ".join(CALLER_FIELDS)})')
            if not isinstance(value, str):
                raise SuiteError(f'{where}"caller.{key}": expected a string, got {value!r}')
    if dial is not None and dial not in DIAL_OUTCOMES:
        raise SuiteError(f'{where}"dial": expected one of {", ".join(DIAL_OUTCOMES)}, '
                         f'got {dial!r}')
    return caller_id, dict(caller) if caller else None, dial
