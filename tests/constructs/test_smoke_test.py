"""SmokeTest alone, on a served model: a check that runs once the model serves, may invoke only that model, and
reads prompts only from the dataset it names."""

from __future__ import annotations

import pytest

from distill.constructs import OnDemandDeployment, SmokeTest
from tests.constructs.bare import KEY_ARN, MODEL_ARN, REGION, STUDENT, imported_key

DATASET = "s3://example-datasets/claims/train.jsonl"


def builder(training_data_uri: str | None):
    def build(stack) -> SmokeTest:
        served = OnDemandDeployment(
            stack,
            "Deployment",
            stage_name="dev",
            model_arn=MODEL_ARN,
            model_key="dev-distill-0123456789ab",
            base_model=STUDENT,
            key=imported_key(stack),
        )
        return SmokeTest(
            stack, "Smoke", stage_name="dev", model=served, key=imported_key(stack), training_data_uri=training_data_uri
        )

    return build


@pytest.fixture(scope="module")
def bare(synth):
    return synth(builder(DATASET))


@pytest.fixture(scope="module")
def synthetic(synth):
    return synth(builder(None))


@pytest.mark.parametrize("variant", ["dataset prompts", "synthetic prompt"])
def test_cdk_nag_reports_nothing(bare, synthetic, variant):
    assert {"dataset prompts": bare, "synthetic prompt": synthetic}[variant].findings == []


def test_one_check_resource_that_waits_for_the_model_to_serve(bare):
    check = bare.only("Custom::BedrockServingSmokeTest")
    (condition,) = bare.of_type("AWS::CloudFormation::WaitCondition")
    assert check["DependsOn"] == [condition]
    (deployment,) = bare.of_type("Custom::BedrockCustomModelDeployment")
    properties = check["Properties"]
    assert properties["ModelId"] == {"Fn::GetAtt": [deployment, "Arn"]}
    assert properties["ModelArn"] == MODEL_ARN
    assert (properties["PromptCount"], properties["MaxTokens"], properties["TrainingDataUri"]) == ("3", "64", DATASET)
    # The check's own handler and provider, beside what the deployment brings.
    counts = bare.counts()
    assert counts["Custom::BedrockServingSmokeTest"] == 1
    assert counts["AWS::Lambda::Function"] == 8


def test_the_check_invokes_only_the_served_model_and_reads_only_the_named_dataset(bare):
    (deployment,) = bare.of_type("Custom::BedrockCustomModelDeployment")
    statements = bare.statements(bare.find("Smoke/Check/OnEvent/Policy"))
    assert statements[1:] == [
        {"Action": ["bedrock:InvokeModel"], "Effect": "Allow", "Resource": ["${" + deployment + ".Arn}"]},
        {"Action": ["cloudformation:DescribeStacks"], "Effect": "Allow", "Resource": ["${AWS::StackId}"]},
        {"Action": ["bedrock:GetModelInvocationLoggingConfiguration"], "Effect": "Allow", "Resource": ["*"]},
        {
            "Action": ["s3:GetObject"],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::example-datasets/claims/train.jsonl"],
        },
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {"StringEquals": {"kms:ViaService": f"bedrock.{REGION}.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": [KEY_ARN],
        },
        {
            "Action": ["kms:Decrypt"],
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": [KEY_ARN],
        },
    ]


def test_without_a_dataset_the_check_reads_nothing_from_s3(synthetic):
    assert "TrainingDataUri" not in synthetic.only("Custom::BedrockServingSmokeTest")["Properties"]
    actions = {a for s in synthetic.statements(synthetic.find("Smoke/Check/OnEvent/Policy")) for a in s["Action"]}
    assert not any(a.startswith("s3:") for a in actions)
    assert "bedrock:GetModelInvocationLoggingConfiguration" not in actions
