"""Group commit: requests arriving together in one process are applied together, in one transaction.

A thousand volunteers checking in at the gate of a big event send the same small write at once. Done one
by one, each pays for its own transaction: half a dozen round trips to the database, a lock on an audit
chain head, a WAL flush. `GroupCommit(apply)` lets the requests that arrive while a batch is being written
wait for the next batch instead, and `apply(items)` writes a whole batch with set-based statements.

Leader and followers, no extra thread: the first request to arrive leads, taking the queue (itself
included) as a batch, and answering every request in it. When its batch is written it hands the lead to the
oldest waiting request, if any, and returns its own answer, so no request waits for more than the batch in
front of it and its own. A lone request (a quiet day, a test) is a batch of one and costs what it cost
before. Under load (the last batch had company) a new leader first waits `gather_s` for the requests on
their way, as a database's commit delay does. The leader writes on its own thread's database connection.

`apply(items)` returns one answer per item, in order: a value, or the exception for that item alone. If it
raises, the batch is retried one item at a time, so one bad request cannot fail the others.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    __slots__ = ("answer", "done", "error", "item", "lead")

    def __init__(self, item: T) -> None:
        self.item = item
        self.answer: R | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.lead = False  # woken to lead the next batch, not with an answer

    def result(self) -> R:
        if self.error is not None:
            raise self.error
        return self.answer  # type: ignore[return-value]


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        apply: Callable[[list[T]], Sequence[R | BaseException]],
        max_batch: int = 200,
        gather_s: float = 0.0,
    ) -> None:
        self.apply = apply
        self.max_batch = max_batch
        self.gather_s = gather_s
        self._crowded = False  # the last batch had company: the next leader waits gather_s for more
        self._lock = threading.Lock()
        self._queue: deque[_Slot[T, R]] = deque()
        self._leading = False  # a request is writing a batch; while it is, the queue is never left waiting

    def submit(self, item: T) -> R:
        """The answer for `item` (or its exception, raised), once a batch holding it is written."""
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            self._leading = True
        if not lead:
            slot.done.wait()
            if not slot.lead:
                return slot.result()
        batch: list[_Slot[T, R]] = []
        try:
            if self._crowded and self.gather_s:
                time.sleep(self.gather_s)  # under load: let the requests on their way join this batch
            with self._lock:
                while self._queue and len(batch) < self.max_batch:
                    batch.append(self._queue.popleft())
                self._crowded = len(batch) > 1
            self._write(batch)
        except BaseException as exc:
            for other in batch:
                if not other.done.is_set() or other.lead:
                    other.lead, other.error = False, exc
                    other.done.set()
            raise
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    successor.done.set()
                else:
                    self._leading = False
        return slot.result()

    def _write(self, batch: list[_Slot[T, R]]) -> None:
        items = [s.item for s in batch]
        try:
            answers: Sequence[R | BaseException] = self.apply(items)
        except Exception:
            if len(batch) == 1:
                raise
            answers = [self._alone(item) for item in items]
        if len(answers) != len(batch):
            raise RuntimeError(f"apply() answered {len(answers)} of {len(batch)} items")
        for s, answer in zip(batch, answers, strict=True):
            if isinstance(answer, BaseException):
                s.error = answer
            else:
                s.answer = answer
            s.lead = False
            s.done.set()

    def _alone(self, item: T) -> R | BaseException:
        try:
            return self.apply([item])[0]
        except Exception as exc:
            return exc
