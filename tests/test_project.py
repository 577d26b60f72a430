"""The project file and the precedence of settings: command line > suite > project file >
environment > defaults, with relative paths resolved against the file that names them."""
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.errors import ConfigError
from app.project import find_project_file, load_project, read_project

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "testSuite" / "supportTransfer.json"     # passes only during opening hours


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with the sample flow and bot under "flows/", a suites folder, and a
    subfolder to run from; no IVR_* settings from the calling environment."""
    for key in ("IVR_TARGET", "IVR_HOURS", "IVR_SEED", "IVR_NOISE", "RESULTS_DB", "IVR_SUITES"):
        monkeypatch.delenv(key, raising=False)
    shutil.copytree(ROOT / "aws-connect-contact-flows", tmp_path / "flows" / "main")
    shutil.copytree(ROOT / "aws-lex-bot", tmp_path / "flows" / "bot")
    (tmp_path / "suites").mkdir()
    shutil.copy(SUPPORT, tmp_path / "suites" / "support.json")
    (tmp_path / "deep" / "sub").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "deep" / "sub")
    return tmp_path


def write_project(folder, text):
    (folder / "ivr-test.toml").write_text(text)


def run(*args, env=None):
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def statuses(db):
    return sorted(run["status"] for run in json.loads(Path(db).read_text())["_default"].values())


BASE = 'suites = "suites"\ntarget = "flows/main"\nlex-bot = "flows/bot"\nresults = "out/db.json"\n'


def test_found_walking_up_with_paths_relative_to_it(project):
    write_project(project, BASE)
    assert find_project_file() == project / "ivr-test.toml"
    code, out = run("-q")
    assert code == 0, out
    assert "support: press 2 is transferred" in out
    assert statuses(project / "out" / "db.json") == ["complete"]
    stored = json.loads((project / "out" / "db.json").read_text())["_default"]
    assert [doc["file"] for doc in stored.values()] == ["suites/support.json"], "named from the project folder"


def test_pyproject_tool_table_counts_only_when_present(project, tmp_path):
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_project_file() is None
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.ivr-test]\nhours = "closed"\n')
    assert load_project().get("hours") == "closed"


@pytest.mark.parametrize("env, project_hours, suite_hours, cli_hours, expected", [
    ({}, None, None, None, "complete"),                              # default: open
    ({"IVR_HOURS": "closed"}, None, None, None, "failed"),           # environment over default
    ({"IVR_HOURS": "closed"}, "open", None, None, "complete"),       # project over environment
    ({}, "closed", "open", None, "complete"),                        # suite over project
    ({}, "open", None, "closed", "failed"),                          # command line over project
    ({}, "open", "open", "closed", "complete"),                      # a suite's own hours describe
                                                                     # its call: over the command line
])
def test_precedence(project, env, project_hours, suite_hours, cli_hours, expected):
    write_project(project, BASE + (f'hours = "{project_hours}"\n' if project_hours else ""))
    suite = json.loads(SUPPORT.read_text())
    if suite_hours:
        suite["hours"] = suite_hours
    (project / "suites" / "support.json").write_text(json.dumps(suite))
    code, out = run("-q", *(["--hours", cli_hours] if cli_hours else []), env=env)
    assert statuses(project / "out" / "db.json") == [expected], out
    assert code == (0 if expected == "complete" else 1)


def test_a_suite_target_is_relative_to_the_suite(project):
    write_project(project, 'suites = "suites"\nresults = "out/db.json"\n')
    suite = json.loads(SUPPORT.read_text())
    suite["target"] = "../flows/main"
    (project / "suites" / "support.json").write_text(json.dumps(suite))
    code, out = run("-q", "--lex-bot", str(project / "flows" / "bot"))
    assert code == 0, out
    doc = next(iter(json.loads((project / "out" / "db.json").read_text())["_default"].values()))
    assert Path(doc["target"].split(" (")[0]).resolve() == (project / "flows" / "main").resolve()


def test_lambda_responses_from_the_project_file(project):
    (project / "lambdas.json").write_text('{"x": {"ok": "1"}}')
    write_project(project, BASE + 'lambda-responses = "lambdas.json"\n')
    code, out = run("-q")
    assert code == 0, out
    (project / "lambdas.json").write_text('["not an object"]')
    code, out = run("-q")
    assert code == 2 and out.strip() == (f"error: {project / 'lambdas.json'}: expected an object mapping "
                                         "a function name or ARN to its response")


@pytest.mark.parametrize("text, message", [
    ('hours = "later"\n', "ivr-test.toml: hours: expected \"open\" or \"closed\", got 'later'"),
    ("seed = 1.5\n", "ivr-test.toml: seed: expected a whole number, got 1.5"),
    ("concurrency = 0\n", "ivr-test.toml: concurrency: expected a whole number, 1 or more, got 0"),
    ('sutes = "x"\n', "ivr-test.toml: unknown key 'sutes'"),
    ("suites = [\n", "ivr-test.toml: invalid TOML"),
])
def test_a_broken_project_file_is_one_line_and_exit_2(project, text, message):
    write_project(project, text)
    where = str(project / "ivr-test.toml")           # above the current folder: named in full
    with pytest.raises(ConfigError) as info:
        read_project(project / "ivr-test.toml")
    assert str(info.value).startswith(message.replace("ivr-test.toml", where, 1))
    code, out = run("-q")
    assert code == 2 and out == f"error: {info.value}\n"


def test_dotenv_beside_the_project_file_with_paths_relative_to_it(project, monkeypatch):
    write_project(project, 'suites = "suites"\n')
    (project / ".env").write_text("RESULTS_DB=from-dotenv/db.json\nIVR_TARGET=flows/main\nIVR_LEX_BOT=flows/bot\n")
    for key in ("RESULTS_DB", "IVR_TARGET", "IVR_LEX_BOT"):
        monkeypatch.delenv(key, raising=False)
    code, out = run("-q")
    for key in ("RESULTS_DB", "IVR_TARGET", "IVR_LEX_BOT"):     # load_dotenv set them; not to be restored
        os.environ.pop(key, None)
    assert code == 0, out
    assert statuses(project / "from-dotenv" / "db.json") == ["complete"]


def test_noise_and_seed_per_suite(project):
    write_project(project, BASE + "seed = 5\n")
    suite = json.loads(SUPPORT.read_text())
    (project / "suites" / "noisy.json").write_text(json.dumps(suite))
    suite["noise"] = "off"
    suite["seed"] = 9
    (project / "suites" / "support.json").write_text(json.dumps(suite))
    code, out = run("-q")
    assert code == 0, out
    docs = {d["file"]: d for d in json.loads((project / "out" / "db.json").read_text())["_default"].values()}
    quiet, noisy = docs["suites/support.json"], docs["suites/noisy.json"]
    assert (quiet["noise"], quiet["seed"], noisy["noise"], noisy["seed"]) == ("off", 9, "realistic", 5)
    greeting = suite["steps"][0]["expect"][0]
    assert quiet["results"][0]["actualResult"] == greeting                 # heard as said
    assert noisy["results"][0]["actualResult"] != greeting                 # lower-cased, no punctuation
