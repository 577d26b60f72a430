"""Engine replies as TwiML, built with the twilio library so the markup is what Twilio expects.

A step listens with `<Gather input="speech">` whose `timeout` and `speechTimeout` are both the
step's timeout: Twilio then posts the transcript once the IVR has been quiet that long. When
nothing is said, the Gather falls through to a `<Redirect>` that records the timeout.
"""
import math

from twilio.twiml.voice_response import VoiceResponse


_EMPTY = str(VoiceResponse())    # written once: the same text every time, and /partial and
                                 # /status answer it several times a call


def empty():
    """`<Response/>`: what a callback whose answer Twilio ignores (status, partial results)
    gets. An empty TwiML document rather than a 204: see `webhooks.acknowledged`."""
    return _EMPTY


def hangup():
    response = VoiceResponse()
    response.hangup()
    return str(response)


def render(reply, gather_url, partial_url=None):
    """TwiML for an engine `Reply`; `gather_url(step, silence)` and `partial_url(step)` build the
    callback URLs. Partial results let a step be judged when the IVR hangs up mid-window."""
    response = VoiceResponse()
    for action in reply.actions:
        if action.kind == "press":
            response.play(digits=action.value)
        elif action.kind == "say":
            response.say(action.value)
    if reply.hangup or reply.listen is None:
        response.hangup()
        return str(response)
    seconds = whole_seconds(reply.timeout)
    extra = {"partial_result_callback": partial_url(reply.listen)} if partial_url else {}
    response.gather(input="speech", action=gather_url(reply.listen, False), method="POST",
                    timeout=seconds, speech_timeout=seconds, **extra)
    response.redirect(gather_url(reply.listen, True), method="POST")
    return str(response)


def whole_seconds(timeout):
    """Twilio takes whole seconds for Gather timeouts: round a step's timeout up."""
    return max(1, math.ceil(timeout))
