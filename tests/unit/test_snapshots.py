"""Snapshots of every synthesized template, so a pull request shows each template change as a diff.

Regenerate after an intended change with `make snapshots`, and review the diff like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"


def pairs(templates):
    return [(stage, stack) for stage, stacks in templates.items() for stack in stacks]


def test_every_template_matches_its_snapshot(templates):
    mismatched = []
    for stage, stack in pairs(templates):
        actual = json.dumps(templates[stage][stack].to_json(), indent=1, sort_keys=True) + "\n"
        path = SNAPSHOTS / f"{stage}-{stack}.json"
        if os.environ.get("UPDATE_SNAPSHOTS"):
            SNAPSHOTS.mkdir(exist_ok=True)
            path.write_text(actual)
        elif not path.exists() or path.read_text() != actual:
            mismatched.append(path.name)
    if mismatched:
        pytest.fail(
            "Templates differ from their snapshots: " + ", ".join(mismatched) + ". If the change is intended, run "
            "`make snapshots` and commit the updated files."
        )


def test_no_snapshot_is_left_for_a_stack_that_no_longer_exists(templates):
    expected = {f"{stage}-{stack}.json" for stage, stack in pairs(templates)}
    assert {path.name for path in SNAPSHOTS.glob("*.json")} <= expected
