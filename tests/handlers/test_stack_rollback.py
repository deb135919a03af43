"""Whether the request's stack rolls back, and the stage's stacks a release looks at (lambda/shared/python/
stack_rollback.py)."""

from __future__ import annotations

import pytest
import stack_rollback

from tests.handlers.conftest import own_stack_is

STACK_ID = (
    "arn:aws:cloudformation:us-west-2:123456789012:stack/sandbox-distillation-support-assistant-serving/"
    "c4d7e0f3-cd44-11f0-b1a4-0a7d3e9f1c25"
)


@pytest.mark.parametrize(
    ("status", "rolling_back"),
    [
        ("UPDATE_ROLLBACK_IN_PROGRESS", True),
        ("ROLLBACK_IN_PROGRESS", True),
        ("IMPORT_ROLLBACK_IN_PROGRESS", True),
        ("UPDATE_IN_PROGRESS", False),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", False),
        ("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", False),
        ("DELETE_IN_PROGRESS", False),
        ("CREATE_IN_PROGRESS", False),
    ],
)
def test_a_stack_rolls_back_while_its_status_says_a_rollback_is_in_progress(cloudformation, status, rolling_back):
    own_stack_is(cloudformation.stubber, STACK_ID, status)
    assert stack_rollback.rolling_back(cloudformation, STACK_ID) is rolling_back
