"""Builds the CDK app from its context: one Stage per configured stage, each checked by its cdk-nag packs."""

from __future__ import annotations

from aws_cdk import App, Validations

from distill.compliance import checks_for
from distill.config import STAGES_KEY, load_stages
from distill.stacks.stage import DistillationStage


def build_app(app: App) -> dict[str, DistillationStage]:
    """Add every stage configured in the app's context to ``app``; raise ``ConfigError`` on bad settings."""
    built = {}
    for name, config in load_stages(app.node.try_get_context(STAGES_KEY)).items():
        stage = DistillationStage(app, config)
        Validations.of(app).add_plugins(*checks_for(stage, config.compliance_packs))
        built[name] = stage
    return built
