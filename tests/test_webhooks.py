import json

import pytest

from app.suite import load_suite
from app.twiml import empty
from tests.phonecall import PUBLIC_URL, sign

EMPTY_TWIML = empty()          # what /partial and /status answer (webhooks.acknowledged)

SALES = load_suite("testSuite/testSalesCall.json")
WELCOME = "hello and welcome to the awesome phone centre press one for sales"
QUESTION = "who is your favourite programmer"
CALL = {"CallSid": "CA123", "CallStatus": "in-progress"}


def db(store):
    store.flush()
    return json.loads(store.path.read_text())["_default"]


def test_sample_suite_passes_end_to_end(runs, phone, store):
    run_id = runs.create(SALES, target="test")
    call = phone([WELCOME, QUESTION], run_id=run_id)
    assert call.run() == [("press", "1"), ("say", "alan turing")]
    [doc] = db(store).values()
    assert doc["unique_id"] == run_id and doc["status"] == "complete"
    assert [r["status"] for r in doc["results"]] == ["passed", "passed"]
    assert doc["results"][0]["actualResult"] == WELCOME and doc["callSid"] == call.params["CallSid"]


def test_unplaced_call_takes_the_next_queued_suite(runs, phone, store):
    first = runs.create(SALES, queue=True)
    second = runs.create(SALES, queue=True)
    phone([WELCOME, QUESTION]).run()
    assert store.get(first)["status"] == "complete" and store.get(second)["status"] == "queued"


def test_no_queued_suite_hangs_up(phone):
    call = phone([])
    assert call.run() == []
    assert b"<Hangup" in call.responses[0].data


def test_failing_step_records_what_was_heard(runs, phone, store):
    run_id = runs.create(SALES)
    phone(["our office is closed"], run_id=run_id).run()
    doc = store.get(run_id)
    assert doc["status"] == "failed"
    assert doc["results"][0]["actualResult"] == "our office is closed"
    assert doc["results"][0]["reason"] == "no-match"


def test_timeout_follows_the_redirect(runs, phone, store):
    run_id = runs.create(SALES)
    call = phone([None], run_id=run_id)
    call.run()
    assert store.get(run_id)["results"][0]["actualResult"] is None
    assert store.get(run_id)["results"][0]["reason"] == "timeout"


def test_repeated_gather_does_not_advance_twice(runs, phone, store):
    run_id = runs.create(SALES)
    call = phone([], run_id=run_id)
    call.post(f"/voice?run={run_id}")
    first = call.post(f"/gather?run={run_id}&step=0", {"SpeechResult": WELCOME})
    second = call.post(f"/gather?run={run_id}&step=0", {"SpeechResult": WELCOME})
    assert first.data == second.data
    doc = store.get(run_id)
    assert doc["currentIndex"] == 1 and len(doc["results"]) == 1


def test_unknown_call_on_gather_and_status_hangs_up_with_200_and_a_warning(client, phone, caplog):
    call = phone([])
    for path in ("/gather?run=nope&step=0", "/status"):
        caplog.clear()
        response = call.post(path, {"SpeechResult": "x", "CallStatus": "completed"})
        assert response.status_code == 200 and b"<Hangup" in response.data
        assert [r.levelname for r in caplog.records] == ["WARNING"]
        assert call.params["CallSid"] in caplog.text


def test_status_busy_closes_the_run(runs, phone, store):
    run_id = runs.create(SALES)
    call = phone([], run_id=run_id)
    call.post(f"/voice?run={run_id}")
    assert call.status("busy").get_data(as_text=True) == EMPTY_TWIML
    assert store.get(run_id)["status"] == "busy"
    call.status("completed")
    assert store.get(run_id)["status"] == "busy"


def test_completed_with_steps_left_fails_the_rest(runs, phone, store):
    run_id = runs.create(SALES)
    call = phone([], run_id=run_id)
    call.post(f"/voice?run={run_id}")
    call.post(f"/gather?run={run_id}&step=0", {"SpeechResult": WELCOME})
    call.status("completed")
    doc = store.get(run_id)
    assert doc["status"] == "failed" and doc["results"][1]["reason"] == "call ended"


def test_signature_missing_wrong_and_valid(client):
    url = PUBLIC_URL + "/voice"
    assert client.post("/voice", data=CALL).status_code == 403
    wrong = sign(url, CALL, token="not-the-token")
    assert client.post("/voice", data=CALL, headers={"X-Twilio-Signature": wrong}).status_code == 403
    tampered = sign(url, {**CALL, "CallSid": "CA999"})
    assert client.post("/voice", data=CALL, headers={"X-Twilio-Signature": tampered}).status_code == 403
    valid = sign(url, CALL)
    assert client.post("/voice", data=CALL, headers={"X-Twilio-Signature": valid}).status_code == 200


def test_signature_checked_against_request_url_without_public_url(store):
    from app import create_app
    app = create_app({"TESTING": True, "STORE": store, "TWILIO_AUTH_TOKEN": "tok"})
    signature = sign("http://localhost/voice", CALL, token="tok")
    response = app.test_client().post("/voice", data=CALL, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_validation_off_only_when_asked(store):
    from app import create_app
    app = create_app({"TESTING": True, "STORE": store, "TWILIO_AUTH_TOKEN": "tok",
                      "VALIDATE_SIGNATURES": False})
    assert app.test_client().post("/voice", data=CALL).status_code == 200


def test_malformed_requests_get_400_not_500(phone):
    call = phone([])
    assert call.post("/gather?run=x&step=abc").status_code == 400
    call.params["CallSid"] = ""
    assert call.post("/voice").status_code == 400
    call.params["CallSid"] = "CA<script>"
    assert call.post("/status").status_code == 400


def test_oversized_body_is_refused(client):
    response = client.post("/voice", data={"CallSid": "CA1", "Junk": "x" * 100_000},
                           headers={"X-Twilio-Signature": "anything"})
    assert response.status_code == 413


def test_gather_asks_for_partial_results_and_they_count_at_hangup(runs, phone, store):
    from app.suite import parse_suite
    suite = parse_suite([{"expect": "goodbye for now"}], "bye.json")
    run_id = runs.create(suite)
    call = phone([], run_id=run_id)
    gather = call.post(f"/voice?run={run_id}").get_data(as_text=True)
    assert f'partialResultCallback="/partial?run={run_id}&amp;step=0"' in gather
    response = call.post(f"/partial?run={run_id}&step=0", {"StableSpeechResult": "goodbye for now",
                                                            "SequenceNumber": "1"})
    assert response.status_code == 200 and response.get_data(as_text=True) == EMPTY_TWIML
    call.status("completed")
    assert store.get(run_id)["status"] == "complete"


def test_partial_for_unknown_call_is_harmless(phone):
    response = phone([]).post("/partial?run=nope&step=0", {"StableSpeechResult": "x"})
    assert response.status_code == 200 and response.get_data(as_text=True) == EMPTY_TWIML


@pytest.mark.parametrize("late", [
    ("/status", {"CallStatus": "busy"}), ("/status", {"CallStatus": "failed"}),
    ("/status", {"CallStatus": "no-answer"}), ("/status", {"CallStatus": "canceled"}),
    ("/status", {"CallStatus": "ringing"}), ("/status", {"CallStatus": "in-progress"}),
    ("/gather?run={run}&step=1", {"SpeechResult": "something else"}),
    ("/gather?run={run}&step=1&silence=1", {}),
    ("/partial?run={run}&step=1", {"StableSpeechResult": "late"}),
])
def test_late_requests_change_nothing_in_a_complete_run(runs, phone, store, late):
    run_id = runs.create(SALES)
    call = phone([WELCOME, QUESTION], run_id=run_id)
    call.run()
    before = store.get(run_id)
    assert before["status"] == "complete"
    path, form = late
    assert call.post(path.format(run=run_id), form).status_code == 200
    assert store.get(run_id) == before


def test_a_callsid_with_a_trailing_newline_is_refused(client, phone):
    call = phone([])
    call.params["CallSid"] += "\n"
    assert call.post("/voice").status_code == 400


def test_signed_gather_or_status_for_a_queued_run_no_call_answered_changes_nothing(runs, phone, store):
    run_id = runs.create(SALES)
    call = phone([], run_id=run_id)
    response = call.post(f"/gather?run={run_id}&step=0", {"SpeechResult": WELCOME})
    assert response.status_code == 200 and b"<Hangup" in response.data
    assert call.status("busy").status_code == 200                    # unknown call: hang up
    doc = store.get(run_id)
    assert doc["status"] == "queued" and doc["callSid"] is None
    assert all(r.get("actualResult") is None for r in doc["results"])


def test_health_is_unsigned_and_says_when_results_cannot_be_stored(client, store):
    from app.errors import StorageError
    assert client.get("/health").get_json() == {"status": "ok"}
    store.failure = StorageError("cannot write results/db.json: No space left on device")
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["reason"].endswith("No space left on device")


def test_a_wall_clock_jump_during_a_call_changes_no_wait(tmp_path, monkeypatch):
    """Waits come from time.monotonic: the wall clock stepping back an hour mid-call neither
    stores a negative wait nor fails the step."""
    import time as time_module

    from app import create_app
    from app.store import ResultStore
    from tests.phonecall import AUTH_TOKEN, PUBLIC_URL, PhoneCall
    store = ResultStore(tmp_path / "db.json", flush_delay=0.01)
    app = create_app({"TESTING": True, "STORE": store, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                      "PUBLIC_URL": PUBLIC_URL})
    runs = app.extensions["runs"]
    run_id = runs.create(SALES)
    call = PhoneCall(app.test_client(), [], run_id=run_id)
    call.post(f"/voice?run={run_id}")
    real = time_module.time
    monkeypatch.setattr(time_module, "time", lambda: real() - 3600)
    call.post(f"/gather?run={run_id}&step=0", {"SpeechResult": WELCOME})
    monkeypatch.setattr(time_module, "time", real)
    result = store.get(run_id)["results"][0]
    assert result["status"] == "passed" and 0 <= result["waited"] < 5
    store.close()
