"""JUnit XML: valid against the schema pytest's junitxml targets, and saying what a CI reader needs."""
import copy
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from app.junit import junit_xml, write_junit
from app.runner import Job, OfflineRunner
from app.suite import load_suites
from app.targets import Target, resolve_target

ROOT = Path(__file__).resolve().parent.parent
XSD = Path(__file__).parent / "fixtures" / "junit-10.xsd"
GREETING = "Hello, and welcome to the awesome phone center, press 1 for sales."


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(XSD)


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(store, paths, target=None, **options):
    suites, errors = load_suites([str(p) for p in paths])
    assert not errors, errors
    jobs = [Job(s, target or resolve_target(None, s.target, None, None)) for s in suites]
    return OfflineRunner(store, **options).run(jobs).documents


def suite_file(tmp_path, name, steps):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"name": name, "steps": steps}), encoding="utf-8")
    return path


def parse(text, schema):
    """Validate against the schema, then parse: the `<testsuites>` root."""
    schema.validate(text)
    return ET.fromstring(text.encode("utf-8"))


def cases(suite):
    return suite.findall("testcase")


def test_samples_and_failures_validate_one_testsuite_per_suite_file(store, schema):
    docs = run(store, ["testSuite", "examples/failing"])
    root = parse(junit_xml(docs), schema)
    suites = root.findall("testsuite")
    assert sorted(s.get("file") for s in suites) == sorted(d["file"] for d in docs)
    for suite, doc in zip(suites, docs):
        assert len(cases(suite)) == doc["totalSteps"] == int(suite.get("tests"))
        assert suite.get("failures") == ("0" if doc["status"] == "complete" else "1")
    assert root.get("tests") == str(sum(d["totalSteps"] for d in docs))
    assert root.get("failures") == "2" and root.get("errors") == "0"


def test_a_failure_gives_expected_heard_and_score(store, schema):
    (doc,) = run(store, ["examples/failing/wrong_greeting.json"])
    root = parse(junit_xml([doc]), schema)
    (case,) = root.iter("testcase")
    failure = case.find("failure")
    result = doc["results"][0]
    assert failure.get("type") == "no-match"
    assert failure.get("message") == (f'no-match: expected "{result["expected"][0]}"; '
                                      f'heard "{result["actualResult"]}", score {result["score"]:.2f}; '
                                      f'number: expected 9, heard 1; diff: {result["diff"]}')
    assert result["rule"] == "number" and "press [9→1] for [complaints→sales]" in result["diff"]
    assert f"heard:    \"{result['actualResult']}\"" in failure.text
    assert case.get("name") == "examples/failing/wrong_greeting.json::step 1"
    assert case.get("classname") == "examples.failing.wrong_greeting"
    # Wall seconds (this run took milliseconds), the simulated call length is a property.
    suite = root.find("testsuite")
    assert 0 < float(suite.get("time")) < 5 < doc["virtualSeconds"]
    assert float(suite.get("time")) == pytest.approx(doc["wallSeconds"], abs=0.001)
    assert 0 < float(case.get("time")) <= float(suite.get("time"))
    simulated = {p.get("name"): p.get("value") for p in suite.iter("property")}["simulatedSeconds"]
    assert float(simulated) == pytest.approx(doc["virtualSeconds"])
    out = root.find("testsuite/system-out").text
    assert "IVR: " + GREETING in out


def test_a_timeout_is_a_failure_with_the_reason(store, schema, tmp_path):
    path = suite_file(tmp_path, "silence", [
        {"expect": [GREETING], "then": None, "timeout": 3},
        {"expect": ["press 1 for sales"], "then": "press=1", "timeout": 1},
    ])
    (doc,) = run(store, [path])
    assert doc["results"][1]["reason"] == "timeout"
    root = parse(junit_xml([doc]), schema)
    first, second = root.iter("testcase")
    assert first.find("failure") is None
    failure = second.find("failure")
    assert failure.get("type") == "timeout"
    assert failure.get("message") == 'timeout: expected "press 1 for sales"; heard nothing within 1 s'


def test_steps_after_a_failure_are_skipped(store, schema, tmp_path):
    path = suite_file(tmp_path, "stops early", [
        {"expect": ["a greeting that changed"], "then": "press=1", "timeout": 3},
        {"expect": ["who is your favorite programmer?"], "then": "say=alan turing", "timeout": 3},
        {"expect": ["goodbye"], "then": None, "timeout": 3},
    ])
    (doc,) = run(store, [path])
    root = parse(junit_xml([doc]), schema)
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "2")
    skipped = [case.find("skipped") for case in cases(suite)[1:]]
    assert all(s is not None and s.get("message") == "not reached: the run stopped at step 1 (no-match)"
               for s in skipped)


def test_a_run_that_could_not_start_is_an_error(store, schema, tmp_path):
    broken = tmp_path / "broken-flow.json"
    broken.write_text("{ not json", encoding="utf-8")
    (doc,) = run(store, ["testSuite/testSalesCall.json"], target=Target("flow", str(broken)))
    assert doc["status"] == "error" and not doc["results"]
    root = parse(junit_xml([doc]), schema)
    suite = root.find("testsuite")
    assert (suite.get("errors"), suite.get("failures"), suite.get("skipped")) == ("1", "0", "1")
    error = cases(suite)[0].find("error")
    assert error.get("type") == "error"
    assert error.get("message").startswith("the call could not start (error): ")
    assert "not valid JSON" in error.get("message")
    assert root.get("errors") == "1"


def test_a_call_that_never_connected_is_an_error(store, schema):
    (doc,) = run(store, ["testSuite/testSalesCall.json"])
    busy = copy.deepcopy(doc)
    busy.update(status="busy", endReason="busy", transcript=[], passedSteps=0,
                results=[dict(r, status="failed", reason="busy", actualResult=None, score=None,
                              listenStartedAt=None, action=None) for r in doc["results"]])
    refused = copy.deepcopy(busy)
    refused.update(status="failed", endReason="call refused: 21215 geo permission", results=[])
    root = parse(junit_xml([busy, refused]), schema)
    for suite, reason in zip(root.findall("testsuite"), ("busy", "call refused: 21215 geo permission")):
        error = cases(suite)[0].find("error")
        assert error is not None and reason in error.get("message")
        assert cases(suite)[1].find("skipped") is not None


def test_an_interrupted_run_is_an_error_where_it_stopped(store, schema):
    (doc,) = run(store, ["testSuite/salesFavoriteProgrammer.json"])
    doc.update(status="interrupted", endReason="server stopped during the run", results=doc["results"][:1])
    root = parse(junit_xml([doc]), schema)
    first, second, third = root.iter("testcase")
    assert first.find("*") is None
    assert "server stopped during the run" in second.find("error").get("message")
    assert third.find("skipped") is not None


def test_text_xml_cannot_carry_is_dropped(store, schema):
    (doc,) = run(store, ["examples/failing/wrong_greeting.json"])
    doc["results"][0]["actualResult"] = "bell\x07 and <tags> & \"quotes\""
    doc["suite"] = "name\x00with nul"
    doc["transcript"][0]["text"] = "form\x0cfeed"
    root = parse(junit_xml([doc]), schema)
    assert 'heard "bell\\u0007 and <tags> & \\"quotes\\""' in next(root.iter("failure")).get("message")
    assert root.find("testsuite").get("name") == "namewith nul"
    assert "IVR: formfeed" in root.find("testsuite/system-out").text


def test_write_junit_writes_a_file(store, schema, tmp_path):
    docs = run(store, ["testSuite/testSalesCall.json"])
    path = tmp_path / "reports" / "junit.xml"
    write_junit(docs, path)
    schema.validate(str(path))
    assert ET.parse(path).getroot().tag == "testsuites"


def test_the_schema_is_the_one_pytest_writes_to(schema, tmp_path):
    """Our copy of junit-10.xsd accepts what pytest itself writes with junit_family=xunit2."""
    tests = tmp_path / "test_sample.py"
    tests.write_text("import pytest\n"
                     "def test_ok(): pass\n"
                     "def test_fails(): assert 1 == 2\n"
                     "@pytest.mark.skip(reason='later')\n"
                     "def test_skipped(): pass\n"
                     "@pytest.fixture\n"
                     "def broken(): raise RuntimeError('setup')\n"
                     "def test_error(broken): pass\n", encoding="utf-8")
    report = tmp_path / "pytest.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests),
                    "-o", "junit_family=xunit2", f"--junitxml={report}"],
                   cwd=tmp_path, capture_output=True, check=False)
    schema.validate(str(report))
    root = ET.parse(report).getroot()
    assert {e.tag for e in root.iter()} >= {"testsuites", "testsuite", "testcase", "failure", "skipped", "error"}


def test_names_stay_when_a_prompt_is_edited(store, schema, tmp_path):
    """Two runs of a suite whose prompts were edited in between keep every testcase's name."""
    steps = [{"expect": [GREETING], "then": "press=1", "timeout": 3},
             {"expect": ["Who is your favorite programmer?"], "then": "say=alan turing", "timeout": 3}]
    path = suite_file(tmp_path, "edited", steps)
    before = parse(junit_xml(run(store, [path])), schema)
    steps[0]["expect"] = ["Hello and welcome, press one for sales."]
    steps[1]["expect"] = ["Tell me your favourite programmer."]
    path.write_text(json.dumps({"name": "edited", "steps": steps}), encoding="utf-8")
    after = parse(junit_xml(run(store, [path])), schema)
    names = lambda root: [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]  # noqa: E731
    assert names(before) == names(after) == [(names(before)[0][0], f"{path}::step {n}") for n in (1, 2)]
    assert after.find("testsuite").get("failures") == "1", "the edit is really a different prompt"
