"""Installed as a user installs it: a fresh virtual environment, `pip install .`, then
`ivr-test` and `pytest` in a project folder that holds only `ivr-test.toml`, suites and a flow
(in folders whose names have spaces), plus an `app/` package of its own.

The venv sees the system's site-packages (the dependencies are installed there, so nothing is
downloaded) and installs with `--no-deps --no-build-isolation` (setuptools and wheel from the
system, see requirements-dev.txt). The project is built from a copy of this checkout, so the
build leaves nothing here.
"""
import os
import shutil
import subprocess
import tomllib
import venv
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "testSuite").glob("*.json"))
COPY_IGNORE = shutil.ignore_patterns(".git", "__pycache__", "results", "build", "*.egg-info", ".venv", "bench",
                                     "tests")
PROJECT_FILE = """\
# ivr-test project file: paths are relative to this file
suites = "ivr suites"
target = "call flows/SalesIVR.json"
lex-bot = "call flows/bot"
seed = 3
results = "out/db.json"
"""
THEIR_TEST = """\
import app


def test_their_own_app_package_is_imported():
    assert app.WHOSE == "theirs"
"""


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "RESULTS_DB", "VIRTUAL_ENV") and not k.startswith("IVR_")}
    env.update(extra)
    return env


def sh(args, cwd, env=None, timeout=120):
    done = subprocess.run(args, cwd=cwd, env=env or clean_env(), capture_output=True, text=True, timeout=timeout)
    return SimpleNamespace(code=done.returncode, out=done.stdout + done.stderr)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv with this project installed from a copy of the checkout; its bin folder."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=COPY_IGNORE)
    env_dir = base / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    bin_dir = env_dir / "bin"
    # The system's pip, run as the venv's interpreter, installs into the venv (no ensurepip).
    done = sh([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
               "--no-index", str(source)], cwd=base, timeout=240)
    assert done.code == 0, done.out
    return bin_dir


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder: ivr-test.toml, suites, the flow and bot, and its own app/ package."""
    folder = tmp_path_factory.mktemp("qa") / "my project"
    (folder / "ivr suites").mkdir(parents=True)
    for sample in SAMPLES:
        shutil.copy(sample, folder / "ivr suites" / sample.name)
    (folder / "call flows").mkdir()
    shutil.copy(ROOT / "aws-connect-contact-flows" / "SalesIVR.json", folder / "call flows" / "SalesIVR.json")
    shutil.copytree(ROOT / "aws-lex-bot", folder / "call flows" / "bot")
    (folder / "ivr-test.toml").write_text(PROJECT_FILE)
    (folder / "app").mkdir()
    (folder / "app" / "__init__.py").write_text('WHOSE = "theirs"\n')
    (folder / "conftest.py").write_text("import app  # the project's own package, imported early\n")
    (folder / "tests").mkdir()
    (folder / "tests" / "test_theirs.py").write_text(THEIR_TEST)
    (folder / "pytest.ini").write_text("[pytest]\ntestpaths = tests \"ivr suites\"\n")
    (folder / "sub folder").mkdir()
    return folder


def test_ivr_test_runs_the_project_from_a_subfolder(installed, project):
    version = sh([str(installed / "ivr-test"), "--version"], cwd=project)
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert version.code == 0 and version.out.strip() == f"ivr-test {expected}"

    done = sh([str(installed / "ivr-test"), "-q", "--junit", "junit.xml"], cwd=project / "sub folder")
    assert done.code == 0, done.out
    assert f"suites: {len(SAMPLES)} passed, 0 failed" in done.out
    assert (project / "out" / "db.json").exists(), "results path relative to the project file"
    names = [case.get("name") for case in ET.parse(project / "sub folder" / "junit.xml").iter("testcase")]
    assert f"ivr suites/{SAMPLES[0].name}::step 1" in names, "suites named from the project's folder"
    assert str(project / "call flows" / "SalesIVR.json") in done.out or "call flows/SalesIVR.json" in done.out

    empty = project.parent / "empty"
    empty.mkdir(exist_ok=True)
    bundled = sh([str(installed / "ivr-test"), "-q"], cwd=empty)
    assert bundled.code == 0, bundled.out
    assert "running the bundled sample suites" in bundled.out and f"suites: {len(SAMPLES)} passed" in bundled.out
    assert (empty / "results" / "db.json").exists()

    typo = sh([str(installed / "ivr-test"), "run", "--concurrency", "0"], cwd=project)
    assert typo.code == 2 and typo.out.count("\n") == 1 and "Traceback" not in typo.out


def test_pytest_collects_the_suites_through_the_entry_point_beside_their_own_app(installed, project):
    done = sh([str(installed / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert done.code == 0, done.out
    assert f"{len(SAMPLES) + 1} passed" in done.out, "every suite and the project's own test"
    assert "simulated " in done.out


def test_pytest_options_with_a_path_holding_a_space_and_a_failing_hours_setting(installed, project):
    flow = project / "call flows" / "SalesIVR.json"
    support = next(s for s in SAMPLES if "support" in s.read_text().lower())
    # As typed in a shell, quotes and all.
    command = (f'"{installed / "python"}" -m pytest -q -p no:cacheprovider "ivr suites/{support.name}" '
               f'--ivr-target "{flow}" --ivr-hours closed')
    done = sh(["bash", "-c", command], cwd=project)
    assert done.code == 1, done.out
    assert "1 failed" in done.out and "support" in done.out


def test_pyproject_dependencies_match_requirements_txt():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    required = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert sorted(declared, key=str.lower) == sorted(required, key=str.lower)
