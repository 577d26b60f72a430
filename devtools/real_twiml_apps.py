"""Play Twilio's public sample IVRs (Flask) with the suites in tests/fixtures/real/twiml/, and
check each verdict against the one real Twilio gives.

The apps are not part of this repository: check them out yourself (MIT licensed, TwilioDevEd):

    git clone https://github.com/TwilioDevEd/ivr-phone-tree-python     APPS/ivr-phone-tree-python
    git clone https://github.com/TwilioDevEd/automated-survey-flask    APPS/automated-survey-flask
    git clone https://github.com/TwilioDevEd/call-forwarding-flask     APPS/call-forwarding-flask
    pip install flask-sqlalchemy
    python -m devtools.real_twiml_apps APPS

Each app is copied to a temporary folder and run unmodified, on 127.0.0.1, behind a real HTTP
server, with its database in sqlite seeded the way its `manage.py dbseed` seeds it (the call
forwarding app's zip code CSV is replaced by a few rows made here). One variant is not
unmodified, and says so: `py3-fixed` ports the phone tree's single Python 2 line
(`dict.has_key`). Exit status 0 when every verdict is the expected one.
"""
import json
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests/fixtures/real/twiml"
ZIP_ROWS = [("Zipcode", "ZipCodeType", "City", "State"), ("94103", "STANDARD", "SAN FRANCISCO", "CA"),
            ("10001", "STANDARD", "NEW YORK", "NY"), ("60601", "STANDARD", "CHICAGO", "IL")]
PY3_PORT = ("option_actions.has_key(selected_option)", "selected_option in option_actions")


def phone_tree(copy, variant):
    if variant == "py3-fixed":
        views = copy / "ivr_phone_tree_python/views.py"
        views.write_text(views.read_text(encoding="utf-8-sig").replace(*PY3_PORT))
    from ivr_phone_tree_python import app
    return app, "/ivr/welcome"


def survey(copy, variant):
    from automated_survey_flask import db, parsers, prepare_app
    app = prepare_app("development")
    with app.app_context():
        db.create_all()
        db.session.add(parsers.survey_from_json((copy / "survey.json").read_text()))
        db.session.commit()
    return app, "/voice"


def call_forwarding(copy, variant):
    from call_forward_flask import app, db, parsers
    with app.app_context():
        db.create_all()
        parsers.data_from_json((copy / "senators.json").read_text())
        parsers.zips_from_csv(list(enumerate(ZIP_ROWS)))
    return app, "/callcongress/welcome"


APPS = {"ivr-phone-tree-python": (phone_tree, "ivr_phone_tree_python"),
        "automated-survey-flask": (survey, "automated_survey_flask"),
        "call-forwarding-flask": (call_forwarding, "call_forward_flask")}


def verdict(doc):
    return "setup-error" if doc.get("setupError") else doc["status"]


def play(name, source, variant, method, expected):
    """Run one app's suites in one variant; returns [(suite, verdict, expected, doc)]."""
    from app.runner import Job, OfflineRunner
    from app.store import ResultStore
    from app.suite import load_suites
    from app.targets import parse_target

    setup, package = APPS[name]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / name
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".git", "*.sqlite"))
        sys.path.insert(0, str(copy))
        try:
            app, path = setup(copy, variant)
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            prefix = "GET:" if method == "GET" else ""
            target = parse_target(f"twiml:{prefix}http://127.0.0.1:{server.server_port}{path}")
            suites, errors = load_suites([FIXTURES / name / "suites"])
            assert not errors, errors
            store = ResultStore(Path(tmp) / "db.json")
            try:
                docs = OfflineRunner(store).run([Job(s, target) for s in suites]).documents
            finally:
                store.close()
                server.shutdown()
        finally:
            sys.path.remove(str(copy))
            for module in [m for m in sys.modules if m.split(".")[0] == package]:
                del sys.modules[module]
    return [(Path(d["file"]).stem, verdict(d), expected[Path(d["file"]).stem], d) for d in docs]


def variants(name):
    expected = json.loads((FIXTURES / name / "expected.json").read_text())
    for key, wanted in expected.items():
        if key == "why":
            continue
        method = key if key in ("GET", "POST") else "POST"
        yield key, method, wanted


def main(apps_dir):
    rows = []
    for name in APPS:
        source = Path(apps_dir) / name
        for variant, method, wanted in variants(name):
            for suite, got, want, doc in play(name, source, variant, method, wanted):
                rows.append((name, variant, suite, got, want, doc))
    for name, variant, suite, got, want, doc in rows:
        mark = "ok " if got == want else "BAD"
        why = (doc.get("appError") or {}).get("summary") or doc.get("endReason") or ""
        print(f"{mark} {name:24} {variant:10} {suite:18} {got:12} (expected {want})  {why}")
    bad = sum(got != want for *_, got, want, _ in rows)
    print(f"{len(rows) - bad} of {len(rows)} verdicts as real Twilio gives them")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "real-apps"))
