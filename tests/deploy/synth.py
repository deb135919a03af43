"""Stages synthesized by the app itself, as the CDK CLI would deploy them: templates, assets and stack order.

A synth costs about a second, so each distinct stage configuration is synthesized once per test session.
"""

from __future__ import annotations

import contextlib
import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from aws_cdk import App

from distill.app import build_app
from tests.conftest import stand_in_sharing
from tests.deploy.cloudformation import StackTemplate
from tests.deploy.world import DEFAULT_ACCOUNT

ROOT = Path(__file__).resolve().parents[2]


def project_context() -> dict[str, Any]:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def synthesize(
    name: str, stage: dict[str, Any], *extra: tuple[str, dict[str, Any]], sharing_stand_in: bool = False
) -> dict[str, list[StackTemplate]]:
    """``{stage name: its stacks in deployment order}`` for ``stage`` (and any ``extra`` stages it refers to);
    ``sharing_stand_in`` synthesizes with the tests' stand-in sharing entry (tests/conftest.py)."""
    return _synthesize(json.dumps([[name, stage], *[[n, s] for n, s in extra]], sort_keys=True), sharing_stand_in)


@cache
def _synthesize(key: str, sharing_stand_in: bool) -> dict[str, list[StackTemplate]]:
    context = copy.deepcopy(project_context())
    context["stages"] = {name: stage for name, stage in json.loads(key)}
    context["pipeline"] = {"enabled": False}
    app = App(context=context, analytics_reporting=False)
    with stand_in_sharing() if sharing_stand_in else contextlib.nullcontext():
        build_app(app)
    assembly = app.synth()
    by_stage: dict[str, list[StackTemplate]] = {}
    for artifact in assembly.stacks_recursively:
        directory = Path(artifact.template_full_path).parent
        manifest = json.loads((directory / f"{artifact.id}.assets.json").read_text())
        assets = {
            asset_id: {
                "path": (directory / asset["source"]["path"]).resolve(),
                "packaging": asset["source"].get("packaging", "file"),
                "destinations": asset["destinations"],
            }
            for asset_id, asset in manifest.get("files", {}).items()
        }
        account = artifact.environment.account
        stack = StackTemplate(
            name=artifact.stack_name,
            template=artifact.template,
            account=DEFAULT_ACCOUNT if account == "unknown-account" else account,
            region=artifact.environment.region,
            assets=assets,
            depends_on=[d.id for d in artifact.dependencies],
        )
        stage_name = artifact.hierarchical_id.split("/", 1)[0]
        by_stage.setdefault(stage_name, []).append(stack)
    return by_stage
