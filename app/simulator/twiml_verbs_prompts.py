"""TwiML verbs that play something to the other party: <Say>, <Play>, <Pause>.

Twilio's behaviour (TwiML reference):
- <Say>/<Play> `loop` repeats; loop="0" means "until hangup", capped at 1000 repetitions; an
  invalid loop (negative, "inf", text) is warning 13510 (<Say>) / 13410 (<Play>) and 1.
- <Play digits>: 'w' waits half a second (timing is the line's); <Play> of a URL is simulated as
  one second of silence per loop and written to the line log with kind "play".
- <Pause length> defaults to 1 second; an invalid length is warning 13910 and 1 second.

Each handler takes the leg and the verb element and calls `on_done` when it has finished.
"""
from functools import partial

from app.simulator.twiml_attrs import Attributes, loops

PLAY_URL_SECONDS = 1.0
PROMPT_TAGS = ("Say", "Play", "Pause")


def prompt(leg, verb, on_done, within=None):
    """Play a Say, Play or Pause, then call `on_done`; return False for any other verb.
    `within` names the enclosing verb ("Gather") for the warning codes of nested verbs."""
    if verb.tag not in PROMPT_TAGS:
        return False
    family = f"{within}->{verb.tag}" if within else verb.tag
    attrs = Attributes(verb, leg.warn, family)
    if verb.tag == "Say":
        say(leg, "".join(verb.itertext()).strip(), loops(attrs), on_done)
    elif verb.get("digits"):
        leg.line.play_digits(leg, verb.get("digits"), leg.guard(on_done))
    elif verb.tag == "Play":
        leg.log("play", (verb.text or "").strip())
        leg.wait_for(PLAY_URL_SECONDS * loops(attrs), on_done)
    else:
        leg.wait_for(attrs.number("length", 1.0), on_done)
    return True


def say(leg, text, times, on_done):
    """Speak `text` `times` times on the line; an empty Say still continues as a clock event."""
    if not text:
        leg.wait_for(0, on_done)
        return
    if times <= 0:
        on_done()
        return
    leg.line.say(leg, text, leg.guard(say, leg, text, times - 1, on_done))


def play_prompts(leg, verbs, on_done, within, i=0):
    """Play a verb's nested Say/Play/Pause in order, from the `i`th; any other nested verb is
    skipped with a warning (Twilio allows only these inside <Gather>)."""
    while i < len(verbs):
        verb, i = verbs[i], i + 1
        if prompt(leg, verb, partial(play_prompts, leg, verbs, on_done, within, i), within):
            return
        leg.warn_unsupported(verb, f" inside <{within}>")
    on_done()


def run_prompt(leg, verb):
    """A top-level Say, Play or Pause: play it, then the next verb."""
    prompt(leg, verb, leg.next)


HANDLERS = {tag: run_prompt for tag in PROMPT_TAGS}
