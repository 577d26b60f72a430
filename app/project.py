"""The project file: `ivr-test.toml` (or `[tool.ivr-test]` in `pyproject.toml`), configured once
and found by walking up from the current folder, as git finds `.git`.

    suites = "ivr/suites"              # a folder or file, or a list of them
    target = "flows/Main.json"         # flow export, twiml:URL or +E164
    lex-bot = "bots/Main.zip"
    hours = "open"                     # or "closed"
    lambda-responses = "ivr/lambdas.json"
    noise = "realistic"                # or "off"
    seed = 0
    concurrency = 10
    results = "results/db.json"

Relative paths are relative to the file that names them, never to the current folder, so the
same project runs the same from any subfolder. The first `ivr-test.toml` found wins; a
`pyproject.toml` counts only when it has a `[tool.ivr-test]` table. Precedence is documented in
the README: command line > suite > project file > environment > defaults.
"""
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from app import run_options
from app.errors import ConfigError
from app.targets import anchor

FILE_NAME = "ivr-test.toml"
PATH_KEYS = ("suites", "target", "lex-bot", "lambda-responses", "results")
KEYS = ("suites", "target", "lex-bot", "hours", "lambda-responses", "noise", "seed", "concurrency", "results")


@dataclass(frozen=True)
class Project:
    path: Path | None = None                       # the file it was read from; None: no project file
    values: dict = field(default_factory=dict)     # option name (lex_bot...) -> value, paths anchored

    @property
    def folder(self):
        return self.path.parent if self.path else None

    def get(self, key, default=None):
        return self.values.get(key, default)


def find_project_file(start=None):
    """The nearest `ivr-test.toml`, or `pyproject.toml` with `[tool.ivr-test]`, from `start` up."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / FILE_NAME).is_file():
            return folder / FILE_NAME
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "ivr-test" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def load_project(start=None):
    """The project for the current folder (an empty Project when there is no file)."""
    path = find_project_file(start)
    return read_project(path) if path else Project()


def read_project(path):
    """Read and check one project file; every problem is a ConfigError naming file and key."""
    path = Path(path)
    table = _read(path)
    if path.name == "pyproject.toml":
        table = table.get("tool", {}).get("ivr-test", {})
    where = _display(path)
    unknown = [key for key in table if key not in KEYS]
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (expected one of {', '.join(KEYS)})")
    values = {}
    for key, value in table.items():
        values[key.replace("-", "_")] = _checked(where, key, value, path.parent)
    return Project(path, values)


def _checked(where, key, value, folder):
    if key == "suites":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
            raise ConfigError(f"{where}: suites: expected a path or a list of paths")
        return [anchor(v, folder) for v in items]
    if key in PATH_KEYS:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: {key}: expected a string")
        return anchor(value, folder)
    expected = run_options.check(key.replace("-", "_"), value)
    if expected:
        raise ConfigError(f"{where}: {key}: {expected}, got {value!r}")
    return value


def _read(path):
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise ConfigError(f"{_display(path)}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_display(path)}: invalid TOML: {exc}") from None


def _display(path):
    """The file as a user would name it: relative to here when below here."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
