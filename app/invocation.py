"""What one invocation (`ivr-test run`, a pytest session) runs, with every setting resolved by
precedence: command line > suite > project file > environment > defaults.

The command line and the pytest plugin both build their jobs here, so a suite plays the same
against the same target, hours, Lambda responses, noise and seed whichever way it is started.
"""
import os
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from app import run_options
from app.config import load_settings
from app.errors import IvrTestError
from app.project import load_project
from app.sample import SUITES, sample_path
from app.suite import load_suites
from app.targets import resolve_target

DEFAULT_CONCURRENCY = 10
DEFAULT_RESULTS = os.path.join("results", "db.json")


def new_invocation_id():
    """Sortable and readable: `20261202T061500Z-3fa2c1` (UTC time, then random)."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


@dataclass
class Invocation:
    project: object
    settings: dict
    id: str

    # -- invocation-wide values ----------------------------------------------------------------

    def suite_paths(self, given=()):
        """Suites named on the command line, else the project's, IVR_SUITES, `testSuite/` here,
        else the bundled sample suites. The second value says where they came from."""
        if given:
            return list(given), "command line"
        if self.project.get("suites"):
            return self.project.get("suites"), str(self.project.path)
        if self.settings["IVR_SUITES"]:
            return self.settings["IVR_SUITES"].split(os.pathsep), "IVR_SUITES"
        here = self._in_project(SUITES)
        if Path(here).exists() or sample_path(SUITES) is None:
            return [here], "default"
        return [str(sample_path(SUITES))], "bundled sample"

    def results_path(self, given=None):
        """--db, the project's `results`, RESULTS_DB; by default results/db.json beside the
        project file (or here)."""
        if given:
            return given
        if self.project.get("results"):
            return self.project.get("results")
        if self.settings["RESULTS_DB"] != DEFAULT_RESULTS.replace(os.sep, "/") or not self.project.folder:
            return self.settings["RESULTS_DB"]
        return self._in_project(DEFAULT_RESULTS)

    def concurrency(self, given=None):
        return (given or self.project.get("concurrency") or self.settings["IVR_CONCURRENCY"]
                or DEFAULT_CONCURRENCY)

    def base_options(self):
        """Run options from the project file over the environment (no suite, no command line)."""
        env = {"hours": self.settings["IVR_HOURS"], "noise": self.settings["IVR_NOISE"],
               "seed": self.settings["IVR_SEED"],
               "lambda_responses": self.settings["IVR_LAMBDA_RESPONSES"] or None}
        project = {key: self.project.get(key) for key in run_options.PER_SUITE}
        return run_options.merge(project, env)

    # -- suites and jobs -----------------------------------------------------------------------

    def load(self, paths):
        """Load suites; returns (suites, errors). With a project file, each suite is named by
        its path from the project's folder, so names (JUnit, stored runs) and the offline
        noise, which is keyed by that name, do not change with the folder it is run from."""
        suites, errors = load_suites(paths)
        return [replace(s, path=self.suite_name(s.path)) for s in suites], errors

    def suite_name(self, path):
        folder = self.project.folder
        if folder is None:
            return str(path)
        try:
            return Path(path).resolve().relative_to(folder.resolve()).as_posix()
        except ValueError:
            return str(path)

    def jobs(self, suites, target=None, lex_bot=None, **given):
        """One Job per suite with its target and options; a suite whose own setting is broken
        becomes an error instead. `given`: the command line's hours/noise/seed/lambda_responses
        (None when not given). Returns (jobs, errors); a bad command-line or project value
        raises IvrTestError for all."""
        from app.runner import Job
        responses = {}
        base = self.base_options()
        base["lambda_responses"] = self._responses(base["lambda_responses"], responses)
        given = dict(given, lambda_responses=self._responses(given.get("lambda_responses"), responses))
        env_target = self.project.get("target") or self.settings["IVR_TARGET"] or None
        lex_bot = lex_bot or self.project.get("lex_bot") or self.settings["IVR_LEX_BOT"] or None
        if target:
            resolve_target(target, None, None, lex_bot)      # a bad --target is one error, not one per suite
        jobs, errors = [], []
        for suite in suites:
            try:
                own = dict(suite.settings)
                own["lambda_responses"] = self._responses(own.get("lambda_responses"), responses)
                options = run_options.merge(given, own, base)
                job_target = resolve_target(target, suite.target, env_target, lex_bot)
            except IvrTestError as exc:
                errors.append(IvrTestError(f"{suite.path}: {exc}"))
                continue
            jobs.append(Job(suite, job_target, options, {"invocation": self.id}))
        return jobs, errors

    def _in_project(self, name):
        return str(self.project.folder / name) if self.project.folder else name

    @staticmethod
    def _responses(value, cache):
        if not isinstance(value, str):
            return value
        if value not in cache:
            cache[value] = run_options.read_lambda_responses(value)
        return cache[value]


def load_invocation(start=None):
    """The project file (found from `start`, default here), the settings (with the `.env`
    beside the project file), and a new invocation id; IvrTestError on a bad file or setting."""
    project = load_project(start)
    dotenv = project.folder / ".env" if project.folder else ".env"
    return Invocation(project, load_settings(dotenv_path=dotenv), new_invocation_id())
