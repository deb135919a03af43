"""Waiting for the distilled model without holding a custom resource past CloudFormation's one-hour limit."""

from __future__ import annotations

from aws_cdk import CfnWaitCondition, CfnWaitConditionHandle, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from distill.constructs.bedrock_resource import BedrockResource, Permission
from distill.constructs.data_key import DataKey
from distill.constructs.handler_function import HandlerFunction
from distill.nag import acknowledge, rendered

# CloudFormation's limit for a wait condition: 12 hours.
MAX_WAIT = Duration.hours(12)
JOB_STATE_CHANGE = "Model Customization Job State Change"


class DistilledModelWait(Construct):
    """A wait condition (up to 12 h) that the job's end signals: success carries the model, failure Bedrock's reason.

    A rule on Bedrock's "Model Customization Job State Change" events invokes a watcher as soon as the job ends.
    Events are delivered on a best-effort basis, so a scheduled rule invokes the same watcher every
    ``poll_minutes`` as a fallback; the watcher reads the job's status itself and disables the schedule once it
    has signalled. One wait belongs to one job: its construct id carries the job's fingerprint, so a new job gets
    a new handle, a new wait condition and a new schedule.

    A job that runs longer than 12 hours fails the wait, and with it only the serving stack; deploying the stack
    again resumes waiting for the same job.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        job_arn: str,
        poll_minutes: int,
        poll_rule_name: str,
        key: DataKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        handle = CfnWaitConditionHandle(self, "Handle")
        watcher = HandlerFunction(
            self,
            "Watcher",
            folder="job_watcher",
            entry="index.handler",
            description="Signals the serving stack's wait condition when the distillation job ends",
            key=key.key,
            removal_policy=removal_policy,
            environment={"JOB_ARN": job_arn, "WAIT_HANDLE_URL": handle.ref, "POLL_RULE_NAME": poll_rule_name},
        )
        jobs = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        watcher.add_to_role_policy(iam.PolicyStatement(actions=["bedrock:GetModelCustomizationJob"], resources=[jobs]))
        acknowledge(
            watcher.policy,
            f"AwsSolutions-IAM5[Resource::{rendered(self, jobs)}]",
            "The job's ARN reaches this stack at deploy time through an SSM parameter; the watcher only reads job "
            "status in this account and Region.",
        )
        poll_rule_arn = stack.format_arn(service="events", resource="rule", resource_name=poll_rule_name)
        watcher.add_to_role_policy(iam.PolicyStatement(actions=["events:DisableRule"], resources=[poll_rule_arn]))

        self.state_changes = events.Rule(
            self,
            "JobStateChanges",
            description="Bedrock reports a state change of the stage's distillation job",
            event_pattern=events.EventPattern(
                source=["aws.bedrock"], detail_type=[JOB_STATE_CHANGE], detail={"jobArn": [job_arn]}
            ),
            targets=[targets.LambdaFunction(watcher.function, retry_attempts=4)],
        )
        self.poll = events.Rule(
            self,
            "Poll",
            rule_name=poll_rule_name,
            description="Fallback status check of the distillation job, in case a state-change event is lost",
            schedule=events.Schedule.rate(Duration.minutes(poll_minutes)),
            targets=[targets.LambdaFunction(watcher.function, retry_attempts=2)],
        )
        self.condition = CfnWaitCondition(
            self, "Condition", count=1, handle=handle.ref, timeout=str(int(MAX_WAIT.to_seconds()))
        )
        # The watcher and its triggers exist before the wait starts, so no signal can be missed.
        self.condition.node.add_dependency(self.state_changes)
        self.condition.node.add_dependency(self.poll)
        self.watcher = watcher


class DistilledModel(Construct):
    """The custom model a completed job produced, looked up once the wait is over.

    The wait condition's data holds the model ARN, but CloudFormation types that attribute as an object, so other
    resources cannot take a string from it; this resource reads the ARN from the job instead and exposes it.
    """

    def __init__(self, scope: Construct, id: str, *, job_arn: str, key: DataKey, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self._resource = BedrockResource(
            self,
            "Lookup",
            folder="distilled_model",
            resource_type="Custom::BedrockDistilledModel",
            description="Reads the custom model ARN of the stage's completed distillation job",
            key=key,
            removal_policy=removal_policy,
            properties={"JobArn": job_arn},
            permissions=[
                Permission(
                    actions=["bedrock:GetModelCustomizationJob"],
                    resources=[
                        stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
                    ],
                    wildcard_reason="The job's ARN reaches this stack at deploy time through an SSM parameter.",
                )
            ],
        )

    @property
    def model_arn(self) -> str:
        return self._resource.attribute("ModelArn")
