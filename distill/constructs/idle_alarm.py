"""An alarm on a Provisioned Throughput that has served no invocation for hours while it bills by the hour."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from distill.constructs.alarm_notifications import allow_alarm_notifications
from distill.constructs.bedrock_metrics import model_metric

# CloudWatch caps an alarm description at 1,024 characters (PutMetricAlarm, AlarmDescription).
MAX_DESCRIPTION = 1024


class ThroughputIdleAlarm(Construct):
    """ALARM when the ``AWS/Bedrock`` ``Invocations`` of ``model_id`` sum to less than 1 in each of the last
    ``idle_hours`` hours; an hour without datapoints counts as idle (Bedrock publishes no datapoint without an
    invocation). The alarm notifies ``topic`` with ``message``.

    CloudWatch publishes to the topic as ``cloudwatch.amazonaws.com``: the topic policy allows this alarm alone
    (aws:SourceArn), and the topic's KMS key lets it encrypt the message (Amazon SNS developer guide,
    sns-key-management.html, "Compatibility with AWS services").
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alarm_name: str,
        model_id: str,
        idle_hours: int,
        message: str,
        topic: sns.ITopic,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        invocations = model_metric(model_id, "Invocations", period=Duration.hours(1))
        self.alarm = cloudwatch.Alarm(
            self,
            "Alarm",
            alarm_name=alarm_name,
            alarm_description=message[:MAX_DESCRIPTION],
            metric=invocations,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=idle_hours,
            datapoints_to_alarm=idle_hours,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        self.alarm.add_alarm_action(actions.SnsAction(topic))
        # The policies live with the topic and the key (the foundation stack).
        allow_alarm_notifications(topic, key, alarm_name=alarm_name, sid=_sid(alarm_name))


def _sid(name: str) -> str:
    """A policy statement id (letters and digits only) from an alarm name."""
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-") if part.isalnum())
