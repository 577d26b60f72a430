"""Where a suite's call goes: a Connect flow export, a TwiML app URL, or a real phone number.

The first of these that is given wins: `--target`, the suite file's own `target`, the project
file's, IVR_TARGET, and finally the embedded default (the sample flow in
`aws-connect-contact-flows/` with the bot in `aws-lex-bot/`: the current folder's, else the
bundled copy), so `python main.py` works on a fresh machine with nothing configured. Relative
paths are anchored (`anchor`) to the folder of the file that names them before they get here.
"""
import os
import re
from dataclasses import dataclass
from pathlib import Path

from app.errors import TargetError
from app.sample import sample_path

DEFAULT_FLOW = "aws-connect-contact-flows"
DEFAULT_LEX_BOT = "aws-lex-bot"
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class Target:
    kind: str                  # "flow" | "twiml" | "phone"
    value: str                 # a path, a URL or an E.164 number
    lex_bot: str | None = None
    method: str = "POST"       # twiml: how the first document is requested

    @property
    def offline(self):
        return self.kind != "phone"

    def __str__(self):
        if self.kind == "twiml":
            return f"twiml:{'GET:' if self.method == 'GET' else ''}{self.value}"
        return self.value + (f" (Lex bot {self.lex_bot})" if self.lex_bot else "")


def parse_target(text, lex_bot=None, base=Path(".")):
    """Turn a target string into a Target, or raise TargetError saying what is accepted."""
    text = (text or "").strip()
    if text.startswith("twiml:"):
        method, url = _twiml_method(text[len("twiml:"):])
        if not re.match(r"^https?://", url):
            raise TargetError(f"target {text!r}: expected twiml:http://HOST/PATH "
                              "or twiml:GET:http://HOST/PATH")
        return Target("twiml", url, method=method)
    if _PHONE.match(text):
        return Target("phone", text)
    path = base / text
    # A flow inside a CloudFormation or Terraform file is named `file#LogicalId`.
    file_part = base / text.rsplit("#", 1)[0] if "#" in text and not path.exists() else path
    if text and file_part.exists():
        return Target("flow", str(path), str(base / lex_bot) if lex_bot else None)
    raise TargetError(f"target {text!r}: not a flow export file or folder, a twiml:URL, "
                      "or a phone number in E.164 form (+15551234567)")


def _twiml_method(rest):
    """`GET:URL` or `POST:URL` picks how the app's first document is requested (Twilio's
    "Voice URL" method; POST when not given)."""
    method, sep, url = rest.partition(":")
    if sep and method.upper() in ("GET", "POST") and not url.startswith("//"):
        return method.upper(), url
    return "POST", rest


def resolve_target(cli_target=None, suite_target=None, env_target=None, lex_bot=None, base=Path(".")):
    """The target for one suite, by precedence; the default flow comes with the default bot."""
    chosen = cli_target or suite_target or env_target
    if chosen:
        return parse_target(chosen, lex_bot, base)
    if not (base / DEFAULT_FLOW).exists():
        bundled = sample_path(DEFAULT_FLOW)
        if bundled is None:
            raise TargetError(f"no target given and no {DEFAULT_FLOW}/ here: pass --target or set IVR_TARGET")
        return parse_target(str(bundled), lex_bot or str(sample_path(DEFAULT_LEX_BOT)), base)
    bot = lex_bot or (DEFAULT_LEX_BOT if (base / DEFAULT_LEX_BOT).exists() else None)
    return parse_target(DEFAULT_FLOW, bot, base)


def is_path_target(text):
    """True for a target that names a file or folder (not twiml:URL, not a phone number)."""
    text = (text or "").strip()
    return bool(text) and not text.startswith("twiml:") and not _PHONE.match(text)


def anchor(text, folder):
    """A relative path read from a file, made relative to the current folder (or absolute) by
    joining it to that file's `folder`; URLs, phone numbers and absolute paths are unchanged."""
    if not is_path_target(text) or folder is None:
        return text
    text = text.strip()
    return text if os.path.isabs(text) else os.path.normpath(os.path.join(folder, text))
