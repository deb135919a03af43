"""Where a stage's CloudWatch alarms notify: the stage's topic, and the topic and key statements that let them."""

from __future__ import annotations

import weakref

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from distill.constructs.resource_policy import add_resource_statement

# Each stage's topic, found from the stage's key: constructs that are handed only the key (a watcher deep in the
# serving stack, the metrics publisher) send their alarms there.
_TOPICS: weakref.WeakKeyDictionary[kms.IKey, sns.ITopic] = weakref.WeakKeyDictionary()


def register_topic(key: kms.IKey, topic: sns.ITopic) -> None:
    """Make ``topic`` the one that the alarms of the stage whose key is ``key`` notify."""
    _TOPICS[key] = topic


def stage_topic(key: kms.IKey) -> sns.ITopic | None:
    """The topic of the stage whose key is ``key``, or None when that stage has built none."""
    return _TOPICS.get(key)


def allow_alarm_notifications(topic: sns.ITopic, key: kms.IKey, *, alarm_name: str, sid: str) -> None:
    """Let the CloudWatch alarm ``alarm_name`` of the topic's account publish to ``topic`` and encrypt its message.

    CloudWatch publishes as ``cloudwatch.amazonaws.com``: the topic statement names this alarm alone (aws:SourceArn)
    and the key statement this account (aws:SourceAccount); Amazon SNS developer guide, sns-key-management.html,
    "Compatibility with AWS services", https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html, read
    2026-12-02. The ARN is built from the topic's own stack so that no value of the alarm's stack crosses over.
    ``sid`` (letters and digits) tells this alarm's statements apart. An imported topic's or key's owner adds the
    statements, which a warning shows (``add_resource_statement``).
    """
    home = Stack.of(topic)
    alarm_arn = f"arn:{home.partition}:cloudwatch:{home.region}:{home.account}:alarm:{alarm_name}"
    service = iam.ServicePrincipal("cloudwatch.amazonaws.com")
    add_resource_statement(
        topic,
        iam.PolicyStatement(
            sid=f"CloudWatchPublishes{sid}",
            principals=[service],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": home.account}, "ArnLike": {"aws:SourceArn": alarm_arn}},
        ),
        f"the alarm {alarm_name} cannot notify the topic",
    )
    add_resource_statement(
        key,
        iam.PolicyStatement(
            sid=f"CloudWatchEncrypts{sid}",
            principals=[service],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": home.account}},
        ),
        f"the alarm {alarm_name} cannot notify the topic encrypted with the key",
    )
