"""The offline fast path (app/simulator/direct.py) against the full webhook round trip (`--wire`).

Every suite in the repository (the samples, the examples, and the suites the tests build) is
played both ways, with the same wall-clock origin, and the stored runs, the transcripts and the
console output must be identical: only the random run ids and CallSids differ.
"""
import json
import threading
import types
import xml.etree.ElementTree as ET

import pytest
from werkzeug.serving import make_server

import app.runner as runner_module
from app.engine import Reply
from app.report import ConsoleReporter
from app.runner import Job, OfflineRunner
from app.simulator.direct import PLACEHOLDER, DirectFetcher
from app.simulator.fetch import FlaskFetcher
from app.store import ResultStore
from app.suite import Action, load_suites, parse_suite
from app.targets import parse_target, resolve_target
from examples.showtimes.app import create_app as showtimes_app
from tests.phonecall import AUTH_TOKEN, PUBLIC_URL

LEGACY = "aws-connect-contact-flows/legacy/SalesIVR.json"
WELCOME = "Hello, and welcome to the awesome phone center, press 1 for sales."

# The suites the tests write inline (tests/test_runner.py and friends), and a few more corners:
# silence, a say= action, a wrong branch, a step after the IVR hung up.
INLINE = [
    ([{"expect": WELCOME, "then": "press=2", "timeout": 3},
      {"expect": "Support is closed. Goodbye.", "timeout": 3}], "closed.json", {"hours_open": False}),
    ([{"expect": "x", "match": "any", "then": "press=9", "timeout": 3}] * 40, "long.json",
     {"max_call_seconds": 20}),
    ([{"expect": WELCOME, "then": None, "timeout": 3},
      {"expect": "Sorry, I didn't get that.", "timeout": 3}], "silence.json", {}),
    ([{"expect": WELCOME, "then": "press=1", "timeout": 3},
      {"expect": "Who is your favorite programmer?", "then": "say=Grace Hopper", "timeout": 3},
      {"expect": ["Great choice! grace hopper is a legend. Goodbye."], "timeout": 3},
      {"expect": "nothing more", "timeout": 3}], "after-hangup.json", {}),
    ([{"expect": WELCOME, "then": "press=1w", "timeout": 1},
      {"expect": "Who is your favorite programmer?", "then": "hangup", "timeout": 3}], "hangup.json", {}),
    ([{"expect": "Welcome to the bank", "then": "press=1", "timeout": 3}], "wrong.json", {}),
]


def repository_suites():
    """Every suite file in the repository, by folder."""
    suites, errors = load_suites(["testSuite", "examples/failing"])
    showtimes, more_errors = load_suites(["examples/showtimes/suites"])
    assert not errors and not more_errors
    assert len(suites) >= 7 and len(showtimes) >= 4
    return suites, showtimes


@pytest.fixture(scope="module")
def showtimes_target():
    server = make_server("127.0.0.1", 0, showtimes_app())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield parse_target(f"twiml:http://127.0.0.1:{server.server_port}/voice")
    server.shutdown()


def play(tmp_path, name, jobs, monkeypatch, **options):
    """Play `jobs` with a fixed wall-clock origin; (stored documents, console lines)."""
    monkeypatch.setattr(runner_module, "time", types.SimpleNamespace(
        time=lambda: 1_700_000_000.0, perf_counter=runner_module.time.perf_counter))
    lines = []
    reporter = ConsoleReporter(echo=lines.append, color=False, verbose=True)
    store = ResultStore(tmp_path / f"{name}.json")
    try:
        OfflineRunner(store, reporter=reporter, **options).run(jobs)
    finally:
        store.close()
    table = json.loads((tmp_path / f"{name}.json").read_text())["_default"]
    return [table[key] for key in sorted(table, key=int)], lines


def without_ids(documents, lines):
    """Documents and output with each run's random ids replaced by placeholders (and without
    the wall-clock time each call took, the one thing the two paths must differ in). The
    documents are compared as a sorted list: the store numbers runs in the order its writer
    appends them, which wall-clock timing decides; the console lines keep the suites' order."""
    texts = []
    for doc in documents:
        text = json.dumps({key: value for key, value in doc.items() if key != "wallSeconds"})
        text = text.replace(doc["unique_id"], "<run>")
        if doc.get("callSid"):
            text = text.replace(doc["callSid"], "<call>")
        texts.append(text)
    output = "\n".join(lines)
    for doc in documents:
        output = output.replace(doc["unique_id"], "<run>")
        if doc.get("callSid"):
            output = output.replace(doc["callSid"], "<call>")
    return sorted(texts), output


def both_ways(tmp_path, jobs, monkeypatch, **options):
    fast = play(tmp_path, "fast", jobs, monkeypatch, **options)
    wire = play(tmp_path, "wire", jobs, monkeypatch, wire=True, **options)
    return fast, wire


def assert_same(fast, wire, count):
    (fast_docs, fast_lines), (wire_docs, wire_lines) = fast, wire
    assert len(fast_docs) == len(wire_docs) == count
    assert all(doc["transcript"] for doc in fast_docs if doc["status"] != "error")
    assert without_ids(fast_docs, fast_lines) == without_ids(wire_docs, wire_lines)


@pytest.mark.parametrize("noise", ["realistic", "off"])
def test_every_repository_suite_stores_the_same_runs_both_ways(tmp_path, monkeypatch, noise,
                                                               showtimes_target):
    suites, showtimes = repository_suites()
    jobs = [Job(s, resolve_target(suite_target=s.target)) for s in suites]
    jobs += [Job(s, parse_target(LEGACY, "aws-lex-bot")) for s in suites]
    jobs += [Job(s, showtimes_target) for s in showtimes]
    fast, wire = both_ways(tmp_path, jobs * 3, monkeypatch, noise=noise, seed=7, concurrency=4)
    assert_same(fast, wire, len(jobs) * 3)
    statuses = {doc["status"] for doc in fast[0]}
    assert statuses == {"complete", "failed"}        # passing and failing runs were both compared


@pytest.mark.parametrize("steps, name, options", INLINE, ids=[case[1] for case in INLINE])
def test_inline_suites_store_the_same_runs_both_ways(tmp_path, monkeypatch, steps, name, options):
    suite = parse_suite(steps, name)
    fast, wire = both_ways(tmp_path, [Job(suite, resolve_target())] * 2, monkeypatch, **options)
    assert_same(fast, wire, 2)


def test_broken_and_missing_targets_store_the_same_runs_both_ways(tmp_path, monkeypatch):
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps({"Version": "2019-10-30", "StartAction": "a", "Actions": [
        {"Identifier": "a", "Type": "MessageParticipant", "Parameters": {"Text": "Hi."},
         "Transitions": {"NextAction": "no-such-block"}}]}))        # a dangling transition
    suites, _ = repository_suites()
    jobs = [Job(suites[0], parse_target(str(flow))), Job(suites[0], parse_target("twiml:http://127.0.0.1:9/voice"))]
    fast, wire = both_ways(tmp_path, jobs, monkeypatch)
    assert_same(fast, wire, 2)
    assert [doc["status"] for doc in fast[0]] == ["error", "failed"]


# -- the pieces ---------------------------------------------------------------------------------

@pytest.fixture
def fetchers(app):
    wire = FlaskFetcher(app, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL)
    return DirectFetcher(app, PUBLIC_URL, wire), wire


def test_cached_twiml_is_what_the_webhook_renders(app, fetchers):
    direct, wire = fetchers
    replies = [Reply(listen=0, timeout=3), Reply(actions=(Action("press", "1w2"),), listen=2, timeout=4.5),
               Reply(actions=(Action("say", "fish & <chips>"),), hangup=True), Reply(hangup=True)]
    runs = app.extensions["runs"]
    for reply in replies:
        for run_id in ("abc123", "def456"):        # the second from the same template
            document = direct.twiml.reply(reply, run_id)
            with app.test_request_context("/"):
                from app.webhooks import render
                rendered = render(reply, run_id).get_data(as_text=True)
            assert str(document) == rendered
            assert PLACEHOLDER not in str(document)
            # the verbs handed to the leg are what parsing the rendered XML gives
            assert [_tree(verb) for verb in document.verbs] == [_tree(v) for v in ET.fromstring(rendered)]
            assert [verb.tag for verb in document.verbs]
    assert runs is direct.runs


def test_the_twiml_cache_is_keyed_by_every_field_of_a_reply():
    """TwimlCache.reply keys templates by Reply's fields, listed by hand: a new field must be
    added there too, or two different replies would share one document."""
    from dataclasses import fields
    assert [field.name for field in fields(Reply)] == ["actions", "listen", "timeout", "hangup"]


def _tree(element):
    """A parsed element as plain data: tag, attributes, text, tail and children."""
    return (element.tag, dict(element.attrib), element.text, element.tail,
            [_tree(child) for child in element])


def test_what_the_fast_path_does_not_model_goes_over_the_wire(fetchers):
    direct, _wire = fetchers
    params = {"CallSid": "CA" + "1" * 32, "CallStatus": "in-progress"}
    assert direct("POST", f"{PUBLIC_URL}/missing", params)[0] == 404          # Flask's answer
    assert direct("POST", "http://other.test/voice?run=x", params)[0] == 200    # not our host
    status, body = direct("POST", f"{PUBLIC_URL}/gather?run=abc&step=x", params)
    assert status == 400                                                        # the view's 400
    status, body = direct("POST", f"{PUBLIC_URL}/voice?run=abc", {"CallSid": "bad sid!"})
    assert status == 400


def test_an_unknown_run_hangs_up_as_the_webhook_does(fetchers):
    direct, wire = fetchers
    params = {"CallSid": "CA" + "2" * 32, "CallStatus": "in-progress", "SpeechResult": "hi"}
    url = f"{PUBLIC_URL}/gather?run=0123abcd&step=0"
    fast, slow = direct("POST", url, params), wire("POST", url, params)
    assert fast[0] == slow[0] == 200 and str(fast[1]) == slow[1]
    assert "<Hangup" in slow[1]


def test_a_body_flask_would_refuse_as_too_large_goes_over_the_wire(fetchers):
    direct, wire = fetchers
    params = {"CallSid": "CA" + "3" * 32, "CallStatus": "in-progress", "SpeechResult": "é" * 30_000}
    url = f"{PUBLIC_URL}/gather?run=0123abcd&step=0"
    assert direct("POST", url, params)[0] == wire("POST", url, params)[0] == 413



def test_the_form_is_what_flask_would_decode():
    from app.simulator.direct import _as_form
    text = {"CallSid": "CA1", "Digits": "12"}
    assert _as_form(text) is text                       # strings already: read as they are
    mixed = {"CallSid": "CA1", "SequenceNumber": 2, 3: True}
    assert _as_form(mixed) == {"CallSid": "CA1", "SequenceNumber": "2", "3": "True"}
    assert _as_form(None) == {} and _as_form({}) == {}


def test_a_legs_fixed_parameters_checked_once_admit_what_the_full_check_admits(fetchers):
    """DirectTwimlLeg's requests are checked as their own few parameters plus the leg's fixed
    ones, checked once (FixedForm): whatever that admits, the fetcher's check of the whole form
    admits too, and a usual request is admitted both ways (anything else goes over the wire)."""
    from app.simulator.direct import FixedForm, _as_form, _fits
    from app.webhooks import _SID
    direct, _wire = fetchers
    sid = "CA" + "4" * 32

    def full_check(params):
        form = _as_form(params)
        return form is params and _fits(form, direct.max_form_chars) and bool(_SID.fullmatch(form.get("CallSid", "")))

    fixed_cases = [{"CallSid": sid, "From": "+15550100001"}, {"CallSid": "bad sid!"}, {"From": "+1"},
                   {"CallSid": sid, "Retries": 2}]
    own_cases = [{"CallStatus": "in-progress"}, {"CallStatus": "in-progress", "Digits": "12"},
                 {"CallStatus": "completed", "Digits": 5}, {"CallStatus": "in-progress", "CallSid": sid},
                 {"CallStatus": "in-progress", "SpeechResult": "é" * 30_000}, {}]
    admitted = []
    for fixed in fixed_cases:
        checked = FixedForm(fixed)
        for own in own_cases:
            params = {**fixed, **own}
            if checked.admits(own, direct.max_form_chars):
                assert full_check(params)
                admitted.append(params)
    assert len(admitted) == 3           # the valid fixed form with no, one and two own fields
