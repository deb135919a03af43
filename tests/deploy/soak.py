"""`make soak`: thousands of random sequences through the deploy simulator, then what was checked.

SOAK_EXAMPLES (default 2000) sequences of up to SOAK_STEPS (default 12) steps each; any invariant broken fails with
the shortest sequence Hypothesis finds that breaks it.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

from tests.deploy.invariants import INVARIANTS


def main() -> int:
    os.environ.setdefault("SOAK_EXAMPLES", "2000")
    os.environ.setdefault("SOAK_STEPS", "12")
    started = time.monotonic()
    status = pytest.main(["-q", "-p", "no:cacheprovider", "tests/deploy/test_random_sequences.py"])
    from tests.deploy.test_random_sequences import COUNTS

    print(
        f"\nsoak: {COUNTS['sequences']} sequences, {COUNTS['steps']} steps checked in "
        f"{time.monotonic() - started:.0f} s; {'all invariants held' if status == 0 else 'AN INVARIANT BROKE'}:"
    )
    for invariant in INVARIANTS:
        print(f"  - {invariant}")
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
