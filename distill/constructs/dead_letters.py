"""Dead-letter queues for the handlers EventBridge invokes asynchronously, with an alarm on what lands in them."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from distill.constructs.alarm_notifications import allow_alarm_notifications
from distill.constructs.nag import acknowledge, acknowledge_compliance

# SQS keeps a message 14 days at most (CreateQueue, MessageRetentionPeriod, read 2026-12-02): the longest time to
# look at what failed.
RETENTION = Duration.days(14)


@dataclass(frozen=True)
class AsyncInvocation:
    """How EventBridge invokes a handler: ``invoked_by`` says what invokes it (for the acknowledgments),
    ``alarm_name`` names the alarm on its dead-letter queue (unique in the account and Region), and ``topic`` is
    what the alarm notifies (None: the alarm is only shown in CloudWatch)."""

    invoked_by: str
    alarm_name: str
    topic: sns.ITopic | None


class DeadLetterQueue(Construct):
    """The asynchronous-invocation dead-letter queue of ``function``, encrypted with ``key``, and an alarm when a
    message is visible in it.

    What it catches: Lambda puts an asynchronous event there once it has failed every attempt (the function's error,
    timeout or throttle, after Lambda's retries) or grew older than the event's maximum age, instead of discarding it;
    the execution role needs sqs:SendMessage, and the key's permissions for a customer-managed key (Lambda developer
    guide, invocation-async-retain-records.html, "Dead-letter queues",
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html, read 2026-12-02). EventBridge
    invokes a Lambda target asynchronously, so a function error never reaches the target's own dead-letter queue,
    which holds only events EventBridge could not hand to Lambda at all: a missing permission or a target that no
    longer exists (EventBridge user guide, eb-rule-dlq.html,
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html, read 2026-12-02). The stack creates
    the function, its invoke permission and its rules together, and a target queue encrypted with this key would need
    a key statement for events.amazonaws.com that no documented condition key scopes, so the rules have none.

    The function's own role sends to the queue, through a customer-managed policy (``policy``): the key policy's
    account statement lets IAM policies grant the key (AWS KMS developer guide, key-policy-default.html, read
    2026-12-02), so no key statement names a principal of another stack.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.Function,
        policy: iam.ManagedPolicy,
        key: kms.IKey,
        invocation: AsyncInvocation,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=RETENTION,
            removal_policy=removal_policy,
        )
        acknowledge(
            self.queue,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of a Lambda function (its DeadLetterConfig); a dead-letter queue "
            "needs no dead-letter queue of its own.",
        )
        policy.add_statements(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn]),
            # What a producer to an SSE-KMS queue calls (Amazon SQS developer guide, sqs-key-management.html,
            # "Configure KMS permissions for producers", read 2026-12-02).
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"sqs.{stack.region}.amazonaws.com"}},
            ),
        )
        cfn = function.node.default_child
        assert isinstance(cfn, lambda_.CfnFunction)
        # Set on the L1 resource: the L2's deadLetterQueue grants through an inline policy on the role, which the
        # compliance packs reject.
        cfn.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(target_arn=self.queue.queue_arn)
        self.alarm = cloudwatch.Alarm(
            self,
            "Alarm",
            alarm_name=invocation.alarm_name,
            alarm_description=(
                f"An event failed every attempt of the function that {function_description(function)}, and waits "
                "in its dead-letter queue; read it, fix the cause, then redrive or delete it."
            ),
            metric=self.queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if invocation.topic is not None:
            self.alarm.add_alarm_action(actions.SnsAction(invocation.topic))
            allow_alarm_notifications(
                invocation.topic, key, alarm_name=invocation.alarm_name, sid=statement_id(invocation.alarm_name)
            )
        else:
            acknowledge_compliance(
                self.alarm,
                {
                    "CloudWatchAlarmAction": (
                        "No notification topic is registered for the key this construct was given (StageNotifications "
                        "registers one; build it first for the alarm to notify it), so the alarm has nothing to notify "
                        "and is shown in the CloudWatch console only."
                    )
                },
            )


def function_description(function: lambda_.Function) -> str:
    """What the function does, from its description (a plain string in this app), for the alarm's text."""
    cfn = function.node.default_child
    assert isinstance(cfn, lambda_.CfnFunction)
    described = cfn.description or "the function"
    return described[0].lower() + described[1:]


def statement_id(name: str) -> str:
    """A policy statement id (letters and digits only) from an alarm name."""
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-") if part.isalnum())
