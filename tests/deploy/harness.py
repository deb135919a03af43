"""A stage of the app deployed into a simulated world, step by step, as a user runs `cdk deploy` and `cdk destroy`."""

from __future__ import annotations

import copy
from typing import Any

from tests.deploy.cloudformation import Stack, StackTemplate
from tests.deploy.invariants import NOTHING_SPECIAL, Expectations, violations
from tests.deploy.synth import project_context, synthesize
from tests.deploy.world import World

PARTS = ("foundation", "training", "serving")


def stage_config(base: str = "dev", **changes: Any) -> dict[str, Any]:
    """The shipped ``base`` stage of cdk.json with ``changes`` merged in (a None value removes a key)."""
    config = copy.deepcopy(project_context()["stages"][base])
    _merge(config, changes)
    return config


def _merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class StageDeployment:
    """One stage, its configuration changing over time, deployed into ``world``; every step checks the invariants."""

    def __init__(
        self,
        world: World,
        name: str,
        config: dict[str, Any],
        expect: Expectations = NOTHING_SPECIAL,
        *,
        others: tuple[tuple[str, dict[str, Any]], ...] = (),
        sharing_stand_in: bool = False,
    ):
        """``others`` are stages the configuration refers to (a modelSource's source stage), synthesized with it."""
        self.world = world
        self.name = name
        self.config = config
        self.expect = expect
        self.others = others
        self.sharing_stand_in = sharing_stand_in
        self.history: list[tuple[str, dict[str, str]]] = []

    def stacks(self, config: dict[str, Any] | None = None) -> list[StackTemplate]:
        synthesized = synthesize(self.name, config or self.config, *self.others, sharing_stand_in=self.sharing_stand_in)
        return synthesized[self.name]

    def deploy(self, config: dict[str, Any] | None = None, *, parts: tuple[str, ...] = PARTS) -> dict[str, str]:
        if config is not None:
            self.config = config
        stacks = [s for s in self.stacks() if s.name.rsplit("-", 1)[1] in parts]
        results = self.world.deploy(stacks)
        self.history.append(("deploy", results))
        return results

    def destroy(self, parts: tuple[str, ...] = tuple(reversed(PARTS))) -> dict[str, str]:
        results = self.world.destroy([f"{self.name}-distillation-{part}" for part in parts])
        self.history.append(("destroy", results))
        return results

    def stack(self, part: str) -> Stack | None:
        return self.world.engine.stacks.get(f"{self.name}-distillation-{part}")

    def resource(self, part: str, resource_type: str):
        stack = self.stack(part)
        found = [r for r in stack.resources.values() if r.type == resource_type] if stack else []
        assert len(found) == 1, f"{len(found)} resources of type {resource_type} in {part}"
        return found[0]

    def violations(self) -> list[str]:
        return violations(self.world, self.expect)

    def assert_invariants(self) -> None:
        problems = self.violations()
        assert not problems, "Lifecycle invariants broken:\n  - " + "\n  - ".join(problems)
