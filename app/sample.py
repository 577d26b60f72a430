"""Where the bundled sample lives, so `ivr-test` with nothing configured works in any folder.

The sample (the suites in `testSuite/`, the Connect flow in `aws-connect-contact-flows/`, the
Lex bot in `aws-lex-bot/`) sits at the root of a checkout; an installed wheel carries a copy in
`app/sample/` (setup.py puts it there). The current folder's own copies always come first:
`app/targets.py` and `app/cli.py` only fall back to these.
"""
from pathlib import Path

SUITES, FLOW, LEX_BOT = "testSuite", "aws-connect-contact-flows", "aws-lex-bot"
_PACKAGE = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE / "sample", _PACKAGE.parent)     # installed copy, then the checkout


def sample_path(name):
    """The bundled `name` (one of SUITES, FLOW, LEX_BOT) as an absolute Path, or None."""
    for root in _CANDIDATES:
        if (root / FLOW).is_dir() and (root / name).exists():
            return root / name
    return None
