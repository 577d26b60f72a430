"""The virtual phone network: places offline calls between our webhook app and the IVR under test.

The caller's leg is a TwimlLeg running our own webhooks. With `wire=True` every request makes the
full round trip a live Twilio call makes (a WSGI request to the Flask app, form-encoded and
signed like Twilio's, TwiML written and parsed as XML); by default the same run manager and the
same TwiML are reached directly (app/simulator/direct.py), which is proven to store the same runs.
The IVR's leg is whatever the target needs: a Connect flow interpreter or another TwimlLeg.
"""

from app.ids import new_id
from app.simulator.direct import DirectFetcher, DirectTwimlLeg
from app.simulator.fetch import FlaskFetcher
from app.simulator.line import Line
from app.simulator.twiml_leg import TwimlLeg

CALLER_NUMBER = "+15550100001"
IVR_NUMBER = "+15550100002"
ACCOUNT_SID = "AC" + "0" * 32


def call_params(call_sid, direction, from_number=CALLER_NUMBER, to_number=IVR_NUMBER):
    """The parameters Twilio sends with every request about a call."""
    return {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "From": from_number, "To": to_number,
            "Direction": direction, "ApiVersion": "2010-04-01"}


def new_call_sid():
    return "CA" + new_id()


class VirtualNetwork:
    def __init__(self, app, clock, recognizer, public_url, auth_token=None, max_call_seconds=900,
                 wire=False):
        self.clock, self.recognizer = clock, recognizer
        self.public_url, self.max_call_seconds = public_url.rstrip("/"), max_call_seconds
        self.fetch = FlaskFetcher(app, auth_token=auth_token, public_url=self.public_url)
        self.caller_leg = TwimlLeg
        if not wire:
            self.fetch = DirectFetcher(app, self.public_url, wire=self.fetch)
            self.caller_leg = DirectTwimlLeg

    def place_call(self, run_id, make_ivr, noise_key=None, recognizer=None):
        """Connect our webhooks for `run_id` to the IVR that `make_ivr(line)` builds.

        `noise_key` names the call for the recognizer (with the seed), so that the same suite
        hears the same transcripts on every run, whatever its CallSid; `recognizer` (a suite's
        own noise and seed) replaces the network's for this call.
        The call is cut at `max_call_seconds` of virtual time, so an IVR or a suite that would
        loop forever ends with a clear reason instead of a hang.
        """
        call_sid = new_call_sid()
        line = Line(self.clock, recognizer or self.recognizer, call_id=call_sid, noise_key=noise_key)
        caller = self.caller_leg(self.clock, line, self.fetch, f"{self.public_url}/voice?run={run_id}",
                          call_params(call_sid, "outbound-api"), name="caller",
                          status_callback=f"{self.public_url}/status")
        ivr = make_ivr(line)
        limit = self.clock.call_later(self.max_call_seconds, line.hangup, None, "call-length limit")
        line.on_end.append(lambda _line: limit.cancel())
        line.connect(caller, ivr)
        return line, caller, ivr
