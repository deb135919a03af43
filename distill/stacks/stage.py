"""One deployment environment: the stacks of a stage, named with the stage's prefix."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from distill.config.stages import StageConfig
from distill.constructs.names import STAGE_TAG, stack_name
from distill.stacks.foundation import FoundationStack
from distill.stacks.serving import ServingStack
from distill.stacks.training import TrainingStack


class DistillationStage(Stage):
    """Composes the stage's stacks; ``cdk deploy '<stage>/*'`` deploys exactly these.

    Foundation always; Training when the stage distils; Serving when there is a model to serve (its own job's, or
    a copy of another stage's). ``smoke_test_account`` is the delivery pipeline's account, allowed to call the
    served model after a deployment.
    """

    def __init__(self, scope: Construct, stage: StageConfig, *, smoke_test_account: str | None = None) -> None:
        super().__init__(scope, stage.name, env=Environment(account=stage.account, region=stage.region))
        self.config = stage
        self.foundation = FoundationStack(
            self,
            "Foundation",
            stack_name=stack_name(stage.name, "foundation"),
            description=f"Bedrock distillation ({stage.name}): key, buckets, service role, invocation logging",
            stage=stage,
        )
        self.training: TrainingStack | None = None
        self.serving: ServingStack | None = None
        if stage.distillation is not None:
            self.training = TrainingStack(
                self,
                "Training",
                stack_name=stack_name(stage.name, "training"),
                description=f"Bedrock distillation ({stage.name}): training data and the distillation job",
                stage=stage,
                foundation=self.foundation,
            )
        if stage.serving is not None:
            self.serving = ServingStack(
                self,
                "Serving",
                stack_name=stack_name(stage.name, "serving"),
                description=f"Bedrock distillation ({stage.name}): obtains the distilled model and serves it",
                stage=stage,
                foundation=self.foundation,
                job=self.training.job if self.training is not None else None,
                smoke_test_account=smoke_test_account,
            )
            if self.training is not None:
                # The serving stack waits for the job by its name, known at synth: no reference orders the stacks.
                self.serving.add_stack_dependency(self.training)
        for key, value in {**stage.tags, STAGE_TAG: stage.name}.items():
            Tags.of(self).add(key, value)
