"""The dashboard cannot hurt the calls: off on a server facing the internet unless enabled with
a password, a few requests at a time (503 beyond, the webhooks keep their threads), and pages
that cost O(page). Stored documents of any shape render or are skipped: never a 500."""
import base64
import json
import random

import pytest

from app import create_app
from app.dashboard import DASHBOARD_SLOTS, render_static_report
from app.errors import ConfigError
from app.store import ResultStore

PUBLIC = {"TESTING": True, "TWILIO_AUTH_TOKEN": "t0ken", "PUBLIC_URL": "https://ivr.example.com"}


def basic(password, user="anyone"):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_off_on_a_server_facing_the_internet_unless_enabled_with_a_password(store):
    app = create_app({**PUBLIC, "STORE": store})
    assert "dashboard" not in app.blueprints
    assert app.test_client().get("/").status_code == 404
    with pytest.raises(ConfigError, match="needs DASHBOARD_PASSWORD"):
        create_app({**PUBLIC, "STORE": store, "DASHBOARD": True})
    local = create_app({"TESTING": True, "STORE": store})              # no public URL: on
    assert local.test_client().get("/").status_code == 200
    assert "dashboard" not in create_app({"TESTING": True, "STORE": store, "DASHBOARD": False}).blueprints


def test_a_password_is_asked_for_and_checked(store):
    app = create_app({**PUBLIC, "STORE": store, "DASHBOARD": True, "DASHBOARD_PASSWORD": "s3cret"})
    client = app.test_client()
    refused = client.get("/")
    assert refused.status_code == 401 and "Basic" in refused.headers["WWW-Authenticate"]
    assert client.get("/", headers=basic("wrong")).status_code == 401
    assert client.get("/", headers=basic("s3cret")).status_code == 200
    assert client.get("/health").status_code == 200                    # not the dashboard's


def test_beyond_its_slots_the_dashboard_answers_503_and_webhooks_still_answer(store):
    app = create_app({"TESTING": True, "STORE": store})
    slots = app.extensions["dashboard_slots"]
    for _ in range(DASHBOARD_SLOTS):
        assert slots.acquire(blocking=False)          # as many slow dashboard pages in flight
    client = app.test_client()
    busy = client.get("/")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert client.get("/health").status_code == 200
    assert client.post("/voice", data={"CallSid": "CA" + "1" * 32}).status_code == 200
    for _ in range(DASHBOARD_SLOTS):
        slots.release()
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 200        # slots are given back after each request


def test_pages_follow_one_another_and_read_only_the_page(tmp_path, monkeypatch):
    path = tmp_path / "db.json"
    writer = ResultStore(path)
    for i in range(120):
        writer.save({"unique_id": f"r{i:03d}", "status": "complete" if i % 3 else "failed",
                     "startTimestamp": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}", "suite": "s"})
    writer.close()
    store = ResultStore(path, readonly=True)
    client = create_app({"TESTING": True, "STORE": store}).test_client()
    read = []
    original = store.file.read
    monkeypatch.setattr(store.file, "read", lambda record: read.append(record) or original(record))
    seen, url = [], "/?limit=50"
    while url:
        body = client.get(url).get_data(as_text=True)
        import re
        seen += re.findall(r'<a href="/runs/(r\d+)">', body)
        older = re.search(r'<a href="([^"]+)">Older runs</a>', body)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == [f"r{i:03d}" for i in reversed(range(120))]
    # the list reads the index; a document only for a failed run on a page (for its reason)
    failed_ids = {f"r{i:03d}" for i in range(120) if i % 3 == 0}
    assert sorted(record["s"]["unique_id"] for record in read) == sorted(failed_ids)
    failed = client.get("/?status=failed&limit=10").get_data(as_text=True)
    assert len(re.findall(r'<a href="/runs/(r\d+)">', failed)) == 10
    store.close()


def odd_value(rng, depth=0):
    choices = [None, True, 0, -1, 1.5, "", "text", "<b>x</b>", [], {}, ["a", 1], {"k": None}]
    if depth < 3:
        choices += [[odd_value(rng, depth + 1) for _ in range(rng.randint(0, 3))],
                    {rng.choice(["t", "party", "kind", "text", "step", "status", "expected"]):
                     odd_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}]
    return rng.choice(choices)


KEYS = ["status", "startTimestamp", "endTimeStamp", "suite", "file", "target", "results", "steps",
        "transcript", "coverage", "passedSteps", "totalSteps", "ivrOutcome", "endReason",
        "twilioErrors", "callSid", "mode", "seed", "noise", "virtualSeconds", "currentStep"]


def test_stored_documents_of_any_shape_render_or_are_skipped(store):
    """Fuzz: 300 documents with every known key given random types render as pages (200),
    the list renders, `report --html` renders; none makes a 500 or a traceback."""
    rng = random.Random(12)
    app = create_app({"TESTING": True, "STORE": store})
    client = app.test_client()
    docs = []
    for i in range(300):
        doc = {key: odd_value(rng) for key in KEYS if rng.random() < 0.6}
        doc["unique_id"] = f"odd{i}"
        store.save(doc)
        docs.append(doc)
    for doc in docs:
        response = client.get(f"/runs/{doc['unique_id']}")
        assert response.status_code in (200, 422), (doc, response.data[:300])
    assert client.get("/?limit=500").status_code == 200
    for status in ("complete", "failed"):
        assert client.get(f"/?status={status}").status_code == 200
    html = render_static_report(store.runs())
    assert html.startswith("<!doctype html>")


def test_results_and_report_commands_survive_odd_documents(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    rng = random.Random(5)
    db = tmp_path / "db.json"
    table = {str(i + 1): {**{key: odd_value(rng) for key in KEYS if rng.random() < 0.6},
                          "unique_id": f"odd{i}"} for i in range(60)}
    db.write_text(json.dumps({"_default": table}))
    for command in (["results", "--last", "60"], ["results", "--json"],
                    ["report", "--html", str(tmp_path / "r.html"), "--last", "60"]):
        done = subprocess.run([sys.executable, "main.py", *command, "--db", str(db)], cwd=root,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
