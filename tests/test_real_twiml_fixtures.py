"""The suites written for public Twilio sample apps load, and each has its expected verdict in
every variant (devtools/real_twiml_apps.py plays them against the apps themselves)."""
import json
from pathlib import Path

import pytest

from app.suite import load_suites
from devtools.real_twiml_apps import APPS, FIXTURES, verdict

VERDICTS = {"complete", "failed", "setup-error"}


@pytest.mark.parametrize("name", sorted(APPS))
def test_each_app_has_valid_suites_with_an_expected_verdict_per_variant(name):
    suites, errors = load_suites([FIXTURES / name / "suites"])
    assert errors == [] and len(suites) >= 2
    expected = json.loads((FIXTURES / name / "expected.json").read_text())
    assert expected.pop("why")
    stems = {Path(suite.path).stem for suite in suites}
    for variant, wanted in expected.items():
        assert set(wanted) == stems, variant
        assert set(wanted.values()) <= VERDICTS


def test_a_run_that_never_reached_its_target_is_a_setup_error_verdict():
    assert verdict({"status": "failed", "setupError": "refused"}) == "setup-error"
    assert verdict({"status": "complete"}) == "complete"
