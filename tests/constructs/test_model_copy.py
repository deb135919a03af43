"""ModelCopy alone: a copy of another account's shared model into this one, encrypted with the stage's key, named
from what it copies, and deleted only as the removal policy says."""

from __future__ import annotations

import json

import pytest
from aws_cdk import RemovalPolicy

from distill.constructs import ModelCopy
from tests.constructs.bare import ACCOUNT, KEY_ARN, REGION, imported_key

SOURCE = f"arn:aws:bedrock:{REGION}:444444444444:custom-model/amazon.nova-lite-v1:0:300k/abcdefghij12"


def copy(stack, **props) -> ModelCopy:
    return ModelCopy(stack, "Copy", stage_name="prod", source_model_arn=SOURCE, key=imported_key(stack), **props)


@pytest.fixture(scope="module")
def bare(synth):
    return synth(copy)


@pytest.fixture(scope="module")
def destroyed(synth):
    return synth(lambda stack: copy(stack, tags={"owner": "platform"}, removal_policy=RemovalPolicy.DESTROY))


@pytest.mark.parametrize("variant", ["retain", "destroy"])
def test_cdk_nag_reports_nothing(bare, destroyed, variant):
    assert {"retain": bare, "destroy": destroyed}[variant].findings == []


def test_one_copy_resource_with_a_waiting_provider(bare):
    assert bare.counts() == {
        "Custom::BedrockModelCopy": 1,
        # The handler's onEvent and isComplete, the provider's onEvent, isComplete and onTimeout.
        "AWS::Lambda::Function": 5,
        "AWS::Lambda::LayerVersion": 2,
        "AWS::IAM::Role": 5,
        "AWS::IAM::ManagedPolicy": 4,
        "AWS::IAM::Policy": 3,
        "AWS::Logs::LogGroup": 3,
        "AWS::StepFunctions::StateMachine": 1,
    }


def test_the_copy_is_named_from_its_source_and_key_and_kept_by_default(bare, destroyed):
    properties = bare.only("Custom::BedrockModelCopy")["Properties"]
    assert properties["SourceModelArn"] == SOURCE
    assert properties["KmsKeyArn"] == KEY_ARN
    assert properties["TargetModelName"] == bare.built.target_model_name
    assert bare.built.target_model_name.startswith("prod-copy-")
    assert json.loads(properties["Tags"]) == {"distillation-stage": "prod"}
    assert properties["RetainModelOnDelete"] == "true"
    other = destroyed.only("Custom::BedrockModelCopy")["Properties"]
    # Tags are not part of the copy's name: the same source and key are the same copy.
    assert other["TargetModelName"] == properties["TargetModelName"]
    assert json.loads(other["Tags"]) == {"distillation-stage": "prod", "owner": "platform"}
    assert other["RetainModelOnDelete"] == "false"


def test_the_handler_copies_only_with_the_stages_tag_on_the_copy(bare):
    statements = bare.statements(bare.find("Copy/Copy/OnEvent/Policy"))
    (create,) = [s for s in statements if s["Action"] == ["bedrock:CreateModelCopyJob"]]
    assert create["Resource"] == sorted(
        [
            SOURCE,
            f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/*",
            f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-copy-job/*",
        ]
    )
    assert create["Condition"] == {"StringEquals": {"aws:RequestTag/distillation-stage": "prod"}}
    (delete,) = [s for s in statements if s["Action"] == ["bedrock:DeleteCustomModel"]]
    assert delete["Condition"] == {"StringEquals": {"aws:ResourceTag/distillation-stage": "prod"}}
