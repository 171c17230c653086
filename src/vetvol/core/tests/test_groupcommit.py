"""Group commit: concurrent submissions are written in batches, and each gets its own answer."""

import threading
import time

import pytest

from vetvol.core.groupcommit import GroupCommit


def test_a_lone_request_is_a_batch_of_one():
    batches = []
    group = GroupCommit(lambda items: batches.append(list(items)) or [i * 2 for i in items])
    assert group.submit(21) == 42
    assert group.submit(5) == 10
    assert batches == [[21], [5]]


def _hammer(group, items):
    answers, errors = {}, {}
    start = threading.Barrier(len(items))

    def one(item):
        start.wait()
        try:
            answers[item] = group.submit(item)
        except Exception as exc:
            errors[item] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return answers, errors


def test_concurrent_submissions_share_batches_and_each_gets_its_own_answer():
    batches = []

    def apply(items):
        batches.append(list(items))
        time.sleep(0.01)  # a batch takes a while to write: later arrivals queue for the next one
        return [ValueError(f"odd {i}") if i % 7 == 0 else i * 10 for i in items]

    group = GroupCommit(apply, max_batch=16)
    answers, errors = _hammer(group, list(range(1, 61)))
    assert answers == {i: i * 10 for i in range(1, 61) if i % 7}
    assert {i: str(e) for i, e in errors.items()} == {i: f"odd {i}" for i in range(7, 61, 7)}
    assert sorted(i for b in batches for i in b) == list(range(1, 61))  # each written exactly once
    assert max(len(b) for b in batches) > 1
    assert max(len(b) for b in batches) <= 16


def test_a_failing_batch_is_retried_one_by_one():
    calls = []

    def apply(items):
        calls.append(list(items))
        time.sleep(0.005)
        if 13 in items:
            raise RuntimeError("bad row 13")
        return [i + 1 for i in items]

    answers, errors = _hammer(GroupCommit(apply), list(range(1, 31)))
    assert answers == {i: i + 1 for i in range(1, 31) if i != 13}
    assert list(errors) == [13] and str(errors[13]) == "bad row 13"


def test_an_error_escaping_apply_reaches_every_waiter_and_the_group_recovers():
    def apply(items):
        time.sleep(0.005)
        raise KeyboardInterrupt  # not an Exception: not retried item by item

    group = GroupCommit(apply)
    answers, errors = {}, {}
    with pytest.raises(KeyboardInterrupt):
        group.submit(1)
    group.apply = lambda items: list(items)
    answers, errors = _hammer(group, list(range(10)))
    assert answers == {i: i for i in range(10)} and not errors


def test_a_lone_request_does_not_wait_to_gather_company():
    group = GroupCommit(lambda items: list(items), gather_s=1.0)
    start = time.monotonic()
    assert [group.submit(i) for i in range(3)] == [0, 1, 2]
    assert time.monotonic() - start < 0.5  # batches of one: never crowded, never waiting


def test_under_load_a_leader_waits_for_the_requests_on_their_way():
    """After a batch that had company, the next leader waits gather_s: requests arriving one by one, a few
    milliseconds apart, then share its batch instead of being written one at a time."""
    batches = []

    def apply(items):
        batches.append(len(items))
        if len(batches) == 1:
            time.sleep(0.05)  # the first batch is slow: the others queue behind it, so the load is seen
        return [i + 1 for i in items]

    group = GroupCommit(apply, gather_s=0.3)
    answers, errors = _hammer(group, [100, 101, 102])
    assert answers == {100: 101, 101: 102, 102: 103} and not errors and max(batches) > 1
    batches.clear()

    results = {}

    def one(i):
        results[i] = group.submit(i)

    threads = []
    for i in range(10):  # one every 5 ms: alone, each would find the queue empty and be written alone
        threads.append(threading.Thread(target=one, args=(i,)))
        threads[-1].start()
        time.sleep(0.005)
    for t in threads:
        t.join(timeout=30)
    assert results == {i: i + 1 for i in range(10)}
    assert batches[0] >= 5, batches  # the first leader waited and took the late arrivals with it
