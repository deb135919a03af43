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
    status = pytest.main(["-q", "-p", "no:cacheprovider", "--show-capture=no", "tests/deploy/test_random_sequences.py"])
    from tests.deploy.test_random_sequences import COUNTS

    asked = os.environ["SOAK_EXAMPLES"]
    print(
        f"\nsoak: {COUNTS['sequences']} sequences run ({asked} asked for; Hypothesis runs more while it shrinks a "
        f"failure), {COUNTS['steps']} steps checked, in {time.monotonic() - started:.0f} s."
    )
    if status != 0:
        print("An invariant broke: the shortest sequence that breaks it, and which one, are shown above.")
        return int(status)
    print("Every invariant held after every step:")
    for invariant in INVARIANTS:
        print(f"  - {invariant}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
