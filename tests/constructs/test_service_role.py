"""ServiceRole alone: a role only Bedrock may assume, for this account's customization jobs, with no permission of
its own (each DistillationJob grants it what that job reads and writes)."""

from __future__ import annotations

import pytest

from distill.constructs import ServiceRole
from tests.constructs.bare import ACCOUNT, REGION, flat


@pytest.fixture(scope="module")
def bare(synth):
    return synth(lambda stack: ServiceRole(stack, "ServiceRole", stage_name="dev"))


def test_cdk_nag_reports_nothing(bare):
    assert bare.findings == []


def test_one_role_with_no_policy(bare):
    assert bare.counts() == {"AWS::IAM::Role": 1}
    role = bare.resource(bare.built.role)["Properties"]
    assert "Policies" not in role and "ManagedPolicyArns" not in role


def test_only_bedrock_may_assume_it_for_this_accounts_customization_jobs(bare):
    trust = flat(bare.resource(bare.built.role)["Properties"]["AssumeRolePolicyDocument"]["Statement"])
    assert trust == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-customization-job/*"},
            },
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
        }
    ]
    assert bare.built.role_arn == bare.built.role.role_arn
