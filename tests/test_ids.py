import multiprocessing
import re

from app.ids import new_id


def test_ids_are_32_hex_digits_and_unique():
    ids = [new_id() for _ in range(20000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)
    assert len(set(ids)) == len(ids)


def _ids_in_child(queue):
    queue.put([new_id() for _ in range(100)])


def test_a_forked_child_draws_other_ids_than_its_parent():
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_ids_in_child, args=(queue,))
    child.start()
    from_child = queue.get(timeout=30)
    child.join(30)
    assert not set(from_child) & {new_id() for _ in range(100)}
