"""The published JSON Schema for suites: the same as `python main.py schema`, and it agrees
with app/suite.py's validator on real suites and on broken ones."""
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from app.cli import cli
from app.errors import SuiteError
from app.schema import suite_schema
from app.suite import parse_suite

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "schema" / "suite.schema.json"
SUITES = sorted(ROOT.glob("testSuite/*.json")) + sorted(ROOT.glob("examples/**/suites/*.json")) + \
    sorted(ROOT.glob("examples/failing/*.json"))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(PUBLISHED.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_published_schema_is_what_the_command_prints():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(PUBLISHED.read_text()) == suite_schema()


@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.name)
def test_every_shipped_suite_is_valid(validator, path):
    data = json.loads(path.read_text())
    assert list(validator.iter_errors(data)) == []
    parse_suite(data, path.name)


BROKEN = [
    [],
    [{"expct": ["x"]}],
    [{"expect": []}],
    [{"expect": ["x"], "then": "presss=1"}],
    [{"expect": ["x"], "then": "say=   "}],
    [{"expect": ["x"], "timeout": 0}],
    [{"expect": ["x"], "timeout": 61}],
    [{"expect": ["x"], "match": "fuzy"}],
    [{"expect": ["x"], "threshold": 1.5}],
    [{"then": "press=1"}],
    {"name": "no steps"},
    {"steps": [{"expect": "x"}], "hours": "later"},
    {"steps": [{"expect": "x"}], "seed": "1"},
    {"steps": [{"expect": "x"}], "noise": "loud"},
    {"steps": [{"expect": "x"}], "stepz": []},
    "hello",
]
GOOD = [
    [{"expect": "x"}],
    [{"match": "any", "then": "hangup"}],
    [{"expect": ["a", "b"], "then": "press=12w#", "timeout": 60, "match": "contains", "threshold": 0}],
    {"$schema": "../schema/suite.schema.json", "name": "n", "description": "d", "target": "twiml:http://x/v",
     "hours": "closed", "noise": "off", "seed": 7, "lambdaResponses": {"fn": {"a": "1"}},
     "steps": [{"expect": "x", "then": "say=hello there"}]},
]


@pytest.mark.parametrize("data", BROKEN, ids=lambda d: json.dumps(d)[:40])
def test_what_the_validator_refuses_the_schema_refuses(validator, data):
    with pytest.raises(SuiteError):
        parse_suite(data, "x.json")
    assert list(validator.iter_errors(data)), "the schema must refuse it too"


@pytest.mark.parametrize("data", GOOD, ids=lambda d: json.dumps(d)[:40])
def test_what_the_validator_accepts_the_schema_accepts(validator, data):
    parse_suite(data, "x.json")
    assert list(validator.iter_errors(data)) == []
