"""The distilled model: waiting for its job past a custom resource's one-hour limit, then its ARN."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from distill.constructs.bedrock_resource import BedrockResource, Permission, guard_stacks, model_release
from distill.constructs.nag import acknowledge_resource
from distill.constructs.signalled_wait import SignalledWait

JOB_STATE_CHANGE = "Model Customization Job State Change"
JOBS_REASON = (
    "The job's name is known at synth, its ARN (which carries an id Bedrock chooses) only once Bedrock accepted it; "
    "the watcher and the lookup only read jobs and models in this account and Region."
)


class DistilledModelWait(Construct):
    """Waits (up to 12 h) for the distillation job named ``job_name``: its end signals a wait condition, success with
    the model, failure with Bedrock's reason.

    Bedrock's "Model Customization Job State Change" events for the job's name invoke a watcher as soon as the job
    ends (matched on ``detail.jobName``: the documented sample event carries the job ARN in a shorter form than the
    API returns, user guide monitoring-eventbridge-how-it-works.html, read 2026-11-30). Events are best effort, so a
    schedule invokes the same watcher every ``poll_minutes`` as a fallback. Each job has its own wait: its
    resources are named after the job (their construct ids hold the job's 12 hex digits), so a new job gets a new
    handle and a job already waited for is never waited for again. A job longer than 12 hours fails the wait, and
    with it only the serving stack; deploying the stack again waits for the same job. Put it in a stack of its own
    (the app's serving stack), which knows the job by name only: a deploy of this stack lasts until the job ends.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        job_name: str,
        key: kms.IKey,
        poll_minutes: int = 10,
        poll_rule_name: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """``job_name`` is ``DistillationJob.job_name``; ``poll_minutes`` how often the fallback schedule checks
        the job; ``poll_rule_name`` the schedule's EventBridge rule (at most 64 characters, unique in the account
        and Region; default the job's name with ``-poll-`` for ``-distill-``); ``removal_policy`` applies to the
        watcher's log group and dead-letter queue."""
        super().__init__(scope, id)
        stack = Stack.of(self)
        jobs = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        self._wait = SignalledWait(
            self,
            f"Wait{job_name.rsplit('-', 1)[1]}",
            folder="distilled_model_wait",
            description=f"Signals when the distillation job {job_name} ends",
            environment={"JOB_NAME": job_name},
            statements=[iam.PolicyStatement(actions=["bedrock:GetModelCustomizationJob"], resources=[jobs])],
            poll=Duration.minutes(poll_minutes),
            poll_rule_name=poll_rule_name or job_name.replace("-distill-", "-poll-"),
            key=key,
            removal_policy=removal_policy,
            event_pattern=events.EventPattern(
                source=["aws.bedrock"], detail_type=[JOB_STATE_CHANGE], detail={"jobName": [job_name]}
            ),
        )
        acknowledge_resource(self._wait.watcher.policy, "AwsSolutions-IAM5", jobs, JOBS_REASON)
        self.condition = self._wait.condition
        self.poll = self._wait.poll


class DistilledModel(Construct):
    """The custom model the completed job ``job_name`` produced, looked up once the wait is over.

    The wait condition's data holds the model ARN, but CloudFormation types that attribute as an object, so other
    resources cannot take a string from it; this resource reads the model from the job instead and exposes it. Its
    Delete releases the model: one that the training stack's job resource could not delete while it was served is
    deleted here, once nothing serves it (lambda/distilled_model); only models that carry the tag of the stage
    ``stage_name`` (the Stage property) are tagged or deleted (``model_release``), and none while the stack rolls back.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        job_name: str,
        key: kms.IKey,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        wait: DistilledModelWait | None = None,
        rollback_guard_stacks: Sequence[str] = (),
    ) -> None:
        """``wait`` is the job's ``DistilledModelWait``: the lookup runs once it has signalled.
        ``rollback_guard_stacks`` as for ``DistillationJob``."""
        super().__init__(scope, id)
        stack = Stack.of(self)
        guards = guard_stacks(stack, rollback_guard_stacks)
        self._resource = BedrockResource(
            self,
            "Lookup",
            folder="distilled_model",
            resource_type="Custom::BedrockDistilledModel",
            description="Reads the custom model of the stage's completed distillation job, and releases it",
            key=key,
            removal_policy=removal_policy,
            properties={"JobName": job_name, "Stage": stage_name, "GuardStacks": stack.to_json_string(guards)},
            permissions=[
                Permission(
                    actions=["bedrock:GetModelCustomizationJob", "bedrock:GetCustomModel"],
                    resources=[
                        stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*"),
                        stack.format_arn(service="bedrock", resource="custom-model", resource_name="*"),
                    ],
                    wildcard_reason=JOBS_REASON,
                ),
                *model_release(stack, stage_name, guards),
            ],
        )
        if wait is not None:
            self.node.add_dependency(wait.condition)

    @property
    def model_arn(self) -> str:
        return self._resource.attribute("ModelArn")

    @property
    def job_arn(self) -> str:
        return self._resource.attribute("JobArn")

    @property
    def ready(self) -> Construct:
        return self._resource
