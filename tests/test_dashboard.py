"""The dashboard: the runs list, its filters, one run's page, escaping, 404, and no third party."""
import copy
import html
import re
from pathlib import Path

import pytest
from markupsafe import escape

from app import create_app
from app.dashboard import register, render_static_report, write_html_report
from app.runner import Job, OfflineRunner
from app.suite import load_suites
from app.targets import resolve_target

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ["testSuite"]
FAILING = ["examples/failing"]
PAYLOAD = "<script>alert(1)</script>"
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def run_suites(store, paths, noise="off", invocation=None):
    """Run suite files offline against their targets (the sample flow by default); the docs."""
    suites, errors = load_suites([str(p) for p in paths])
    assert not errors, errors
    extra = {"invocation": invocation} if invocation else {}
    jobs = [Job(suite, resolve_target(None, suite.target, None, None), extra=extra) for suite in suites]
    return OfflineRunner(store, noise=noise).run(jobs).documents


@pytest.fixture
def dash(store, monkeypatch):
    """A dashboard test client over a store holding the sample runs and the failing examples."""
    monkeypatch.chdir(ROOT)
    app = create_app({"TESTING": True, "STORE": store})
    if "dashboard" not in app.blueprints:
        register(app)
    docs = run_suites(store, SAMPLES + FAILING)
    client = app.test_client()
    client.docs = {doc["file"]: doc for doc in docs}
    return client


def page(client, url, status=200, **query):
    response = client.get(url, query_string=query or None)
    assert response.status_code == status, response.data[:500]
    return response.get_data(as_text=True)


def listed_runs(body):
    return re.findall(r'<a href="/runs/([0-9a-f]+)">', body)


def test_list_shows_every_run_with_counts(dash):
    body = page(dash, "/")
    assert sorted(listed_runs(body)) == sorted(doc["unique_id"] for doc in dash.docs.values())
    assert re.search(r'<span class="n">7</span> runs', body)
    assert re.search(r'<span class="n">5</span> passed', body)
    assert re.search(r'<span class="n">2</span> failed', body)
    assert "failing on purpose: the greeting changed" in body


def test_list_is_newest_first(dash, store):
    older = copy.deepcopy(dash.docs["testSuite/testSalesCall.json"])
    older.update(unique_id="a" * 32, suite="older run", startTimestamp="2001-01-01T00:00:00.000+00:00")
    newer = copy.deepcopy(older)
    newer.update(unique_id="b" * 32, suite="newer run", startTimestamp="2999-01-01T00:00:00.000+00:00")
    store.save(older)
    store.save(newer)
    ids = listed_runs(page(dash, "/"))
    assert ids[0] == "b" * 32 and ids[-1] == "a" * 32


def test_filter_by_status(dash):
    body = page(dash, "/?status=failed")
    failing = {doc["unique_id"] for doc in dash.docs.values() if doc["status"] == "failed"}
    assert set(listed_runs(body)) == failing and len(failing) == 2
    assert re.search(r'<span class="n">0</span> passed', body)
    assert '<option value="failed" selected>' in body


def test_filter_by_suite_name_or_file(dash):
    doc = dash.docs["testSuite/testSalesCall.json"]
    assert listed_runs(page(dash, "/?suite=testSalesCall")) == [doc["unique_id"]]
    by_file = page(dash, "/?suite=examples/failing/wrong_greeting.json")
    assert listed_runs(by_file) == [dash.docs["examples/failing/wrong_greeting.json"]["unique_id"]]
    assert "No runs match these filters" in page(dash, "/?status=complete&suite=examples/failing/wrong_branch.json")


def test_limit_shows_the_newest_runs(dash):
    body = page(dash, "/?limit=3")
    assert len(listed_runs(body)) == 3
    assert "Showing the newest 3 of 7 runs." in body


def test_run_page_shows_each_step_expected_heard_score_action_and_timings(dash):
    doc = dash.docs["examples/failing/wrong_branch.json"]
    body = page(dash, f"/runs/{doc['unique_id']}")
    first, second = doc["results"]
    assert html.escape(second["expected"][0]) in body
    assert html.escape(second["actualResult"]) in body
    assert f"{second['score']:.2f}" in body
    assert f"{first['score']:.2f}" in body
    assert "<code>press=2</code>" in body                      # the action taken
    assert "not done: <code>say=alan turing</code>" in body     # the failed step's action
    assert f"listened {first['waited']:.1f} s" in body
    assert f"0.0–{first['waited']:.1f} s" in body
    assert "Stopped at step 2: no-match" in body
    assert 'class="badge fail">failed' in body


def test_run_page_shows_the_call_as_a_transcript(dash):
    doc = dash.docs["testSuite/supportTransfer.json"]
    body = page(dash, f"/runs/{doc['unique_id']}")
    lines = re.findall(r'<span class="t">([\d.]+) s</span><span class="who">(\w+):</span>'
                       r'<span class="said">([^<]*)</span>', body)
    assert lines[0] == ("0.0", "IVR", html.escape(doc["transcript"][0]["text"]))
    assert ("7.8", "Caller", "press 2") in lines
    assert lines[-1][1:] == ("IVR", "hangs up (transferred to queue Support)")
    assert len(lines) == len(doc["transcript"])


def test_run_page_shows_coverage_reached(dash):
    doc = dash.docs["testSuite/testSalesCall.json"]
    body = page(dash, f"/runs/{doc['unique_id']}")
    assert f"Blocks reached: {len(doc['coverage']['blocks'])}" in body
    assert "<code>main-menu -[Condition:Equals 1]-&gt; set-department</code>" in body


def test_run_page_shows_never_reached_when_the_run_stores_it(dash, store):
    doc = copy.deepcopy(dash.docs["testSuite/testSalesCall.json"])
    doc["coverage"].update(totalBlocks=8, missedBlocks=["say-sorry", "hang-up"],
                           missedBranches=[["main-menu", "Error", "say-sorry"]])
    store.save(doc)
    body = page(dash, f"/runs/{doc['unique_id']}")
    assert f"Blocks reached: {len(doc['coverage']['blocks'])} of 8" in body
    assert "Never reached: 2" in body and "<code>say-sorry</code>" in body
    assert "Never taken: 1" in body and "main-menu -[Error]-&gt; say-sorry" in body


def test_run_page_shows_what_an_older_run_stored(dash, store):
    doc = copy.deepcopy(dash.docs["testSuite/testSalesCall.json"])
    doc["coverage"] = {key: doc["coverage"][key] for key in ("blocks", "branches")}
    store.save(doc)
    body = page(dash, f"/runs/{doc['unique_id']}")
    assert f"Blocks reached: {len(doc['coverage']['blocks'])}</strong>" in body
    assert "Never reached" not in body and "in the run's console summary" in body


def test_steps_after_the_stop_are_not_reached(dash, store):
    doc = copy.deepcopy(dash.docs["examples/failing/wrong_greeting.json"])
    doc["instructions"] += [{"expect": ["never asked"], "then": "press=5", "timeout": 3}]
    doc["totalSteps"] = 2
    store.save(doc)
    body = page(dash, f"/runs/{doc['unique_id']}")
    assert 'class="badge skipped">not reached' in body
    assert "never asked" in body


def test_user_text_is_escaped(dash, store, tmp_path):
    suite = tmp_path / "xss.json"
    suite.write_text('{"name": "xss %s", "steps": [{"expect": ["%s"], "then": "press=1"}]}'
                     % (PAYLOAD.replace("/", "\\/"), PAYLOAD.replace("/", "\\/")), encoding="utf-8")
    (doc,) = run_suites(store, [suite])
    assert doc["results"][0]["expected"] == [PAYLOAD]
    doc["results"][0]["actualResult"] = PAYLOAD
    doc["transcript"][0]["text"] = PAYLOAD
    doc["target"] = PAYLOAD
    store.save(doc)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for url, query in (("/", {}), (f"/runs/{doc['unique_id']}", {}), ("/", {"suite": doc["suite"]})):
        body = page(dash, url, **query)
        assert PAYLOAD not in body and "<script" not in body.lower()
        assert escaped in body
    body = page(dash, f"/runs/{doc['unique_id']}")
    assert body.count(escaped) >= 5     # title, expected, heard, transcript, target


def test_unknown_run_is_404(dash):
    body = page(dash, "/runs/does-not-exist", status=404)
    assert "Run not found" in body


def test_read_only(dash):
    doc = next(iter(dash.docs.values()))
    for url in ("/", f"/runs/{doc['unique_id']}"):
        assert dash.post(url).status_code == 405
        assert dash.delete(url).status_code == 405


def test_nothing_is_loaded_from_elsewhere(dash):
    doc = dash.docs["examples/failing/wrong_branch.json"]
    for url in ("/", f"/runs/{doc['unique_id']}", "/runs/nope", "/?status=failed"):
        response = dash.get(url)
        body = response.get_data(as_text=True)
        assert not EXTERNAL.search(body), EXTERNAL.search(body)
        assert "<script" not in body and "@import" not in body
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    css = page(dash, "/dashboard/static/dashboard.css")
    assert "url(" not in css and "@import" not in css and "//" not in css.replace("/*", "")


def test_static_report_is_one_self_contained_page(dash, tmp_path):
    docs = list(dash.docs.values())
    report = render_static_report(docs)
    assert "<style>" in report and 'rel="stylesheet"' not in report
    assert not EXTERNAL.search(report)
    for doc in docs:        # every run collapsed; the failed ones linked from the failures table
        assert f'<details class="run" id="run-{doc["unique_id"]}">' in report
        assert (f'href="#run-{doc["unique_id"]}"' in report) == (doc["status"] != "complete")
    failing = dash.docs["examples/failing/wrong_greeting.json"]["results"][0]
    assert html.escape(failing["actualResult"]) in report
    path = tmp_path / "out" / "report.html"
    write_html_report(docs, path)
    written = path.read_text(encoding="utf-8")
    assert written.startswith("<!doctype html>")
    assert all(doc["unique_id"] in written for doc in docs)


def test_static_report_escapes_user_text(dash):
    doc = copy.deepcopy(next(iter(dash.docs.values())))
    doc["suite"] = doc["results"][0]["actualResult"] = PAYLOAD
    report = render_static_report([doc])
    assert PAYLOAD not in report and "<script" not in report


def test_list_shows_why_a_run_failed_with_its_diff(dash, store):
    doc = copy.deepcopy(dash.docs["examples/failing/wrong_greeting.json"])
    doc["results"][0]["diff"] = "[-terrible-] {+awesome+} phone center"
    doc["results"][0]["rule"] = "fuzzy >= 0.8"
    store.save(doc)
    body = page(dash, "/")
    result = doc["results"][0]
    assert str(escape(f'step 1: no-match: expected "{result["expected"][0]}"')) in body
    assert "<code>[-terrible-] {+awesome+} phone center</code>" in body and "rule: fuzzy &gt;= 0.8" in body
    passed = dash.docs["testSuite/testSalesCall.json"]["unique_id"]
    row = re.search(rf'<a href="/runs/{passed}">.*?</tr>', body, re.S).group(0)
    assert re.search(r'class="text why">\s*</td>', row), "nothing beside a passed run"


def test_runs_are_grouped_by_invocation_and_filterable_by_it(store, monkeypatch):
    monkeypatch.chdir(ROOT)
    first = run_suites(store, ["testSuite/testSalesCall.json"], invocation="inv-1")
    second = run_suites(store, FAILING, invocation="inv-2")
    client = create_app({"TESTING": True, "STORE": store}).test_client()
    body = page(client, "/")
    assert body.index("<code>inv-2</code>") < body.index("<code>inv-1</code>"), "newest invocation first"
    assert "2 runs:" in body and "1 run:" in body
    only = page(client, "/", invocation="inv-1")
    assert listed_runs(only) == [first[0]["unique_id"]] and "<code>inv-2</code>" not in only
    assert sorted(listed_runs(page(client, "/", invocation="inv-2"))) == sorted(d["unique_id"] for d in second)


def test_trend_per_suite_over_its_last_runs(store, monkeypatch):
    monkeypatch.chdir(ROOT)
    for number in range(3):
        run_suites(store, ["testSuite/testSalesCall.json", "examples/failing/wrong_greeting.json"],
                   invocation=f"inv-{number}")
    client = create_app({"TESTING": True, "STORE": store}).test_client()
    body = page(client, "/")
    trends = re.findall(r'<td class="ticks">(.*?)</td>\s*<td class="num">(\d+/\d+)</td>', body, re.S)
    assert [(ticks.count("tick fail"), ticks.count("tick pass"), ratio) for ticks, ratio in trends] == \
        [(3, 0, "0/3"), (0, 3, "3/3")], "failing suite first"
