"""The stage's notifications: job state changes and stack failures, on one KMS-encrypted SNS topic."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from distill.constructs.data_key import DataKey
from distill.constructs.model_wait import JOB_STATE_CHANGE
from distill.naming import stack_name

# The stack states that mean a deployment of the stage went wrong.
FAILED_STACK_STATES = [
    "CREATE_FAILED",
    "ROLLBACK_IN_PROGRESS",
    "UPDATE_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "DELETE_FAILED",
]


def job_state_changes(stage_name: str) -> events.EventPattern:
    """Bedrock's state-change events of this stage's jobs, told apart by the job-name prefix the job handler sets."""
    return events.EventPattern(
        source=["aws.bedrock"],
        detail_type=[JOB_STATE_CHANGE],
        detail={"jobName": events.Match.prefix(f"{stage_name}-distill-")},
    )


class StageNotifications(Construct):
    """A topic per stage: every state change of the stage's distillation jobs (with Bedrock's failure message) and
    every failed deployment of its stacks (a serving stack whose wait or throughput failed, say)."""

    def __init__(self, scope: Construct, id: str, *, stage_name: str, key: DataKey, email: str | None) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        key.allow_event_delivery()
        self.topic = sns.Topic(
            self, "Topic", display_name=f"Bedrock distillation ({stage_name})", master_key=key.key, enforce_ssl=True
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        detail = events.EventField.from_path
        events.Rule(
            self,
            "JobStateChanges",
            description=f"State changes of the {stage_name} stage's distillation jobs",
            event_pattern=job_state_changes(stage_name),
            targets=[
                targets.SnsTopic(
                    self.topic,
                    message=events.RuleTargetInput.from_text(
                        f"Distillation job {detail('$.detail.jobName')} is {detail('$.detail.jobStatus')}. "
                        f"{detail('$.detail.failureMessage')}"
                    ),
                )
            ],
        )
        stacks = (
            f"arn:{stack.partition}:cloudformation:{stack.region}:{stack.account}:stack/{stack_name(stage_name, '')}"
        )
        events.Rule(
            self,
            "StackFailures",
            description=f"Failed deployments of the {stage_name} stage's stacks",
            event_pattern=events.EventPattern(
                source=["aws.cloudformation"],
                detail_type=["CloudFormation Stack Status Change"],
                detail={"stack-id": events.Match.prefix(stacks), "status-details": {"status": FAILED_STACK_STATES}},
            ),
            targets=[
                targets.SnsTopic(
                    self.topic,
                    message=events.RuleTargetInput.from_text(
                        f"Stack {detail('$.detail.stack-id')} is {detail('$.detail.status-details.status')}: "
                        f"{detail('$.detail.status-details.status-reason')}"
                    ),
                )
            ],
        )
