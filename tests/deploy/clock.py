"""Simulated time: hours of Bedrock work pass in microseconds, and a Lambda invocation ends at its timeout."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable


class InvocationTimedOut(BaseException):
    """Raised inside a handler when simulated time passes its function's timeout, as Lambda ends the invocation.

    A BaseException, so that a handler's ``except Exception`` cannot swallow it: Lambda's timeout is not an error the
    code sees, it is the end of the process.
    """


class Clock:
    """The simulation's only time source: ``time()`` for handlers, ``sleep()`` and ``advance()`` move it forward.

    Background work (Bedrock finishing a job, an EventBridge schedule firing) is a timer; the engine runs timers in
    time order between stack operations and while CloudFormation waits. A handler's ``sleep`` only moves the clock:
    like the real world, nothing else happens "inside" a running handler, but whatever was due has happened by the
    time it makes its next call (the fake services settle their state at every call).
    """

    START = 1_795_000_000.0  # 2026-11-17, a fixed, deterministic start

    def __init__(self) -> None:
        self.now = self.START
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._deadlines: list[float] = []

    def time(self) -> float:
        return self.now

    monotonic = time

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        target = self.now + max(0.0, seconds)
        if self._deadlines and target > self._deadlines[-1]:
            self.now = self._deadlines[-1]
            raise InvocationTimedOut()
        self.now = target

    def call_at(self, when: float, callback: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (when, next(self._sequence), callback))

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        self.call_at(self.now + delay, callback)

    def next_timer(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def run_next(self) -> bool:
        """Run the earliest timer (moving the clock to its time if it lies ahead); False when there is none."""
        if not self._timers:
            return False
        when, _, callback = heapq.heappop(self._timers)
        self.now = max(self.now, when)
        callback()
        return True

    def run_until(self, when: float, stop: Callable[[], bool] = lambda: False) -> None:
        """Run timers up to ``when`` (or until ``stop()`` holds), then move the clock to ``when`` unless stopped."""
        while not stop():
            upcoming = self.next_timer()
            if upcoming is None or upcoming > when:
                self.now = max(self.now, when)
                return
            self.run_next()

    def deadline(self, when: float) -> _Deadline:
        """Within ``with clock.deadline(t):``, moving time past ``t`` raises InvocationTimedOut."""
        return _Deadline(self, when)


class _Deadline:
    def __init__(self, clock: Clock, when: float) -> None:
        self.clock = clock
        self.when = when

    def __enter__(self) -> None:
        self.clock._deadlines.append(min(self.when, *self.clock._deadlines) if self.clock._deadlines else self.when)

    def __exit__(self, *exc) -> None:
        self.clock._deadlines.pop()
