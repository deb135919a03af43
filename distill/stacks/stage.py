"""One deployment environment: the stacks of a stage, named with the stage's prefix."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from distill.config import StageConfig
from distill.stacks.foundation import FoundationStack
from distill.stacks.serving import ServingStack
from distill.stacks.training import TrainingStack


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
        self.training: TrainingStack | None = None
        self.serving: ServingStack | None = None
        if stage.distillation is not None:
            self.training = TrainingStack(
                self,
                "Training",
                stack_name=f"{stage.name}-distillation-training",
                description=f"Bedrock distillation ({stage.name}): training data and the distillation job",
                stage=stage,
                foundation=self.foundation,
            )
            self.serving = ServingStack(
                self,
                "Serving",
                stack_name=f"{stage.name}-distillation-serving",
                description=f"Bedrock distillation ({stage.name}): waits for the distilled model and serves it",
                stage=stage,
                foundation=self.foundation,
            )
            # The job's ARN reaches the serving stack through SSM, so the order must be explicit.
            self.serving.add_stack_dependency(self.training)
        for key, value in {"distillation-stage": stage.name, **stage.tags}.items():
            Tags.of(self).add(key, value)
