"""TrainingMetricsPublisher alone: a function EventBridge invokes on the stage's job state changes, which reads the
job output under the output prefix and puts metrics in one namespace, with a dead-letter queue and its alarm."""

from __future__ import annotations

import pytest

from distill.constructs import DataKey, TrainingMetricsPublisher
from distill.constructs.job_output import OUTPUT_PREFIX
from distill.constructs.names import METRICS_NAMESPACE
from tests.constructs.bare import ACCOUNT, KEY_ARN, REGION, imported_bucket, imported_key

THROUGH_S3 = {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}


def publisher(stack, key) -> TrainingMetricsPublisher:
    return TrainingMetricsPublisher(
        stack, "Metrics", stage_name="dev", output_bucket=imported_bucket(stack, "example-output"), key=key
    )


@pytest.fixture(scope="module")
def bare(synth):
    return synth(lambda stack: publisher(stack, imported_key(stack)))


@pytest.fixture(scope="module")
def own_key(synth):
    return synth(lambda stack: publisher(stack, DataKey(stack, "DataKey", alias="alias/dev/bedrock-distillation").key))


@pytest.mark.parametrize("variant", ["imported key", "own key"])
def test_cdk_nag_reports_nothing(bare, own_key, variant):
    assert {"imported key": bare, "own key": own_key}[variant].findings == []


def test_one_function_its_rule_and_its_dead_letters(bare):
    assert bare.counts() == {
        "AWS::Lambda::Function": 1,
        "AWS::Lambda::LayerVersion": 2,
        "AWS::Lambda::Permission": 1,
        "AWS::IAM::Role": 1,
        "AWS::IAM::ManagedPolicy": 1,
        "AWS::Logs::LogGroup": 1,
        "AWS::Events::Rule": 1,
        "AWS::SQS::Queue": 1,
        "AWS::SQS::QueuePolicy": 1,
        "AWS::CloudWatch::Alarm": 1,
    }
    function = bare.only("AWS::Lambda::Function")["Properties"]
    assert function["Environment"]["Variables"] == {
        "STAGE": "dev",
        "NAMESPACE": METRICS_NAMESPACE,
        "OUTPUT_S3_URI": f"s3://example-output/{OUTPUT_PREFIX}",
    }
    rule = bare.only("AWS::Events::Rule")["Properties"]
    assert rule["EventPattern"]["detail"] == {"jobName": [{"prefix": "dev-distill-"}]}


def test_the_publisher_reads_only_job_output_and_puts_metrics_only_in_its_namespace(bare):
    statements = bare.statements(bare.find("Metrics/Publisher/Policy"))
    granted = {tuple(s["Action"]): s for s in statements}
    put = granted[("cloudwatch:PutMetricData",)]
    assert (put["Resource"], put["Condition"]) == (["*"], {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}})
    assert granted[("s3:GetObject",)]["Resource"] == [f"arn:aws:s3:::example-output/{OUTPUT_PREFIX}*"]
    listing = granted[("s3:ListBucket",)]
    assert (listing["Resource"], listing["Condition"]) == (
        ["arn:aws:s3:::example-output"],
        {"StringLike": {"s3:prefix": f"{OUTPUT_PREFIX}*"}},
    )
    assert granted[("bedrock:GetModelCustomizationJob",)]["Resource"] == [
        f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-customization-job/*"
    ]


def test_a_key_of_the_same_app_lets_the_publisher_decrypt_through_s3_in_its_key_policy(own_key):
    key = own_key.find("DataKey").key
    (statement,) = [s for s in own_key.statements(key) if s.get("Sid") == "MetricsPublisherReadsJobOutput"]
    role = own_key.logical_id(own_key.find("Metrics/Publisher/Role"))
    assert statement["Principal"] == {"AWS": "${" + role + ".Arn}"}
    assert (statement["Action"], statement["Condition"]) == (["kms:Decrypt"], THROUGH_S3)
    assert not [
        s for s in own_key.statements(own_key.find("Metrics/Publisher/Policy")) if s["Action"] == ["kms:Decrypt"]
    ]


def test_an_imported_key_is_granted_in_the_publishers_own_policy(bare):
    # The key's policy cannot be changed here; its account statement lets an IAM policy grant it.
    (decrypt,) = [s for s in bare.statements(bare.find("Metrics/Publisher/Policy")) if s["Action"] == ["kms:Decrypt"]]
    assert decrypt == {"Action": ["kms:Decrypt"], "Condition": THROUGH_S3, "Effect": "Allow", "Resource": [KEY_ARN]}
    assert bare.other_warnings() == []
