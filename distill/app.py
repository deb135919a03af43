"""Builds the CDK app from its context: one Stage per configured stage, each checked by its cdk-nag packs."""

from __future__ import annotations

from aws_cdk import App, Environment, Validations

from distill.config.stages import load_app
from distill.constructs.checks import checks_for
from distill.stacks.pipeline import DeliveryPipelineStack
from distill.stacks.stage import DistillationStage


def build_app(app: App) -> dict[str, DistillationStage]:
    """Add every configured stage to ``app``; raise ``ConfigError`` on bad settings.

    Stages that the pipeline deploys are built inside the pipeline stack (``DeliveryPipeline/<stage>``); the others
    at the top level, for ``cdk deploy '<stage>/*'``.
    """
    config = load_app(app.node.get_all_context())
    built: dict[str, DistillationStage] = {}
    if config.pipeline is not None:
        pipeline = DeliveryPipelineStack(
            app,
            "DeliveryPipeline",
            stack_name="bedrock-distillation-pipeline",
            env=Environment(account=config.pipeline.account, region=config.pipeline.region),
            pipeline=config.pipeline,
            stages=config.stages,
        )
        Validations.of(app).add_plugins(*checks_for(pipeline, ()))
        built.update(pipeline.stages)
    for name, stage_config in config.stages.items():
        if name not in built:
            built[name] = DistillationStage(app, stage_config)
    for name, stage in built.items():
        Validations.of(app).add_plugins(*checks_for(stage, config.stages[name].compliance_packs))
    return built
