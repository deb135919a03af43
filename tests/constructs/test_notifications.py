"""StageNotifications alone: one encrypted topic, the two rules that publish the stage's job state changes and
failed deployments to it, and the role EventBridge publishes through (trusted for those two rules only)."""

from __future__ import annotations

import pytest

from distill.constructs import StageNotifications
from distill.constructs.alarm_notifications import stage_topic
from tests.constructs.bare import ACCOUNT, KEY_ARN, REGION, flat, imported_key

RULES = [
    f"arn:aws:events:{REGION}:{ACCOUNT}:rule/dev-job-state-notifications",
    f"arn:aws:events:{REGION}:{ACCOUNT}:rule/dev-stack-failure-notifications",
]


@pytest.fixture(scope="module")
def bare(synth):
    return synth(
        lambda stack: StageNotifications(
            stack, "Notifications", stage_name="dev", key=imported_key(stack), email="ml-team@example.com"
        )
    )


@pytest.fixture(scope="module")
def silent(synth):
    return synth(lambda stack: StageNotifications(stack, "Notifications", stage_name="dev", key=imported_key(stack)))


@pytest.mark.parametrize("variant", ["with email", "without email"])
def test_cdk_nag_reports_nothing(bare, silent, variant):
    assert {"with email": bare, "without email": silent}[variant].findings == []


def test_a_topic_encrypted_with_the_key_two_rules_and_a_delivery_role(bare, silent):
    assert bare.counts() == {
        "AWS::SNS::Topic": 1,
        "AWS::SNS::TopicPolicy": 1,
        "AWS::SNS::Subscription": 1,
        "AWS::Events::Rule": 2,
        "AWS::IAM::Role": 1,
        "AWS::IAM::ManagedPolicy": 1,
    }
    assert "AWS::SNS::Subscription" not in silent.counts()
    assert bare.resource(bare.built.topic)["Properties"]["KmsMasterKeyId"] == KEY_ARN
    assert bare.only("AWS::SNS::Subscription")["Properties"]["Endpoint"] == "ml-team@example.com"
    (tls,) = bare.statements(bare.built.topic.node.find_child("Policy"))
    assert (tls["Effect"], tls["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def test_the_topic_is_the_one_the_stages_alarms_notify(bare):
    assert stage_topic(imported_key(bare.stack)) is bare.built.topic


def test_the_rules_select_the_stages_jobs_and_stacks_and_publish_through_the_delivery_role(bare):
    rules = {r["Properties"]["Name"]: r for r in bare.of_type("AWS::Events::Rule").values()}
    jobs, stacks = rules["dev-job-state-notifications"], rules["dev-stack-failure-notifications"]
    assert jobs["Properties"]["EventPattern"]["detail"] == {"jobName": [{"prefix": "dev-distill-"}]}
    assert flat(stacks["Properties"]["EventPattern"]["detail"]["stack-id"]) == [
        {"prefix": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/dev-distillation-"}
    ]
    role = "${" + bare.logical_id(bare.find("Notifications/DeliveryRole")) + ".Arn}"
    policy = bare.logical_id(bare.find("Notifications/DeliveryPolicy"))
    for rule in (jobs, stacks):
        (target,) = flat(rule["Properties"]["Targets"])
        assert (target["Arn"], target["RoleArn"]) == ("${" + bare.logical_id(bare.built.topic) + "}", role)
        # The role may publish before the rule sends anything.
        assert rule["DependsOn"] == [policy]


def test_eventbridge_may_assume_the_delivery_role_only_for_the_two_rules_and_publish_only_to_the_topic(bare):
    trust = flat(bare.resource(bare.find("Notifications/DeliveryRole"))["Properties"]["AssumeRolePolicyDocument"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnEquals": {"aws:SourceArn": RULES},
    }
    assert bare.statements(bare.find("Notifications/DeliveryPolicy")) == [
        {"Action": ["sns:Publish"], "Effect": "Allow", "Resource": ["${" + bare.logical_id(bare.built.topic) + "}"]},
        {"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow", "Resource": [KEY_ARN]},
    ]
