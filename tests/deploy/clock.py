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
    time order between stack operations and while CloudFormation waits. While a handler runs, its ``sleep`` only
    moves the clock; the services' own timers that fell due meanwhile (a throughput becoming InService) run when it
    next calls a service (``run_due_services``), so a handler that waits sees AWS move on. Deliveries (EventBridge
    invoking functions) wait for the engine, as they would run in other processes.
    """

    START = 1_795_000_000.0  # 2026-11-17, a fixed, deterministic start

    def __init__(self) -> None:
        self.now = self.START
        self._timers: list[tuple[float, int, Callable[[], None], bool]] = []
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

    def call_at(self, when: float, callback: Callable[[], None], *, service: bool = False) -> None:
        """``service``: a fake service's own state change, which may run while a handler runs."""
        heapq.heappush(self._timers, (when, next(self._sequence), callback, service))

    def call_later(self, delay: float, callback: Callable[[], None], *, service: bool = False) -> None:
        self.call_at(self.now + delay, callback, service=service)

    def run_due_services(self) -> None:
        """Run the services' timers that are due by now, leaving deliveries for the engine."""
        due = sorted(t for t in self._timers if t[3] and t[0] <= self.now)
        for timer in due:
            self._timers.remove(timer)
        heapq.heapify(self._timers)
        for _, _, callback, _ in due:
            callback()

    def next_timer(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def run_next(self) -> bool:
        """Run the earliest timer (moving the clock to its time if it lies ahead); False when there is none."""
        if not self._timers:
            return False
        when, _, callback, _ = heapq.heappop(self._timers)
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
