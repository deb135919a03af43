"""The stage's notifications: job state changes and stack failures, on one KMS-encrypted SNS topic."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from distill.constructs.alarm_notifications import register_topic
from distill.constructs.model_wait import JOB_STATE_CHANGE
from distill.constructs.names import stack_name

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
    every failed deployment of its stacks (a serving stack whose wait or throughput failed, say).

    EventBridge publishes through a role of its own (``delivery_role``), never as the service itself. A topic policy
    statement for ``events.amazonaws.com`` cannot carry a condition ("You can't use Condition blocks in Amazon SNS
    topic policies for EventBridge", EventBridge user guide, eb-use-resource-based.html#eb-sns-permissions,
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html, read 2026-12-02), and the
    key statement it needs would let any rule of any account use the key. The role is trusted by EventBridge only for
    this stage's two rules (aws:SourceArn, the rule that sends the event; aws:SourceAccount, its account:
    eb-use-conditions.html), and may publish to this topic and use the key for it (sns:Publish, kms:GenerateDataKey,
    kms:Decrypt: "Amazon SNS topic target", eb-custom-bus-target-sns.html, "Delivery role", read 2026-12-02).
    """

    def __init__(self, scope: Construct, id: str, *, stage_name: str, key: kms.IKey, email: str | None = None) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.topic = sns.Topic(
            self, "Topic", display_name=f"Bedrock distillation ({stage_name})", master_key=key, enforce_ssl=True
        )
        register_topic(key, self.topic)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        # Named rules: the role's trust names their ARNs, which a generated name would make circular.
        job_rule, stack_rule = f"{stage_name}-job-state-notifications", f"{stage_name}-stack-failure-notifications"
        rule_arns = [
            stack.format_arn(service="events", resource="rule", resource_name=n) for n in (job_rule, stack_rule)
        ]
        self.delivery_role, delivery_policy = self._delivery_role(key, rule_arns)
        detail = events.EventField.from_path
        job_states = events.Rule(
            self,
            "JobStateChanges",
            rule_name=job_rule,
            description=f"State changes of the {stage_name} stage's distillation jobs",
            event_pattern=job_state_changes(stage_name),
            targets=[
                targets.SnsTopic(
                    self.topic,
                    role=self.delivery_role,
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
        stack_failures = events.Rule(
            self,
            "StackFailures",
            rule_name=stack_rule,
            description=f"Failed deployments of the {stage_name} stage's stacks",
            event_pattern=events.EventPattern(
                source=["aws.cloudformation"],
                detail_type=["CloudFormation Stack Status Change"],
                detail={"stack-id": events.Match.prefix(stacks), "status-details": {"status": FAILED_STACK_STATES}},
            ),
            targets=[
                targets.SnsTopic(
                    self.topic,
                    role=self.delivery_role,
                    message=events.RuleTargetInput.from_text(
                        f"Stack {detail('$.detail.stack-id')} is {detail('$.detail.status-details.status')}: "
                        f"{detail('$.detail.status-details.status-reason')}"
                    ),
                )
            ],
        )
        # A rule that exists before its role may publish would drop the events in between.
        for rule in (job_states, stack_failures):
            rule.node.add_dependency(delivery_policy)

    def _delivery_role(self, key: kms.IKey, rule_arns: list[str]) -> tuple[iam.IRole, iam.ManagedPolicy]:
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "DeliveryRole",
            description="EventBridge publishes the stage's job state changes and stack failures to its topic",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnEquals": {"aws:SourceArn": rule_arns},
                },
            ),
        )
        # A customer-managed policy rather than an inline one: the compliance packs reject inline policies. The
        # targets' own grants would add an inline policy (with kms:GenerateDataKey*), so they get the role without
        # policy updates and these statements instead.
        policy = iam.ManagedPolicy(
            self,
            "DeliveryPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn]),
                iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn]),
            ],
        )
        return role.without_policy_updates(), policy
