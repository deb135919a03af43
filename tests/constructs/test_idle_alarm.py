"""ThroughputIdleAlarm alone: an alarm on hours without invocations of a model id, notifying a topic that the alarm
alone may publish to (a topic and key of the same app get the statements, imported ones a warning)."""

from __future__ import annotations

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from distill.constructs import ThroughputIdleAlarm
from distill.constructs.idle_alarm import MAX_DESCRIPTION
from distill.constructs.resource_policy import IMPORTED_POLICY_WARNING
from tests.constructs.bare import ACCOUNT, REGION, imported_key

MODEL_ID = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:provisioned-model/abcdefghij12"
ALARM = "dev-throughput-idle"


def alarm(
    stack, topic: sns.ITopic, key: kms.IKey, message: str = "The dev throughput served nothing."
) -> ThroughputIdleAlarm:
    return ThroughputIdleAlarm(
        stack, "Idle", alarm_name=ALARM, model_id=MODEL_ID, idle_hours=3, message=message, topic=topic, key=key
    )


def own(stack) -> ThroughputIdleAlarm:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    return alarm(stack, sns.Topic(stack, "Topic", master_key=key, enforce_ssl=True), key, message="x" * 2000)


def imported(stack) -> ThroughputIdleAlarm:
    topic = sns.Topic.from_topic_arn(stack, "ImportedTopic", f"arn:aws:sns:{REGION}:{ACCOUNT}:dev-notifications")
    return alarm(stack, topic, imported_key(stack))


@pytest.fixture(scope="module")
def bare(synth):
    return synth(own)


@pytest.fixture(scope="module")
def bare_imported(synth):
    return synth(imported)


@pytest.mark.parametrize("variant", ["own topic and key", "imported topic and key"])
def test_cdk_nag_reports_nothing(bare, bare_imported, variant):
    assert {"own topic and key": bare, "imported topic and key": bare_imported}[variant].findings == []


def test_the_alarm_fires_after_the_idle_hours_without_an_invocation(bare_imported):
    assert bare_imported.counts() == {"AWS::CloudWatch::Alarm": 1}
    properties = bare_imported.only("AWS::CloudWatch::Alarm")["Properties"]
    assert {
        k: properties[k]
        for k in (
            "AlarmName",
            "Namespace",
            "MetricName",
            "Statistic",
            "Period",
            "Threshold",
            "ComparisonOperator",
            "EvaluationPeriods",
            "DatapointsToAlarm",
            "TreatMissingData",
        )
    } == {
        "AlarmName": ALARM,
        "Namespace": "AWS/Bedrock",
        "MetricName": "Invocations",
        "Statistic": "Sum",
        "Period": 3600,
        "Threshold": 1,
        "ComparisonOperator": "LessThanThreshold",
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 3,
        # Bedrock publishes no datapoint for an hour without invocations.
        "TreatMissingData": "breaching",
    }
    assert properties["Dimensions"] == [{"Name": "ModelId", "Value": MODEL_ID}]
    assert properties["AlarmActions"] == [f"arn:aws:sns:{REGION}:{ACCOUNT}:dev-notifications"]


def test_only_this_alarm_may_publish_to_a_topic_of_the_same_app_and_encrypt_with_its_key(bare):
    topic, key = bare.find("Topic"), bare.find("Key")
    (publish,) = [
        s for s in bare.statements(topic.node.find_child("Policy")) if s.get("Sid", "").startswith("CloudWatch")
    ]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{ALARM}"},
    }
    (encrypt,) = [s for s in bare.statements(key) if s.get("Sid", "").startswith("CloudWatch")]
    assert encrypt["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert bare.other_warnings() == []


def test_a_long_message_is_cut_to_the_alarm_description_limit(bare):
    assert len(bare.only("AWS::CloudWatch::Alarm")["Properties"]["AlarmDescription"]) == MAX_DESCRIPTION


def test_an_imported_topic_and_key_get_a_warning_with_the_statement_their_owner_must_add(bare_imported):
    warnings = bare_imported.warnings()
    assert [w.split(":")[0] for w in warnings] == ["Bare/ImportedKey", "Bare/ImportedTopic"]
    assert all(IMPORTED_POLICY_WARNING in w and f"the alarm {ALARM} cannot notify the topic" in w for w in warnings)
    assert '"Service": "cloudwatch.amazonaws.com"' in warnings[1]
