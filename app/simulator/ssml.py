"""How long an SSML prompt takes to say: pauses and speaking rate, as Amazon Polly reads them.

Connect speaks SSML prompts with Polly. Markup is not spoken, but `<break time="2s"/>` is two
seconds of silence and `<prosody rate="slow">` stretches the words inside it, so a prompt with
them lasts longer on the line, and a caller timing their answer hears it end later.

Named values follow Polly's documentation loosely (it gives no exact figures for them): break
strengths x-weak..x-strong are 0.1 to 1.25 s, a break with neither time nor strength is a
"medium" one; rates x-slow..x-fast are 50% to 150%; a percentage is taken as given. Polly caps a
break at 10 s.
"""
import re

from app.simulator.line import SECONDS_PER_WORD, speech_seconds

MAX_BREAK_SECONDS = 10.0
BREAK_STRENGTHS = {"none": 0.0, "x-weak": 0.1, "weak": 0.25, "medium": 0.5, "strong": 0.75,
                   "x-strong": 1.25}
RATES = {"x-slow": 0.5, "slow": 0.75, "medium": 1.0, "default": 1.0, "fast": 1.25, "x-fast": 1.5}

_TOKEN = re.compile(r"""<(/?)([\w:-]+)((?:"[^"]*"|'[^']*'|[^>"'/]|/(?!>))*)(/?)>|([^<]+)""", re.S)
_ATTRIBUTE = re.compile(r'([\w:-]+)\s*=\s*["\']([^"\']*)["\']')


def _duration(text):
    """Seconds in "2s" / "500ms" / "1.5s", or None when it is not a duration."""
    match = re.fullmatch(r"\s*([\d.]+)\s*(ms|s)\s*", text or "")
    if not match:
        return None
    try:
        value = float(match.group(1))
    except ValueError:
        return None
    return value / 1000 if match.group(2) == "ms" else value


def _rate(text):
    """A speaking-rate multiplier from a prosody rate ("slow", "80%"); 1.0 when unreadable."""
    text = (text or "").strip().lower()
    if text.endswith("%"):
        try:
            return max(0.2, float(text[:-1]) / 100)
        except ValueError:
            return 1.0
    return RATES.get(text, 1.0)


def break_seconds(attributes):
    """A <break>'s silence: its time, else its strength, capped as Polly caps it."""
    seconds = _duration(attributes.get("time"))
    if seconds is None:
        seconds = BREAK_STRENGTHS.get(attributes.get("strength", "medium").lower(), 0.5)
    return min(seconds, MAX_BREAK_SECONDS)


def spoken_seconds(text):
    """How long `text` takes to say, SSML pauses and rates included (plain text as the line says)."""
    if "<" not in (text or ""):
        return speech_seconds(text)
    rates, words, seconds = [1.0], 0, 0.0
    for closing, tag, attrs, self_closing, chunk in _TOKEN.findall(text):
        if chunk:
            count = len(chunk.split())
            words += count
            seconds += count * SECONDS_PER_WORD / rates[-1]
        elif tag == "break":
            seconds += break_seconds(dict(_ATTRIBUTE.findall(attrs)))
        elif tag == "prosody" and not self_closing:
            if closing:
                if len(rates) > 1:
                    rates.pop()
            else:
                rates.append(rates[-1] * _rate(dict(_ATTRIBUTE.findall(attrs)).get("rate")))
    return seconds if words else max(seconds, SECONDS_PER_WORD)
