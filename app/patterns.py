"""Regular expressions that cannot hang a run or a webhook.

Python's `re` backtracks: `(a+)+$` against a long transcript takes longer than the universe, and
holds the GIL while it does, so one step could freeze every call `serve` is handling. Patterns
run on RE2 (google-re2), whose time is linear in the text. RE2 has no backreferences or
lookaround; a pattern that needs them cannot be run safely and `check_pattern` rejects it, so
`validate` names the file, step and field before any call is placed.

Without google-re2 installed, the `regex` module runs the pattern with a hard time limit
instead (and releases the GIL while it runs).
"""
from functools import lru_cache

try:
    import re2
except ImportError:   # pragma: no cover - google-re2 is in requirements.txt
    re2 = None
    import regex

MAX_PATTERN_CHARS = 2000
TIME_LIMIT_SECONDS = 0.25


class UnsafePattern(ValueError):
    """A pattern that does not compile, or cannot be matched in bounded time."""


def check_pattern(pattern):
    """Compile `pattern` or raise UnsafePattern saying why (for suite validation)."""
    _compiled(pattern)


def search(pattern, text):
    """Whether `pattern` occurs in `text`; an unsafe pattern or one over the limit never matches."""
    try:
        compiled = _compiled(pattern)
        if re2 is not None:
            return compiled.search(text) is not None
        return compiled.search(text, timeout=TIME_LIMIT_SECONDS, concurrent=True) is not None
    except (UnsafePattern, TimeoutError):
        return False


@lru_cache(maxsize=1024)
def _compiled(pattern):
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafePattern(f"the pattern is longer than {MAX_PATTERN_CHARS} characters")
    if re2 is None:
        try:
            return regex.compile(pattern)
        except (regex.error, OverflowError, RecursionError) as exc:
            raise UnsafePattern(f"invalid regular expression: {exc}") from None
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except (re2.error, TypeError, ValueError, OverflowError) as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UnsafePattern(f"cannot be matched in linear time or is invalid ({reason}); "
                            "backreferences and lookaround are not supported") from None
