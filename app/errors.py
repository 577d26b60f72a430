"""The exceptions this tool raises on bad input; each carries a message meant for the user.

Everything a user can get wrong (a suite file, a flow export, a bot export, a target, a setting)
raises a subclass of `IvrTestError`, so the command line can print the message and exit 2
instead of showing a traceback.
"""


class IvrTestError(Exception):
    """Base for every error caused by the user's input rather than by a bug."""


class SuiteError(IvrTestError):
    """A suite file is unreadable or breaks the format; each message names file, step and field.
    Built from one message or a list of them (`messages`), one per line in `str()`."""

    def __init__(self, messages):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


class FlowError(IvrTestError):
    """An Amazon Connect flow export cannot be read or run (unknown block, dangling transition)."""


class NotAFlowExport(FlowError):
    """A file that holds no Connect flow at all (another JSON document, a template of other
    resources): folder scans skip it, where a broken flow is reported."""


class LexError(IvrTestError):
    """A Lex bot export cannot be read."""


class TargetError(IvrTestError):
    """A target cannot be resolved to something a call can be placed to."""


class ConfigError(IvrTestError):
    """A setting is missing or invalid."""


class StorageError(IvrTestError):
    """The results file cannot be read or written (full disk, read-only folder, not a file)."""
