"""One deployment environment: the stacks of a stage, named with the stage's prefix."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from distill.config import StageConfig
from distill.stacks.foundation import FoundationStack


class DistillationStage(Stage):
    """Composes the stage's stacks; ``cdk deploy '<stage>/*'`` deploys exactly these."""

    def __init__(self, scope: Construct, stage: StageConfig) -> None:
        super().__init__(scope, stage.name, env=Environment(account=stage.account, region=stage.region))
        self.foundation = FoundationStack(
            self,
            "Foundation",
            stack_name=f"{stage.name}-distillation-foundation",
            description=f"Bedrock distillation ({stage.name}): key, buckets, service role, invocation logging",
            stage=stage,
        )
        for key, value in {"distillation-stage": stage.name, **stage.tags}.items():
            Tags.of(self).add(key, value)
