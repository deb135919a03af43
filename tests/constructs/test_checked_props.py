"""What the constructs refuse when they are built, each with the message that says what is allowed."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack, Token

from distill.constructs import InvocationLogging, ProvisionedThroughput, Teacher, TrainingDataSource
from distill.constructs.names import check_name_prefix
from tests.constructs.bare import ENV, MODEL_ARN, STUDENT, imported_bucket, imported_key


def test_a_name_prefix_bedrock_would_refuse_is_a_value_error():
    with pytest.raises(ValueError) as raised:
        check_name_prefix("Team_A")
    assert str(raised.value) == (
        "stage_name is 'Team_A'; it must be 1 to 40 letters, digits and single hyphens, starting with a letter and "
        "not ending with a hyphen, as it begins the names of the customization job, custom model and serving "
        "resources (Bedrock allows 63 characters with the suffixes the constructs add)"
    )
    with pytest.raises(ValueError, match=r"^name_prefix is 'a{41}'; it must be 1 to 40"):
        check_name_prefix("a" * 41, "name_prefix")
    assert check_name_prefix("dev-support-assistant") == "dev-support-assistant"


def test_a_served_model_checks_its_name_prefix_and_commitment():
    stack = Stack(App(), "Bare", env=ENV)
    common = {"model_arn": MODEL_ARN, "model_key": "dev-distill-0123456789ab", "base_model": STUDENT}
    with pytest.raises(ValueError, match=r"^stage_name is 'my team'"):
        ProvisionedThroughput(stack, "A", stage_name="my team", key=imported_key(stack), **common)
    with pytest.raises(TypeError) as raised:
        ProvisionedThroughput(stack, "B", stage_name="dev", key=imported_key(stack), commitment="OneMonth", **common)
    assert str(raised.value) == "commitment is 'OneMonth'; give Commitment.NONE, ONE_MONTH or SIX_MONTHS"


@pytest.mark.parametrize("regions", ["us-east-1", []])
def test_a_profile_teacher_needs_the_list_of_its_regions(regions):
    with pytest.raises(ValueError) as raised:
        Teacher.profile("us.amazon.nova-pro-v1:0", foundation_model="amazon.nova-pro-v1:0", regions=regions)
    assert str(raised.value) == (
        f"regions is {regions!r}; give the list of Regions the inference profile us.amazon.nova-pro-v1:0 routes to, "
        'e.g. ["us-east-1", "us-east-2", "us-west-2"]'
    )


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("s3://shared-bucket", "it must be s3://<bucket>/<key or prefix>"),
        ("shared-bucket/train.jsonl", "it must be s3://<bucket>/<key or prefix>"),
        (Token.as_string({"Ref": "DataUri"}), "it must be written out at synth, not a deploy-time value"),
    ],
)
def test_an_s3_uri_that_names_no_object_or_only_at_deploy_time_is_refused(uri, message):
    with pytest.raises(ValueError) as raised:
        TrainingDataSource.from_s3_uri(uri)
    assert str(raised.value) == f"the S3 URI of the training data is {uri!r}; {message}"


@pytest.mark.parametrize("prefix", ["", "/bedrock/logs", "bedrock/logs/"])
def test_invocation_logging_refuses_a_key_prefix_with_slashes_at_its_ends(prefix):
    stack = Stack(App(), "Bare", env=ENV)
    with pytest.raises(ValueError) as raised:
        InvocationLogging(
            stack,
            "Logging",
            stage_name="dev",
            bucket=imported_bucket(stack, "logs"),
            key=imported_key(stack),
            key_prefix=prefix,
        )
    assert str(raised.value) == (
        f"key_prefix is {prefix!r}; it must be a folder of the bucket without leading or trailing slashes, e.g. "
        '"bedrock/logs" (Bedrock writes under <key_prefix>/AWSLogs/)'
    )


def test_a_job_given_a_model_id_for_a_teacher_or_a_uri_for_its_data_is_told_what_to_give():
    from distill.constructs import DistillationJob
    from tests.constructs.bare import imported_role

    stack = Stack(App(), "Bare", env=ENV)
    common = {
        "stage_name": "dev",
        "student": STUDENT,
        "output_bucket": imported_bucket(stack, "out"),
        "service_role": imported_role(stack, "bedrock"),
        "key": imported_key(stack),
    }
    with pytest.raises(TypeError) as raised:
        DistillationJob(
            stack,
            "A",
            teacher="amazon.nova-pro-v1:0",
            training_data=TrainingDataSource.from_s3_uri("s3://d/t"),
            **common,
        )
    assert str(raised.value) == "teacher is 'amazon.nova-pro-v1:0'; give Teacher.model(...) or Teacher.profile(...)"
    with pytest.raises(TypeError) as raised:
        DistillationJob(stack, "B", teacher=Teacher.model("amazon.nova-pro-v1:0"), training_data="s3://d/t", **common)
    assert str(raised.value) == (
        "training_data is 's3://d/t'; give a TrainingDataSource (from_upload, from_s3_uri, from_invocation_logs or "
        "from_invocation_logs_uri)"
    )
