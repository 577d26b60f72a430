import json

import pytest

from app.errors import SuiteError
from app.suite import Action, load_suite, load_suites, parse_action


def write(tmp_path, data, name="sales.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def error_for(tmp_path, data):
    path = write(tmp_path, data)
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    return str(info.value).replace(str(path), "FILE")


def test_original_format_loads():
    suite = load_suite("testSuite/testSalesCall.json")
    assert suite.name == "testSalesCall"
    assert [s.then for s in suite.steps] == [Action("press", "1"), Action("say", "alan turing")]
    assert suite.steps[0].timeout == 3 and suite.steps[0].match == "fuzzy"


def test_object_form_and_defaults(tmp_path):
    path = write(tmp_path, {"name": "Sales", "description": "d", "target": "twiml:http://x/voice",
                            "steps": [{"expect": "hello", "then": "press=12w#"}, {"expect": ["a"]}]})
    suite = load_suite(path)
    assert (suite.name, suite.target) == ("Sales", "twiml:http://x/voice")
    assert suite.steps[0].expect == ("hello",) and suite.steps[0].then == Action("press", "12w#")
    assert suite.steps[1].then == Action("none") and suite.steps[1].timeout == 5


@pytest.mark.parametrize("raw, expected", [
    (None, Action("none")), ("hangup", Action("hangup")), ("press=*9#", Action("press", "*9#")),
    ("say=alan turing", Action("say", "alan turing")), ("presss=1", None), ("press=", None),
    ("press=12a", None), ("say=  ", None), (3, None),
])
def test_parse_action(raw, expected):
    assert parse_action(raw) == expected


@pytest.mark.parametrize("data, message", [
    ([{"expect": ["x"], "then": "presss=1"}],
     'FILE: step 1: "then": unknown action "presss=1" (expected null, press=DIGITS, say=TEXT or hangup)'),
    ([{"expect": ["x"]}, {"expct": ["x"]}], 'FILE: step 2: unknown key "expct" (did you mean "expect"?)'),
    ([{"expect": ["x"], "timeout": 0}], 'FILE: step 1: "timeout": expected a number greater than 0'),
    ([{"expect": ["x"], "timeout": "3"}], 'FILE: step 1: "timeout": expected a number greater than 0'),
    ([{"expect": ["x"], "timeout": 61}], 'at most 60'),
    ([{"expect": []}], 'FILE: step 1: "expect": expected a non-empty list of phrases'),
    ([{"then": "press=1"}], 'FILE: step 1: "expect": expected a non-empty list'),
    ([{"expect": [3]}], '"expect": expected a non-empty list'),
    ([{"expect": ["x"], "match": "fuzy"}], 'FILE: step 1: "match": unknown mode "fuzy"'),
    ([{"expect": ["x"], "threshold": 1.5}], 'FILE: step 1: "threshold": expected a number from 0 to 1, got 1.5'),
    ([{"expect": ["(("], "match": "regex"}], 'FILE: step 1: "expect": invalid regular expression'),
    (["hello"], "FILE: step 1: expected an object"),
    ([], "FILE: the suite has no steps"),
    ({"stepz": []}, 'FILE: unknown key "stepz" (did you mean "steps"?)'),
    ({"name": "x"}, 'FILE: missing "steps"'),
    ({"name": 3, "steps": [{"expect": "x"}]}, 'FILE: "name": expected a string'),
    ("\"hello\"", "FILE: expected a list of steps"),
])
def test_errors_name_file_step_and_field(tmp_path, data, message):
    assert message in error_for(tmp_path, data)


def test_invalid_json_names_line_and_column(tmp_path):
    message = error_for(tmp_path, '[\n  {"expect": ["x"],}\n]')
    assert message.startswith("FILE: line 2, column 20: invalid JSON")


def test_unreadable_file(tmp_path):
    with pytest.raises(SuiteError, match="cannot read file"):
        load_suite(tmp_path / "missing.json")


def test_any_match_needs_no_expect(tmp_path):
    suite = load_suite(write(tmp_path, [{"match": "any", "then": "press=1"}]))
    assert suite.steps[0].expect == ()


def test_one_broken_file_does_not_stop_the_others(tmp_path):
    write(tmp_path, [{"expect": ["a"]}], "a.json")
    write(tmp_path, "{broken", "b.json")
    write(tmp_path, [{"expect": ["c"]}], "c.json")
    suites, errors = load_suites([tmp_path])
    assert [s.name for s in suites] == ["a", "c"]
    assert len(errors) == 1 and "b.json" in str(errors[0])
