"""An alarm on a Provisioned Throughput that has served no invocation for hours while it bills by the hour."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from distill.config.stages import StageConfig
from distill.constructs.alarm_notifications import allow_alarm_notifications
from distill.constructs.names import stack_name
from distill.operations import pricing

# CloudWatch caps an alarm description at 1,024 characters (PutMetricAlarm, AlarmDescription).
MAX_DESCRIPTION = 1024


def idle_alarm_name(stage_name: str) -> str:
    return f"{stage_name}-throughput-idle"


def idle_message(*, stage_name: str, idle_hours: int, model_units: int, hourly: pricing.Price, commitment: str) -> str:
    """The notification text: how long it has been idle, what it costs per day, and how to stop it."""
    if hourly.usd is None:
        cost = (
            f"an unknown amount per day ({model_units} model unit(s); distill/data/pricing.json has no "
            f"{hourly.item} price: run `distill cost --stage {stage_name} --refresh-prices`)"
        )
    else:
        cost = (
            f"${hourly.usd * model_units * 24:,.2f} per day ({model_units} model unit(s) x ${hourly.usd:,.2f} per "
            f"model unit-hour, {'no' if commitment == 'none' else commitment} commitment, price of {hourly.date})"
        )
    serving = stack_name(stage_name, "serving")
    if commitment == "none":
        stop = (
            f"To stop the billing, destroy the serving stack: `aws cloudformation delete-stack --stack-name {serving}` "
            f"(or `.venv/bin/npx cdk destroy '{stage_name}/Serving'` from a checkout); the custom model is kept."
        )
    else:
        stop = (
            f"The {commitment} term bills until it ends whatever is done; once it has ended, destroy the serving "
            f"stack (`aws cloudformation delete-stack --stack-name {serving}`) and delete the retained throughput."
        )
    return (
        f"Bedrock distillation ({stage_name}): the Provisioned Throughput has served no invocation for "
        f"{idle_hours} hours while it bills {cost}. {stop}"
    )


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
        invocations = cloudwatch.Metric(
            namespace="AWS/Bedrock",
            metric_name="Invocations",
            dimensions_map={"ModelId": model_id},
            statistic="Sum",
            period=Duration.hours(1),
        )
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

    @classmethod
    def for_stage(
        cls, scope: Construct, id: str, *, stage: StageConfig, model_id: str, topic: sns.ITopic, key: kms.IKey
    ) -> ThroughputIdleAlarm:
        """The idle alarm of a stage's Provisioned Throughput, priced from the packaged price table."""
        serving, student = stage.serving, stage.student
        assert serving is not None and serving.mode == "provisioned" and student is not None
        hourly = pricing.packaged().throughput(stage.region, student, serving.commitment)
        message = idle_message(
            stage_name=stage.name,
            idle_hours=serving.idle_hours,
            model_units=serving.model_units,
            hourly=hourly,
            commitment=serving.commitment,
        )
        return cls(
            scope,
            id,
            alarm_name=idle_alarm_name(stage.name),
            model_id=model_id,
            idle_hours=serving.idle_hours,
            message=message,
            topic=topic,
            key=key,
        )


def _sid(name: str) -> str:
    """A policy statement id (letters and digits only) from an alarm name."""
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-") if part.isalnum())
