"""How a command stops: Ctrl-C and SIGTERM store what the command has, a storage failure is a
setup error. Both end with one line that says how many of the command's runs were kept.

Exit codes follow the shell's convention for a signal: 130 after Ctrl-C (SIGINT), 143 after
SIGTERM; 2 when the results file cannot be written (app/errors.StorageError).
"""
import signal
import sys
from contextlib import contextmanager

import click

from app.errors import StorageError

EXIT_STORAGE = 2
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by a stop signal. A KeyboardInterrupt, so whatever already
    stops cleanly on Ctrl-C (the webhook server finishing the requests in flight, a live run hanging its
    calls up) does the same on SIGTERM."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = EXIT_CODES.get(signum, 128 + signum)


class StopSignals:
    """While active, SIGTERM and SIGINT raise Stopped in the main thread; `stopped` keeps the
    first one even when something on the way caught it."""

    def __init__(self):
        self.stopped = None
        self._deferred = False

    def _handle(self, signum, _frame):
        if self.stopped is None:
            self.stopped = Stopped(signum)
        if not self._deferred:
            raise Stopped(signum)

    @contextmanager
    def deferred(self):
        """A signal in this block is noted, not raised (storing the runs must not be cut)."""
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False

    def __enter__(self):
        self._previous = {sig: signal.signal(sig, self._handle) for sig in EXIT_CODES}
        return self

    def __exit__(self, kind, value, _traceback):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        if isinstance(value, KeyboardInterrupt) and self.stopped is None:
            self.stopped = Stopped(signal.SIGINT)
        return isinstance(value, KeyboardInterrupt)        # handled: see `stopped`


def kept_line(store):
    kept, total = store.counts()
    return f"{kept} of {total} run(s) of this command stored in {store.path}"


def exit_stopped(stopped, store):
    """After Ctrl-C/SIGTERM (the store closed): one line, then the signal's exit code."""
    failure = f" ({store.failure})" if store.failure else ""
    click.echo(f"stopped by {stopped} (interrupted): {kept_line(store)}{failure}", err=True)
    sys.exit(stopped.exit_code)


def exit_storage_failure(error, store):
    """A results file that cannot be written: one line naming path and cause, exit 2."""
    click.echo(f"error: {error}; {kept_line(store)}", err=True)
    sys.exit(EXIT_STORAGE)


def open_or_exit(open_store, path):
    """open_store(path), or exit 2 with one line if the results file cannot be used."""
    try:
        return open_store(path)
    except StorageError as exc:
        click.echo(f"error: {exc}; no runs were played", err=True)
        sys.exit(EXIT_STORAGE)
