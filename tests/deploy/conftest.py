"""Fixtures of the deploy simulator: a fresh simulated world for each scenario."""

from __future__ import annotations

import pytest

from tests.deploy.world import World


@pytest.fixture
def world():
    simulated = World()
    with simulated.active():
        yield simulated
