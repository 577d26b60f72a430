"""Blocks that speak to the caller: Play prompt (MessageParticipant) and Loop prompts
(MessageParticipantIteratively, the older LoopPrompts).

A prompt is `Text` or `SSML`; an audio prompt (`PromptId`, a recording in the instance) has no
words we could know, so MessageParticipant plays it as nothing. In a loop of prompts, where time
matters, a recording counts as AUDIO_PROMPT_SECONDS of sound.
"""
from app.simulator.connect_flow import as_number

AUDIO_PROMPT_SECONDS = 5
INTERRUPTED = "MessagesInterrupted"


def prompt_text(block):
    """What an input or prompt block says first (or one message of a loop: its parameters)."""
    params = block if isinstance(block, dict) else block.params
    return params.get("Text") or params.get("SSML") or ""


def message(leg, block):
    """Play prompt: speak, then Success."""
    leg.say(prompt_text(block), lambda: leg.next(block))


def message_iteratively(leg, block):
    """Loop prompts: play the messages in turn, over and over, until the interrupt time.

    Connect plays them until `InterruptFrequencySeconds` have passed, then takes the
    MessagesInterrupted condition (the older LoopPrompts: its Timeout branch). Without an
    interrupt time the prompts loop until the call ends (a customer queue flow waiting for an
    agent), which the call-length limit or the caller's hangup stops.
    """
    messages = [m for m in block.params.get("Messages") or [] if isinstance(m, dict)]
    interrupt = as_number(leg.value(block.params.get("InterruptFrequencySeconds")))
    if interrupt is not None and interrupt > 0:
        leg.wait(interrupt, lambda: _interrupted(leg, block))
    if not messages:
        if interrupt is None or interrupt <= 0:
            leg.error(block)
        return
    _play(leg, block, messages, 0)


def _play(leg, block, messages, index):
    text = prompt_text(messages[index % len(messages)])
    after = leg.guard(lambda: _play(leg, block, messages, index + 1))
    if leg.text(text).strip():
        leg.say(text, after)      # speaking leaves the interrupt timer running
    else:
        leg.clock.call_later(AUDIO_PROMPT_SECONDS, after)


def _interrupted(leg, block):
    if block.conditions:
        leg.route(block, INTERRUPTED)
    elif "InputTimeLimitExceeded" in block.errors:
        leg.error(block, "InputTimeLimitExceeded")
    else:
        leg.next(block)


HANDLERS = {
    "MessageParticipant": message,
    "MessageParticipantIteratively": message_iteratively,
}
