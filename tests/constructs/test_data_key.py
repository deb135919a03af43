"""DataKey alone: one rotating key with its alias, whose policy lets CloudWatch Logs use it for this account's log
groups only."""

from __future__ import annotations

import pytest
from aws_cdk import RemovalPolicy

from distill.constructs import DataKey
from tests.constructs.bare import ACCOUNT, REGION, flat


@pytest.fixture(scope="module")
def bare(synth):
    return synth(lambda stack: DataKey(stack, "DataKey", alias="alias/dev/bedrock-distillation"))


def test_cdk_nag_reports_nothing(bare):
    assert bare.findings == []


def test_a_rotating_key_and_its_alias(bare):
    assert bare.counts() == {"AWS::KMS::Key": 1, "AWS::KMS::Alias": 1}
    key = bare.resource(bare.built.key)
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["PendingWindowInDays"] == 30
    assert flat(bare.only("AWS::KMS::Alias")["Properties"]) == {
        "AliasName": "alias/dev/bedrock-distillation",
        "TargetKeyId": "${" + bare.logical_id(bare.built.key) + ".Arn}",
    }


def test_the_key_is_kept_unless_asked_otherwise(bare, synth):
    assert bare.resource(bare.built.key)["DeletionPolicy"] == "Retain"
    destroyed = synth(
        lambda stack: DataKey(
            stack, "DataKey", alias="alias/dev/bedrock-distillation", removal_policy=RemovalPolicy.DESTROY
        )
    )
    assert destroyed.resource(destroyed.built.key)["DeletionPolicy"] == "Delete"


def test_cloudwatch_logs_may_use_the_key_for_this_accounts_log_groups_only(bare):
    (logs,) = [
        s for s in bare.statements(bare.built.key) if s.get("Sid") == "CloudWatchLogsEncryptsThisAccountsLogGroups"
    ]
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"}
    }
    assert bare.built.key_arn == bare.built.key.key_arn
