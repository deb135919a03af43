"""One deployment environment: the stage's shared foundation, then a training and a serving stack per model."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from distill.config.stages import ModelConfig, StageConfig
from distill.constructs.names import MODEL_TAG, STAGE_TAG, model_stack_name, stack_name
from distill.stacks.dashboard import DashboardStack
from distill.stacks.foundation import FoundationStack
from distill.stacks.serving import ServingStack
from distill.stacks.training import TrainingStack


@dataclass
class ModelStacks:
    """The stacks of one model of the stage: training when the stage distils it, serving always."""

    config: ModelConfig
    training: TrainingStack | None
    serving: ServingStack


class DistillationStage(Stage):
    """Composes the stage's stacks; ``cdk deploy '<stage>/*'`` deploys exactly these, and
    ``cdk deploy '<stage>/<model>-*'`` one model's.

    The foundation (key, buckets, service role, invocation logging, notifications, budget) once; then per model
    ``<stage>-<model>-training`` when the stage distils it and ``<stage>-<model>-serving``; and, with any model,
    ``<stage>-distillation-dashboard`` with a row per model. ``smoke_test_account`` is the delivery pipeline's
    account, allowed to call the served models after a deployment.

    The jobs start in turn: the account runs at most ``concurrentJobs`` customization jobs at once (Bedrock's
    default quota is 2), so the training stack of the n-th distilling model depends on the serving stack of the
    (n - concurrentJobs)-th, which completes only once that model's job has ended. A deploy of the whole stage never
    asks Bedrock for a job beyond the quota, whatever the number of models.
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
        self.models: dict[str, ModelStacks] = {}
        distilled: list[ServingStack] = []
        for model in stage.models.values():
            stacks = self._model_stacks(stage, model, smoke_test_account)
            if stacks.training is not None:
                if len(distilled) >= stage.concurrent_jobs:
                    # The job of the model concurrentJobs places ahead has ended once its serving stack is done.
                    stacks.training.add_stack_dependency(distilled[-stage.concurrent_jobs])
                distilled.append(stacks.serving)
            self.models[model.name] = stacks
        self.dashboard: DashboardStack | None = None
        if self.models:
            self.dashboard = DashboardStack(
                self,
                "Dashboard",
                stack_name=stack_name(stage.name, "dashboard"),
                description=f"Bedrock distillation ({stage.name}): the dashboard, a row per model",
                stage_name=stage.name,
                models={name: stacks.serving for name, stacks in self.models.items()},
            )
        for key, value in {**stage.tags, STAGE_TAG: stage.name}.items():
            Tags.of(self).add(key, value)

    def _model_stacks(self, stage: StageConfig, model: ModelConfig, smoke_test_account: str | None) -> ModelStacks:
        training = None
        if model.distillation is not None:
            training = TrainingStack(
                self,
                f"{model.name}-training",
                stack_name=model_stack_name(stage.name, model.name, "training"),
                description=f"Bedrock distillation ({stage.name}, {model.name}): the training data and the job",
                stage=stage,
                model=model,
                foundation=self.foundation,
            )
        serving = ServingStack(
            self,
            f"{model.name}-serving",
            stack_name=model_stack_name(stage.name, model.name, "serving"),
            description=f"Bedrock distillation ({stage.name}, {model.name}): obtains the distilled model and serves it",
            stage=stage,
            model=model,
            foundation=self.foundation,
            job=training.job if training is not None else None,
            smoke_test_account=smoke_test_account,
        )
        if training is not None:
            # The serving stack waits for the job by its name, known at synth: no reference orders the stacks.
            serving.add_stack_dependency(training)
        for stack in (training, serving):
            if stack is not None:
                Tags.of(stack).add(MODEL_TAG, model.name)
        return ModelStacks(model, training, serving)
