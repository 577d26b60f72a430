from datetime import datetime, timezone

from hypothesis import example, given, settings, strategies as st

from app.engine import HANGUP, MAX_LISTEN_SECONDS, CallSession, iso
from app.suite import Action, load_suite, parse_suite

SALES = load_suite("testSuite/testSalesCall.json")
WELCOME = "Hello, and welcome to the awesome phone center, press one for sales."


class FakeClock:
    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def session(suite=SALES, clock=None):
    return CallSession(suite, "run-1", clock or FakeClock())


def test_sample_suite_passes_and_completes():
    call = session()
    assert call.answer("CA1").listen == 0
    reply = call.hear(0, WELCOME, "0.9")
    assert reply.actions == (Action("press", "1"),) and reply.listen == 1 and reply.timeout == 3
    reply = call.hear(1, "Who is your favorite programmer?")
    assert reply.actions == (Action("say", "alan turing"),) and reply.hangup
    assert call.status == "complete"
    assert [r["status"] for r in call.results] == ["passed", "passed"]
    assert call.results[0]["confidence"] == 0.9 and call.results[0]["action"] == "press=1"


def test_mismatch_fails_with_what_was_heard_and_hangs_up():
    call = session()
    call.answer("CA1")
    assert call.hear(0, "our office is closed") == HANGUP
    result = call.results[0]
    assert call.status == "failed"
    assert (result["status"], result["actualResult"], result["reason"]) == ("failed", "our office is closed", "no-match")
    assert result["score"] < 0.5 and result["action"] is None


def test_timeout_fails_with_null_result():
    call = session()
    call.answer("CA1")
    assert call.silence(0) == HANGUP
    assert call.results[0]["actualResult"] is None and call.results[0]["reason"] == "timeout"


def test_pieces_in_one_window_are_joined_in_order():
    call = session()
    call.answer("CA1")
    assert call.hear(0, "Hello, and welcome to the awesome phone center,", final=False) is None
    call.hear(0, "press 1 for sales.")
    assert call.results[0]["actualResult"] == "Hello, and welcome to the awesome phone center, press 1 for sales."
    assert call.results[0]["status"] == "passed"


def test_listening_past_the_cap_fails_the_step():
    clock = FakeClock()
    call = session(clock=clock)
    call.answer("CA1")
    clock.now += MAX_LISTEN_SECONDS
    call.hear(0, WELCOME)
    assert call.results[0]["reason"] == "listen-limit" and call.status == "failed"


def test_repeated_request_does_not_advance_twice():
    call = session()
    call.answer("CA1")
    first = call.hear(0, WELCOME)
    again = call.hear(0, WELCOME)
    assert again == first and call.index == 1 and len(call.results) == 1
    assert call.silence(0) == first        # a late redirect for the judged step changes nothing


def test_answer_again_resumes_the_current_step():
    call = session()
    call.answer("CA1")
    call.hear(0, WELCOME)
    assert call.answer("CA1").listen == 1 and call.status == "in-progress"


def test_hangup_action_completes_early():
    suite = parse_suite([{"expect": "hi", "then": "hangup"}, {"expect": "never"}], "s.json")
    call = session(suite)
    call.answer("CA1")
    assert call.hear(0, "hi") == HANGUP
    assert call.status == "complete"


def test_call_ended_with_steps_left_fails_them():
    call = session()
    call.answer("CA1")
    call.hear(0, WELCOME)
    call.call_ended("completed")
    assert call.status == "failed" and call.end_reason == "call ended"
    assert [r["reason"] for r in call.results] == [None, "call ended"]


def test_busy_closes_with_that_status_and_final_runs_stay():
    call = session()
    call.call_ended("busy")
    assert call.status == "busy" and call.results[0]["reason"] == "busy"
    call.call_ended("completed")
    assert call.status == "busy"
    assert call.answer("CA1") == HANGUP


def test_document_has_the_original_keys():
    clock = FakeClock()
    call = session(clock=clock)
    call.answer("CA1")
    doc = call.document()
    for key in ("unique_id", "status", "startTimestamp", "endTimeStamp", "currentIndex",
                "currentStep", "instructions", "results"):
        assert key in doc
    assert doc["currentStep"] == SALES.steps[0].instruction and doc["endTimeStamp"] is None
    clock.now += 5
    call.hear(0, WELCOME)
    call.hear(1, "who is your favorite programmer")
    doc = call.document()
    assert doc["status"] == "complete" and doc["currentStep"] is None and doc["endTimeStamp"]
    assert set(doc["results"][0]) >= {"file", "step", "status", "actualResult"}
    assert doc["results"][0]["waited"] == 5.0 and doc["callSid"] == "CA1"


def test_call_ending_mid_window_judges_the_partial_result():
    suite = parse_suite([{"expect": "hi", "then": "press=1"}, {"expect": "goodbye"}], "s.json")
    call = session(suite)
    call.answer("CA1")
    call.hear(0, "hi")
    call.partial(1, "good bye")
    call.call_ended("completed")
    assert call.status == "complete" and call.results[1]["actualResult"] == "good bye"


def test_partial_result_that_does_not_match_fails_and_the_rest_end():
    call = session()
    call.answer("CA1")
    call.partial(0, "our office is closed")
    call.call_ended("completed")
    assert call.status == "failed"
    assert [r["reason"] for r in call.results] == ["no-match"]


def test_stale_partial_is_ignored():
    call = session()
    call.answer("CA1")
    call.hear(0, WELCOME)
    call.partial(0, "late")
    call.call_ended("completed")
    assert [r["reason"] for r in call.results] == [None, "call ended"]


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=-6e10, max_value=2.5e11) | st.integers(min_value=-6 * 10**10, max_value=2 * 10**11)
       | st.floats(min_value=1.6e9, max_value=1.8e9))
@example(1.9999995)
@example(-0.0000005)
@example(0.0005)
@example(1_700_000_000)
def test_iso_is_what_datetime_writes(seconds):
    """iso() makes each second's date and time once; the rest must be datetime's to the digit."""
    expected = datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds")
    assert iso.__wrapped__(seconds) == expected and iso(seconds) == expected
