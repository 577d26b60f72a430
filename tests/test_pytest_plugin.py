"""JSON suites as pytest items, through `-p app.pytest_plugin`, each run in a pytest subprocess.

pytester cannot be enabled from a non-root conftest, and a subprocess is what a user runs
anyway. Suites are copied into a temporary folder, the subprocess's working directory, at the
same relative paths as here, so their paths (which seed the offline noise) and hence
their transcripts match `python main.py run`'s; the sample flow and bot are passed with
`--ivr-target` and `--ivr-lex-bot`.
"""
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAILING = ROOT / "examples" / "failing"
SAMPLES = sorted((ROOT / "testSuite").glob("*.json"))
TARGET = ["--ivr-target", str(ROOT / "aws-connect-contact-flows"), "--ivr-lex-bot", str(ROOT / "aws-lex-bot")]


def pytest_run(cwd, *args):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTEST_ADDOPTS", "RESULTS_DB") and not k.startswith("IVR_")}
    env["PYTHONPATH"] = str(ROOT)
    quiet_plugins = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark"]
    done = subprocess.run([sys.executable, "-m", "pytest", *quiet_plugins, "-p", "app.pytest_plugin", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def copy_suites(tmp_path, *files):
    """Copy suites to the same paths under `tmp_path`, beside an empty pytest.ini (the rootdir)."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    for file in files:
        (tmp_path / file.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(file, tmp_path / file.relative_to(ROOT))
    return tmp_path / "testSuite"


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """One pytest run over the samples, two failing suites and two broken files, with JUnit."""
    tmp_path = tmp_path_factory.mktemp("mixed")
    folder = copy_suites(tmp_path, *SAMPLES, FAILING / "wrong_greeting.json", FAILING / "wrong_branch.json")
    (folder / "typo.json").write_text('[{"expct": ["hi"], "then": null}]')
    (folder / "broken.json").write_text('[{"expect": ["hi"],')
    code, out = pytest_run(tmp_path, "testSuite", "examples", "-v", "--ivr-db", "db.json",
                           "--junitxml", "junit.xml", *TARGET)
    return SimpleNamespace(path=tmp_path, code=code, out=out)


def test_sample_suites_pass_one_item_per_file_named_after_it(mixed_run):
    for sample in SAMPLES:
        assert f"testSuite/{sample.name}::{sample.stem} PASSED" in mixed_run.out
    assert mixed_run.code == 1 and f"4 failed, {len(SAMPLES)} passed" in mixed_run.out
    assert (mixed_run.path / "db.json").exists() and "coverage:" in mixed_run.out
    assert mixed_run.out.count("simulated ") == 1, "one batch for every suite"


def test_a_failing_suite_shows_step_expected_heard_and_score_without_traceback(mixed_run):
    out = mixed_run.out
    assert "examples/failing/wrong_greeting.json::wrong_greeting FAILED" in out
    assert "step 1 failed (score 0.72, no-match, number: expected 9, heard 1)" in out
    assert 'expected "Welcome to the terrible phone center, press 9 for complaints."' in out
    assert "diff: [+hello] [+and] welcome to the [terrible→awesome] phone center press [9→1]" in out
    assert 'heard    "hello and welcome to the awesome phone' in out
    assert "IVR: Hello, and welcome" in out
    assert "Traceback" not in out and "pytest_plugin.py" not in out


def test_a_broken_suite_file_fails_its_item_with_the_message(mixed_run):
    out = mixed_run.out
    assert "testSuite/typo.json::typo FAILED" in out
    assert 'testSuite/typo.json: step 1: unknown key "expct" (did you mean "expect"?)' in out
    assert "testSuite/broken.json: line 1, column 20: invalid JSON" in out


def test_junitxml_has_a_testcase_per_file_and_the_failure_as_its_message(mixed_run):
    cases = {case.get("name"): case for case in ET.parse(mixed_run.path / "junit.xml").iter("testcase")}
    assert set(cases) == {s.stem for s in SAMPLES} | {"wrong_greeting", "wrong_branch", "typo", "broken"}
    assert cases["wrong_branch"].get("classname") == "examples.failing.wrong_branch.json"
    failure = cases["wrong_branch"].find("failure")
    assert failure.get("message") == ("step 2 failed (score 0.37, no-match, "
                                      "missing-word: missing: who, is, your, favorite and 1 more)")
    assert 'heard    "please hold while we connect you' in failure.text
    assert cases["typo"].find("failure").get("message").endswith('(did you mean "expect"?)')
    assert all(cases[s.stem].find("failure") is None for s in SAMPLES)


def test_only_suites_the_user_points_at_are_collected(tmp_path):
    folder = copy_suites(tmp_path, SAMPLES[0])
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_nothing.py").write_text("def test_ok():\n    pass\n")
    (tmp_path / "tests" / "fixture.json").write_text('[{"expect": "a fixture, not a suite"}]')
    (folder / "flow.json").write_text('{"Version": "2019-10-30", "Actions": []}')
    _, out = pytest_run(tmp_path, "--collect-only", "-q")
    assert "tests/test_nothing.py::test_ok" in out and ".json" not in out, "testpaths: only tests/"
    _, out = pytest_run(tmp_path, "testSuite", "--collect-only", "-q")
    assert f"testSuite/{SAMPLES[0].name}::{SAMPLES[0].stem}" in out and "flow.json" not in out
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = tests testSuite\nivr_suites = testSuite\n")
    _, out = pytest_run(tmp_path, "--collect-only", "-q")
    assert f"testSuite/{SAMPLES[0].name}" in out and "fixture.json" not in out


def test_the_readme_command_runs_the_samples_with_the_default_flow(tmp_path):
    code, out = pytest_run(ROOT, "testSuite/", "-q", "--ivr-db", str(tmp_path / "db.json"))
    assert code == 0, out
    assert f"{len(SAMPLES)} passed" in out


def test_the_project_file_and_the_hours_option(tmp_path):
    """The plugin reads ivr-test.toml (hours closed fails the support suite) and
    --ivr-hours beats it; the suites folder comes from the project file."""
    support = ROOT / "testSuite" / "supportTransfer.json"
    copy_suites(tmp_path, support)
    (tmp_path / "ivr-test.toml").write_text(f'suites = "testSuite"\nhours = "closed"\ntarget = "{TARGET[1]}"\n'
                                            f'lex-bot = "{TARGET[3]}"\nresults = "db.json"\n')
    code, out = pytest_run(tmp_path, "-q")
    assert code == 1 and "1 failed" in out, out
    code, out = pytest_run(tmp_path, "-q", "--ivr-hours", "open")
    assert code == 0 and "1 passed" in out, out


def test_the_entry_point_module_lives_beside_a_projects_own_app_package(tmp_path):
    """A project with its own `app` package (first on sys.path, imported by its conftest):
    loaded through `ivr_test_pytest` (the pytest11 entry point), our plugin neither shadows
    theirs nor is shadowed by it. Loaded as `app.pytest_plugin`, theirs would hide ours.
    `--ivr-target PATH` (a separate argument, outside this folder, below another pytest.ini)
    must not make pytest read that other ini: the suites come from this one's `ivr_suites`."""
    copy_suites(tmp_path, SAMPLES[0])
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text('WHOSE = "theirs"\n')
    (tmp_path / "conftest.py").write_text("import app\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_theirs.py").write_text(
        "import app\nimport app as again\n\n\ndef test_theirs():\n    assert app.WHOSE == again.WHOSE == 'theirs'\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = tests testSuite\nivr_suites = testSuite\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS",) and not k.startswith("IVR_")}
    env["PYTHONPATH"] = str(ROOT)
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ivr-db", "db.json", *TARGET]
    done = subprocess.run([*args, "-p", "ivr_test_pytest"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout + done.stderr
    shadowed = subprocess.run([*args, "-p", "app.pytest_plugin"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)
    assert shadowed.returncode != 0 and "No module named 'app.pytest_plugin'" in shadowed.stdout + shadowed.stderr
