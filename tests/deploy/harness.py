"""A stage of the app deployed into a simulated world, step by step, as a user runs `cdk deploy` and `cdk destroy`."""

from __future__ import annotations

import copy
from typing import Any

from distill.constructs.names import model_stack_name, stack_name
from tests.deploy.cloudformation import Stack, StackTemplate
from tests.deploy.invariants import NOTHING_SPECIAL, Expectations, violations
from tests.deploy.synth import project_context, synthesize
from tests.deploy.world import World

# What `cdk deploy '<stage>/*'` deploys, in order: the shared foundation, each model's stacks, the dashboard.
PARTS = ("foundation", "training", "serving", "dashboard")
STAGE_PARTS = ("foundation", "dashboard")


def stage_config(base: str = "dev", **changes: Any) -> dict[str, Any]:
    """The shipped ``base`` stage of cdk.json with ``changes`` merged in (a None value removes a key: a model, say)."""
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

    @property
    def models(self) -> tuple[str, ...]:
        """The stage's models, in cdk.json's order."""
        return tuple(self.config.get("models", {}))

    def stacks(self, config: dict[str, Any] | None = None) -> list[StackTemplate]:
        synthesized = synthesize(self.name, config or self.config, *self.others, sharing_stand_in=self.sharing_stand_in)
        return synthesized[self.name]

    def deploy(
        self,
        config: dict[str, Any] | None = None,
        *,
        parts: tuple[str, ...] = PARTS,
        models: tuple[str, ...] | None = None,
    ) -> dict[str, str]:
        """`cdk deploy` of the stage's stacks of ``parts``; with ``models``, of those models' stacks only (as
        `cdk deploy '<stage>/<model>-*'` does, with the stacks they depend on that are already deployed)."""
        if config is not None:
            self.config = config
        wanted = set(self.stack_names(parts, models))
        stacks = [s for s in self.stacks() if s.name in wanted]
        results = self.world.deploy(stacks)
        self.history.append(("deploy", results))
        return results

    def destroy(
        self, parts: tuple[str, ...] = tuple(reversed(PARTS)), models: tuple[str, ...] | None = None
    ) -> dict[str, str]:
        """`cdk destroy` of the stacks of ``parts`` (of ``models``, or every model), dependents first."""
        results = self.world.destroy(self.stack_names(parts, models))
        self.history.append(("destroy", results))
        return results

    def stack_names(self, parts: tuple[str, ...], models: tuple[str, ...] | None = None) -> list[str]:
        """The names of the stage's stacks of ``parts``, in the order given (for each part, each model's)."""
        names = []
        for part in parts:
            if part in STAGE_PARTS:
                if models is None:
                    names.append(stack_name(self.name, part))
            else:
                names += [model_stack_name(self.name, model, part) for model in (models or self.models)]
        return names

    def stack(self, part: str, model: str | None = None) -> Stack | None:
        """The deployed stack of ``part``: the stage's foundation or dashboard, or a model's training or serving
        stack (``model``, default the stage's one model)."""
        if part in STAGE_PARTS:
            return self.world.engine.stacks.get(stack_name(self.name, part))
        if model is None:
            (model,) = self.models
        return self.world.engine.stacks.get(model_stack_name(self.name, model, part))

    def resource(self, part: str, resource_type: str, model: str | None = None):
        stack = self.stack(part, model)
        found = [r for r in stack.resources.values() if r.type == resource_type] if stack else []
        assert len(found) == 1, f"{len(found)} resources of type {resource_type} in {part}"
        return found[0]

    def violations(self) -> list[str]:
        return violations(self.world, self.expect)

    def assert_invariants(self) -> None:
        problems = self.violations()
        assert not problems, "Lifecycle invariants broken:\n  - " + "\n  - ".join(problems)
