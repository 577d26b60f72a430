import json
import threading

from app.store import ResultStore


def doc(run_id, status="in-progress", start="2026-01-01T00:00:00"):
    return {"unique_id": run_id, "status": status, "startTimestamp": start, "results": []}


def test_save_replaces_by_unique_id(store):
    store.save(doc("a"))
    store.save(doc("a", "complete"))
    assert [d["status"] for d in store.runs()] == ["complete"]


def test_runs_newest_first_filtered_and_limited(store):
    store.save(doc("old", "failed", "2026-01-01"))
    store.save(doc("new", "complete", "2026-02-01"))
    assert [d["unique_id"] for d in store.runs()] == ["new", "old"]
    assert [d["unique_id"] for d in store.runs(status="failed")] == ["old"]
    assert len(store.runs(last=1)) == 1


def test_returned_documents_are_copies(store):
    store.save(doc("a"))
    store.get("a")["results"].append("oops")
    assert store.get("a")["results"] == []


def test_flush_writes_valid_json_and_reopen_reads_it(tmp_path):
    path = tmp_path / "db.json"
    first = ResultStore(path)
    first.save(doc("a", "complete"))
    first.close()
    assert json.loads(path.read_text())["_default"]["1"]["unique_id"] == "a"
    again = ResultStore(path)
    again.save(doc("b"))
    assert {d["unique_id"] for d in again.runs()} == {"a", "b"}
    again.close()


def test_no_temp_files_left_behind(tmp_path):
    store = ResultStore(tmp_path / "db.json")
    for i in range(20):
        store.save(doc(str(i)))
        store.flush()
    store.close()
    assert [p.name for p in tmp_path.iterdir()] == ["db.json"]


def test_concurrent_writers_lose_nothing(store):
    def work(n):
        for i in range(50):
            store.save(doc(f"{n}-{i}"))
            store.save(doc(f"{n}-{i}", "complete"))
    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.flush()
    on_disk = json.loads(store.path.read_text())["_default"].values()
    assert len(on_disk) == 400 and all(d["status"] == "complete" for d in on_disk)


def test_interrupted_runs_are_marked_at_start(tmp_path):
    path = tmp_path / "db.json"
    first = ResultStore(path)
    first.save(doc("left", "in-progress"))
    first.save(doc("done", "complete"))
    first.close()
    again = ResultStore(path)
    assert again.interrupt_unfinished("2026-11-22T00:00:00") == 1
    left = again.get("left")
    assert left["status"] == "interrupted" and left["endTimeStamp"] == "2026-11-22T00:00:00"
    assert again.get("done")["status"] == "complete"
    again.close()


def test_corrupt_file_is_kept_aside_not_lost(tmp_path):
    path = tmp_path / "db.json"
    path.write_text("{not json")
    store = ResultStore(path)
    assert store.runs() == []
    assert (tmp_path / "db.corrupt.json").read_text() == "{not json"
    store.close()
