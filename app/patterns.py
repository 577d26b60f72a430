"""Regular expressions that cannot hang a run or a webhook.

Python's `re` backtracks: `(a+)+$` against a long transcript takes longer than the universe, and
holds the GIL while it does, so one step could freeze every call `serve` is handling. Patterns
run on RE2 (google-re2), whose time is linear in the text. RE2 has no backreferences or
lookaround; a pattern that needs them cannot be run safely and `check_pattern` rejects it, so
`validate` names the file, step and field before any call is placed.

Without google-re2 installed, the `regex` module runs the pattern with a hard time limit
instead (and releases the GIL while it runs).
"""
import re
from functools import lru_cache

try:
    from re import _constants as sre_constants, _parser as sre_parse   # Python 3.11+
except ImportError:   # pragma: no cover
    import sre_constants
    import sre_parse

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
    """Compile `pattern` or raise UnsafePattern saying why (for suite validation).

    Besides what RE2 cannot run, it rejects nested unbounded repetition such as `(a+)+$`:
    RE2 runs it safely, but the same suite fed to a backtracking engine (Python's `re`, a
    JavaScript or Java tool, the `regex` fallback here) would hang, and it never means more
    than the simpler `a+$`.
    """
    _compiled(pattern)
    if _nested_repeat(sre_parse.parse(pattern)):
        raise UnsafePattern(f"regular expression {pattern!r} repeats a repetition (like (a+)+), "
                            "which backtracking engines cannot finish on long text; "
                            "write the inner part once (a+)")


def search(pattern, text):
    """Whether `pattern` occurs in `text`; an unsafe pattern or one over the limit never matches."""
    try:
        compiled = _compiled(pattern)
        if re2 is not None:
            return compiled.search(text) is not None
        return compiled.search(text, timeout=TIME_LIMIT_SECONDS, concurrent=True) is not None
    except (UnsafePattern, TimeoutError):
        return False


_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)


def _nested_repeat(items):
    """Whether a parsed pattern has an unbounded repeat whose body is, apart from optional
    parts, itself an unbounded repeat: the shape that backtracks exponentially."""
    for op, arg in items:
        if op in _REPEATS:
            low, high, body = arg
            if high == sre_constants.MAXREPEAT and _only_repeat(body):
                return True
            if _nested_repeat(body):
                return True
        elif op == sre_constants.SUBPATTERN and _nested_repeat(arg[-1]):
            return True
        elif op == sre_constants.BRANCH and any(_nested_repeat(branch) for branch in arg[1]):
            return True
    return False


def _only_repeat(items):
    repeats = 0
    for op, arg in items:
        if op == sre_constants.SUBPATTERN:
            inner = list(arg[-1])
            if _only_repeat(inner):
                repeats += 1
                continue
            op, arg = (inner[0] if len(inner) == 1 else (None, None))
        if op == sre_constants.BRANCH and any(_only_repeat(branch) for branch in arg[1]):
            repeats += 1
        elif op in _REPEATS and arg[1] == sre_constants.MAXREPEAT:
            repeats += 1
        elif not (op in _REPEATS and arg[0] == 0):
            return False
    return repeats > 0


@lru_cache(maxsize=1024)
def _compiled(pattern):
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafePattern(f"regular expression is longer than {MAX_PATTERN_CHARS} characters")
    if re2 is None:
        try:
            return regex.compile(pattern)
        except (regex.error, OverflowError, RecursionError) as exc:
            raise UnsafePattern(f"invalid regular expression: {exc}") from None
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise UnsafePattern(f"invalid regular expression {pattern!r}: {exc}") from None
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except (re2.error, TypeError, ValueError, OverflowError) as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UnsafePattern(f"regular expression {pattern!r} cannot be matched in linear time "
                            f"({reason}): backreferences, "
                            "lookaround and huge repetitions are not supported") from None
