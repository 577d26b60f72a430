"""A PhoneCall drives the webhooks through Flask's test client the way Twilio does.

It posts Twilio's call parameters, signs every request with a real `X-Twilio-Signature`, and
follows the TwiML it gets back: a `<Gather>` is answered with the next thing the scripted IVR
"says" (or, for None, its `<Redirect>` is followed as Twilio does when nobody speaks), and the
call ends at `<Hangup/>`.
"""
import xml.etree.ElementTree as ET

from twilio.request_validator import RequestValidator

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://ivr-tests.example.ngrok.app"


def sign(url, params, token=AUTH_TOKEN):
    return RequestValidator(token).compute_signature(url, params)


class PhoneCall:
    def __init__(self, client, ivr_says, run_id=None, call_sid="CA00000000000000000000000000000001",
                 token=AUTH_TOKEN, max_requests=50):
        self.client, self.ivr_says, self.token = client, list(ivr_says), token
        self.params = {"CallSid": call_sid, "AccountSid": "AC" + "0" * 32, "From": "+15550001111",
                       "To": "+15557654321", "CallStatus": "in-progress", "Direction": "outbound-api"}
        self.voice_url = f"/voice?run={run_id}" if run_id else "/voice"
        self.caller_did = []        # ("press", digits) / ("say", text)
        self.responses = []
        self.max_requests = max_requests

    def post(self, path, extra=None, token=None):
        params = {**self.params, **(extra or {})}
        headers = {"X-Twilio-Signature": sign(PUBLIC_URL + path, params, token or self.token)}
        response = self.client.post(path, data=params, headers=headers)
        self.responses.append(response)
        return response

    def run(self):
        """Answer the call and follow the TwiML to the hang-up; returns the caller's actions."""
        response = self.post(self.voice_url)
        for _ in range(self.max_requests):
            assert response.status_code == 200, response.get_data(as_text=True)
            next_request = self._follow(ET.fromstring(response.data))
            if next_request is None:
                return self.caller_did
            response = self.post(*next_request)
        raise AssertionError("call did not hang up")

    def _follow(self, root):
        for verb in root:
            if verb.tag == "Play" and verb.get("digits"):
                self.caller_did.append(("press", verb.get("digits")))
            elif verb.tag == "Say":
                self.caller_did.append(("say", verb.text))
            elif verb.tag == "Hangup":
                return None
            elif verb.tag == "Gather":
                said = self.ivr_says.pop(0) if self.ivr_says else None
                if said is not None:
                    return verb.get("action"), {"SpeechResult": said, "Confidence": "0.91"}
            elif verb.tag == "Redirect":
                return verb.text, {}
        return None

    def status(self, call_status):
        return self.post("/status", {"CallStatus": call_status})
