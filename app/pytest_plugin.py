"""pytest collects JSON suites as tests: one item per suite file, named after the file.

Enable it with `python -m pytest -p app.pytest_plugin testSuite/` (or `pytest_plugins =
["app.pytest_plugin"]` in a root conftest). CI users then get what they already know: `-k`,
`--lf`, `--junitxml`, exit codes. Only JSON under paths the user points at is collected (paths
on the command line, or the `ivr_suites` ini option), and from folders only files shaped like a
suite, so flow exports and test fixtures stay out.

The first item to run plays every collected suite in one offline batch on one virtual clock
(as `python main.py run` does: one app, each flow and bot loaded once); each item then reports
its own run. Failures print the step, expected vs heard and the score, never a traceback.
"""
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.errors import IvrTestError
from app.report import describe_entry, expected_text, first_failure, heard_text, passed, score_reason

RESULTS = pytest.StashKey()         # nodeid -> stored run, or the IvrTestError
OFFLINE = pytest.StashKey()         # the batch's OfflineResult, for the coverage summary


def pytest_addoption(parser):
    group = parser.getgroup("ivr", "IVR test suites (app.pytest_plugin)")
    group.addoption("--ivr-target", help="Flow export, twiml:URL; overrides each suite's target.")
    group.addoption("--ivr-lex-bot", help="Lex bot export for the flow target.")
    group.addoption("--ivr-seed", type=int, default=0, help="Seed of the offline recognizer's noise.")
    group.addoption("--ivr-db", help="Results database (default RESULTS_DB or results/db.json).")
    parser.addini("ivr_suites", type="paths", help="Folders (or files) whose JSON suites are collected.")


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".json" and wanted(file_path, parent.config):
        return SuiteFile.from_parent(parent, path=file_path)
    return None


def wanted(path, config):
    """A file named on the command line always; one inside a pointed-at folder if suite-shaped."""
    path, roots = path.resolve(), suite_roots(config)
    if path in roots:
        return True
    return any(root in path.parents for root in roots) and looks_like_suite(path)


def suite_roots(config):
    """Paths the user pointed at: the `ivr_suites` ini option, and command-line arguments
    (not `testpaths`, so a plain `pytest` never wanders into JSON fixtures)."""
    roots = [Path(p).resolve() for p in config.getini("ivr_suites")]
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        base = config.invocation_params.dir
        roots += [(base / arg.split("::")[0]).resolve() for arg in config.args]
    return roots


def looks_like_suite(path):
    """Suite-shaped: a list of steps, an object with "steps", or JSON too broken to tell
    (then the item reports where it breaks, as `python main.py validate` would)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return True
    except OSError:
        return False
    return isinstance(data, list) or (isinstance(data, dict) and "steps" in data)


class SuiteFile(pytest.File):
    def collect(self):
        yield SuiteItem.from_parent(self, name=self.path.stem)


class SuiteFailed(Exception):
    """A suite ran and did not pass; carries its stored run."""

    def __init__(self, doc):
        super().__init__(doc.get("endReason") or doc.get("status"))
        self.doc = doc


class SuiteItem(pytest.Item):
    def runtest(self):
        outcome = batch_results(self.session).get(self.nodeid)
        if isinstance(outcome, Exception):
            raise outcome
        if outcome is None:
            raise IvrTestError(f"{self.path}: the suite was not run")
        if not passed(outcome):
            raise SuiteFailed(outcome)

    def repr_failure(self, excinfo, style=None):
        """Our own failures as text, not a traceback; anything else is a bug, shown as pytest does."""
        if isinstance(excinfo.value, SuiteFailed):
            return FailureText(failure_text(excinfo.value.doc))
        if isinstance(excinfo.value, IvrTestError):
            return FailureText(str(excinfo.value))
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"ivr suite {self.name}"


class FailureText:
    """A failure pytest prints as it is, instead of a traceback. Its `reprcrash.message`, the
    first line, is what the short summary and JUnit's failure `message` attribute show."""

    def __init__(self, text):
        self.text = text
        self.reprcrash = SimpleNamespace(message=text.split("\n", 1)[0])

    def toterminal(self, tw):
        for line in self.text.split("\n"):
            tw.line(line)

    def __str__(self):
        return self.text


def failure_text(doc):
    """What a failing item prints. The first line is what pytest's short summary and JUnit's
    failure message keep, so it names the step, the reason and the score."""
    failure = first_failure(doc)
    if failure is None:
        lines = [f"{doc['status']}: {doc.get('endReason') or 'the run did not complete'}"]
    else:
        lines = [f"step {failure['step']} failed ({score_reason(failure)})",
                 f"  expected {expected_text(failure)}", f"  heard    {heard_text(failure)}"]
    lines.append(f"suite {doc.get('suite')!r}: {doc.get('passedSteps', 0)}/{doc.get('totalSteps', 0)} "
                 f"steps passed, {doc['status']}, against {doc.get('target')}")
    transcript = doc.get("transcript") or []
    if transcript:
        lines.append("call:")
        lines += [f"  {entry['t']:6.1f}s  {describe_entry(entry)}" for entry in transcript]
    return "\n".join(lines)


def batch_results(session):
    """Run every selected suite item once, together; nodeid -> stored run or the error. The
    cache is set first, so a crash shows its traceback once, not once per item."""
    if RESULTS not in session.config.stash:
        session.config.stash[RESULTS] = {}
        items = [item for item in session.items if isinstance(item, SuiteItem)]
        session.config.stash[RESULTS].update(run_items(items, session.config))
    return session.config.stash[RESULTS]


def run_items(items, config):
    """Load, resolve and run the suites offline; a bad file or target fails only its item,
    a bad setting fails them all with its message."""
    from app.config import load_settings
    from app.suite import load_suite
    try:
        settings = load_settings()
    except IvrTestError as exc:
        return {item.nodeid: exc for item in items}
    results, jobs = {}, []
    for item in items:
        try:
            suite = load_suite(display_path(item.path))
            jobs.append((item.nodeid, job_for(suite, config, settings["IVR_TARGET"])))
        except IvrTestError as exc:
            results[item.nodeid] = exc
    if jobs:
        try:
            docs = run_offline([job for _, job in jobs], config, settings["RESULTS_DB"])
        except IvrTestError as exc:
            docs = [exc] * len(jobs)
        results.update((nodeid, doc) for (nodeid, _), doc in zip(jobs, docs))
    return results


def display_path(path):
    """The path as the CLI would name it (relative to here), so stored runs and the offline
    noise, which is keyed by the suite's path, match `python main.py run`."""
    try:
        relative = os.path.relpath(path)
    except ValueError:                      # another drive, on Windows
        return path
    return path if relative.startswith("..") else Path(relative)


def job_for(suite, config, env_target):
    """The suite's target resolved as the CLI does: --ivr-target, the suite's, IVR_TARGET, default."""
    from app.runner import Job
    from app.targets import resolve_target
    target = resolve_target(config.getoption("ivr_target"), suite.target, env_target,
                            config.getoption("ivr_lex_bot") or suite.conditions.get("lexBot"))
    if not target.offline:
        raise IvrTestError(f"{suite.path}: target {target}: live calls are not run under pytest; "
                           "use python main.py run")
    return Job(suite, target)


def run_offline(jobs, config, default_db):
    """One OfflineRunner for the whole batch, storing runs where the CLI does."""
    from app.runner import OfflineRunner
    from app.store import open_store
    store = open_store(config.getoption("ivr_db") or default_db)
    try:
        result = OfflineRunner(store, seed=config.getoption("ivr_seed")).run(jobs)
    finally:
        store.close()
    config.stash[OFFLINE] = result
    return result.documents


def pytest_terminal_summary(terminalreporter, config):
    """Coverage of each flow the suites ran against, as the CLI prints it."""
    result = config.stash.get(OFFLINE, None)
    if result is None:
        return
    terminalreporter.section("ivr")
    for path, coverage in result.coverage.items():
        terminalreporter.write_line(f"{path}: {coverage.summary()}")
    terminalreporter.write_line(f"simulated {result.virtual_seconds:.1f} s of calls in "
                                f"{result.wall_seconds:.2f} s")
