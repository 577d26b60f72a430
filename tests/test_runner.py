"""The samples end to end on the virtual network, through the real webhooks."""
import json
import pickle
import threading

import pytest
from werkzeug.serving import make_server

from app.runner import Job, OfflineRunner, summarize
from app.store import ResultStore
from app.suite import load_suite, load_suites, parse_suite
from app.targets import parse_target, resolve_target
from examples.showtimes.app import create_app as showtimes_app

LEGACY = "aws-connect-contact-flows/legacy/SalesIVR.json"


@pytest.fixture
def store(tmp_path):
    store = ResultStore(tmp_path / "db.json")
    yield store
    store.close()


def run(store, suites, target=None, **options):
    jobs = [Job(s, target or resolve_target(suite_target=s.target)) for s in suites]
    return OfflineRunner(store, **options).run(jobs)


def test_every_sample_suite_passes_through_the_realistic_recognizer(store):
    suites, errors = load_suites(["testSuite"])
    assert not errors and len(suites) >= 5
    result = run(store, suites, noise="realistic", seed=0)
    assert [d["status"] for d in result.documents] == ["complete"] * len(suites)
    on_disk = json.loads(store.path.read_text())["_default"]
    assert len(on_disk) == len(suites)
    doc = next(d for d in on_disk.values() if d["file"].endswith("testSalesCall.json"))
    assert doc["seed"] == 0 and doc["mode"] == "offline" and doc["callSid"].startswith("CA")
    assert doc["noise"] == "realistic"
    steps = [r for d in result.documents for r in d["results"]]
    assert any(r["actualResult"] not in r["expected"] for r in steps)   # the noise reached the matcher
    assert all(r["rule"] is None and r["diff"] is None for r in steps)   # and was seen through
    assert [r["status"] for r in doc["results"]] == ["passed", "passed"]
    assert doc["transcript"][0]["party"] == "ivr"


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_samples_pass_with_other_seeds(store, seed):
    suites, _ = load_suites(["testSuite"])
    assert all(d["status"] == "complete" for d in run(store, suites, seed=seed).documents)


def test_a_wrong_expectation_fails_no_false_pass(store):
    result = run(store, [load_suite("examples/failing/wrong_greeting.json")])
    [doc] = result.documents
    assert doc["status"] == "failed"
    step = doc["results"][0]
    assert step["reason"] == "no-match" and step["score"] < 0.8
    assert step["actualResult"].startswith("hello and welcome")


def test_wrong_branch_fails_at_the_second_step(store):
    [doc] = run(store, [load_suite("examples/failing/wrong_branch.json")]).documents
    assert doc["status"] == "failed" and "support" in doc["results"][1]["actualResult"]
    assert doc["ivrOutcome"] == "transferred to queue Support"


def test_same_seed_same_transcripts(tmp_path):
    suite = load_suite("testSuite/salesFavoriteProgrammer.json")

    def heard(seed, name):
        store = ResultStore(tmp_path / name)
        try:
            return [r["actualResult"] for r in run(store, [suite], seed=seed).documents[0]["results"]]
        finally:
            store.close()
    assert heard(5, "a.json") == heard(5, "b.json")


def test_legacy_export_plays_the_same_call(store):
    suite = load_suite("testSuite/menuRetry.json")
    bot = "aws-lex-bot"
    modern = run(store, [suite], parse_target("aws-connect-contact-flows", bot)).documents[0]
    legacy = run(store, [suite], parse_target(LEGACY, bot)).documents[0]
    strip = lambda doc: [(e["t"], e["party"], e["text"]) for e in doc["transcript"]]
    assert legacy["status"] == "complete" and strip(legacy) == strip(modern)


def test_coverage_is_reported_and_stored(store):
    suites, _ = load_suites(["testSuite"])
    result = run(store, suites)
    [coverage] = result.coverage.values()
    assert 0 < len(coverage.visited) < len(coverage.block_ids)
    assert "check-support-hours" in coverage.visited
    summary = coverage.summary()
    assert summary.startswith(f"coverage: {len(coverage.visited)}/{len(coverage.block_ids)} blocks")
    assert "never reached" in summary and "DoneLooping" in summary
    doc = result.documents[0]
    assert doc["coverage"]["blocks"] and doc["coverage"]["branches"]


def test_a_calls_coverage_is_made_once_per_path_and_is_what_a_coverage_of_that_call_alone_gives():
    from app.coverage import Coverage

    class Flow:
        block_ids = ["a", "b", "c"]
        branches = [("a", "Success", "b"), ("b", "Error", "c"), ("a", "Timeout", "c")]
    suite_wide = Coverage(Flow())

    def alone(blocks, branches):
        one = Coverage(Flow())
        one.add(blocks, branches)
        return one.to_json()
    for blocks, branches in [(["a", "b"], [("a", "Success", "b")]), (["a", "c"], [("a", "Timeout", "c")]),
                             ({"b", "a"}, {("a", "Success", "b")}), (["x"], [("x", "Success", "a")])]:
        assert suite_wide.of_call(blocks, branches) == alone(blocks, branches)
    assert len(suite_wide._of_path) == 3                 # the third call took the first's path
    assert suite_wide.visited == set() and suite_wide.taken == set()    # of_call adds nothing


def test_closed_hours_take_the_other_branch(store):
    suite = parse_suite([{"expect": "Hello, and welcome to the awesome phone center, press 1 for sales.",
                          "then": "press=2", "timeout": 3},
                         {"expect": "Support is closed. Goodbye.", "timeout": 3}], "closed.json")
    [doc] = run(store, [suite], resolve_target(), hours_open=False).documents
    assert doc["status"] == "complete" and doc["ivrOutcome"] == "disconnected"


def test_a_broken_flow_is_an_error_run_not_a_crash(store, tmp_path):
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps({"Version": "2019-10-30", "StartAction": "a", "Actions": [
        {"Identifier": "a", "Type": "DisconnectParticipant", "Parameters": {},
         "Transitions": {"NextAction": "ghost"}}]}))
    [doc] = run(store, [load_suite("testSuite/testSalesCall.json")], parse_target(str(flow))).documents
    assert doc["status"] == "error" and "'ghost'" in doc["endReason"]


def test_an_unmodelled_block_fails_the_run_with_its_type_and_id(store, tmp_path):
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps({"Version": "2019-10-30", "StartAction": "a", "Actions": [
        {"Identifier": "a", "Type": "TeleportCaller", "Parameters": {}, "Transitions": {}}]}))
    [doc] = run(store, [load_suite("testSuite/testSalesCall.json")], parse_target(str(flow))).documents
    assert doc["status"] == "failed"
    assert doc["ivrOutcome"] == "unmodelled block: type 'TeleportCaller' (id 'a') is not simulated"


def test_a_call_that_never_ends_is_cut_by_the_call_length_limit(store):
    suite = parse_suite([{"expect": "x", "match": "any", "then": "press=9", "timeout": 3}] * 40, "long.json")
    [doc] = run(store, [suite], max_call_seconds=20).documents
    assert doc["status"] == "failed" and doc["callEnd"] == "call-length limit"


def test_many_calls_interleave_on_one_clock(store):
    suite = load_suite("testSuite/testSalesCall.json")
    result = run(store, [suite] * 30, concurrency=10)
    assert len({d["unique_id"] for d in result.documents}) == 30
    assert all(d["status"] == "complete" for d in result.documents)
    assert result.virtual_seconds < 3 * 15      # 30 calls, 10 at a time, about 14 s each


@pytest.fixture
def showtimes_url():
    server = make_server("127.0.0.1", 0, showtimes_app())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"twiml:http://127.0.0.1:{server.server_port}/voice"
    server.shutdown()


def test_showtimes_app_over_loopback_http(store, showtimes_url):
    suites, errors = load_suites(["examples/showtimes/suites"])
    assert not errors and suites
    result = run(store, suites, parse_target(showtimes_url))
    assert all(d["status"] == "complete" for d in result.documents)
    assert all(d["twilioErrors"] == [] for d in result.documents)


def test_showtimes_wrong_expectation_fails(store, showtimes_url):
    suite = parse_suite([{"expect": "Welcome to Movie Showtimes. Please choose a theater.",
                          "then": "press=1", "timeout": 3},
                         {"expect": "You chose Riverside Plaza.", "timeout": 3}], "wrong.json")
    [doc] = run(store, [suite], parse_target(showtimes_url)).documents
    assert doc["status"] == "failed"


def test_an_ivr_that_never_stops_talking_fails_the_step_at_the_listen_limit(store, tmp_path):
    flow = tmp_path / "chatty.json"
    flow.write_text(json.dumps({"Version": "2019-10-30", "StartAction": "talk", "Actions": [
        {"Identifier": "talk", "Type": "MessageParticipant",
         "Parameters": {"Text": "This menu never stops talking to you."},
         "Transitions": {"NextAction": "talk"}}]}))
    suite = parse_suite([{"expect": "This menu never stops talking to you.", "then": "press=1",
                          "timeout": 3}], "chatty-suite.json")
    [doc] = run(store, [suite], parse_target(str(flow)), noise="off").documents
    assert doc["status"] == "failed"
    [step] = doc["results"]
    assert step["reason"] == "listen-limit" and step["waited"] >= 60
    assert doc["virtualSeconds"] < 70           # judged at the cap, then the caller hung up


def test_finished_calls_leave_memory(store):
    """Once stored and reported, a run is neither in the run manager nor reachable from the
    clock (a cancelled call-length limit used to hold each call until its 900 s were up)."""
    import gc
    import weakref
    suite = load_suite("testSuite/salesNotUnderstood.json")
    runner = OfflineRunner(store, concurrency=5)
    lines, alive, place = [], [], runner.network.place_call

    def spy(*args, **kwargs):
        gc.collect()
        alive.append(sum(ref() is not None for ref in lines))   # earlier calls still in memory
        line, caller, ivr = place(*args, **kwargs)
        lines.extend(weakref.ref(party) for party in (line, caller, ivr))
        return line, caller, ivr
    runner.network.place_call = spy
    result = runner.run([Job(suite, resolve_target())] * 20)
    gc.collect()
    assert len(lines) == 60 and [ref() for ref in lines] == [None] * 60
    assert max(alive) == 3 * 5      # the calls in progress, and the one whose end starts the next
    assert all(runner.runs.session(run_id) is None for run_id in result.run_ids)
    assert [s["status"] for s in result.summaries] == ["complete"] * 20
    assert "transcript" not in result.summaries[0] and result.documents[0]["transcript"]


def test_an_ended_call_is_freed_without_the_cyclic_garbage_collector(store):
    """The line and its parties point at each other; `Line.release` (after the run is closed)
    breaks that, so an ended call is freed by reference counting alone: the collector, which
    would otherwise find every call as garbage, is not needed (it is off here)."""
    import gc
    import weakref
    suites = [load_suite(f"testSuite/{name}.json") for name in ("salesNotUnderstood", "menuRetry")]
    runner = OfflineRunner(store, concurrency=3)
    jobs = [Job(suite, resolve_target()) for suite in suites] * 4
    runner.run(jobs)        # first renders of each reply's TwiML (Flask keeps their call stack)
    refs, place = [], runner.network.place_call

    def spy(*args, **kwargs):
        line, caller, ivr = place(*args, **kwargs)
        refs.extend(weakref.ref(party) for party in (line, caller, ivr))
        return line, caller, ivr
    runner.network.place_call = spy
    gc.collect()
    gc.disable()
    try:
        result = runner.run(jobs)
        assert len(refs) == 24 and [ref() for ref in refs] == [None] * 24
    finally:
        gc.enable()
    assert [s["status"] for s in result.summaries] == ["complete"] * 8


def test_offline_verdicts_are_reported_only_after_their_runs_are_fsyncd(tmp_path):
    """Group commit keeps issue 12's rule: when a run is reported finished, its final journal
    line is already synced; and runs are reported in suite order."""
    store = ResultStore(tmp_path / "db.json", flush_delay=30)
    seen = []

    class Reporter:
        def run_changed(self, session):
            pass

        def heard(self, *args):
            pass

        def finished(self, summary):
            lines = store.journal.path.read_bytes().splitlines()[:store.journal.synced]
            synced = {json.loads(line)["run"]["unique_id"]: json.loads(line)["run"]["status"]
                      for line in lines if b'"run"' in line}
            seen.append((summary["suite"], synced.get(summary["unique_id"])))
    suites, _ = load_suites(["testSuite"])
    try:
        run(store, suites * 30, reporter=Reporter(), concurrency=20)
    finally:
        store.close()
    assert [name for name, _ in seen] == [s.name for s in suites * 30]
    assert all(status == "complete" for _, status in seen)


def test_a_summary_reads_like_the_dict_of_its_runs_keys():
    failed = {"status": "failed", "expected": ["press 1"], "actualResult": "press 2"}
    doc = {"unique_id": "r1", "status": "failed", "suite": "menu", "totalSteps": 2,
           "passedSteps": 1, "virtualSeconds": 4.5, "results": [{"status": "passed"}, failed],
           "transcript": ["not in a summary"]}
    summary = summarize(doc)
    assert summary == {"unique_id": "r1", "status": "failed", "suite": "menu", "totalSteps": 2,
                       "passedSteps": 1, "virtualSeconds": 4.5, "results": (failed,)}
    assert summary["status"] == "failed" and summary.get("appError") is None
    assert "transcript" not in summary and "endTimeStamp" not in summary
    with pytest.raises(KeyError):
        summary["transcript"]
    copy = pickle.loads(pickle.dumps(summary))           # workers send summaries to the parent
    assert copy == summary and type(copy) is type(summary)
