"""``synth``: a construct built alone in a bare stack and synthesized with the cdk-nag packs, into a temporary
folder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import Stack

from tests.constructs.bare import Bare, synth_bare


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Callable[[Callable[[Stack], Any]], Bare[Any]]:
    def run(build: Callable[[Stack], Any]) -> Bare[Any]:
        return synth_bare(build, tmp_path_factory.mktemp("bare"))

    return run
