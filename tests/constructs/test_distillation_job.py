"""DistillationJob alone: the job resource, what its service role may read and invoke, and its training-loss
metrics; for each kind of training data and teacher."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Stack

from distill.constructs import (
    DistillationJob,
    InvocationLogging,
    JobVpc,
    Teacher,
    TrainingData,
    TrainingDataSource,
)
from tests.conftest import ROOT
from tests.constructs.bare import (
    ACCOUNT,
    KEY_ARN,
    REGION,
    STUDENT,
    imported_bucket,
    imported_key,
    imported_role,
)

TEACHER = "amazon.nova-pro-v1:0"
MODEL_TEACHER = Teacher.model(TEACHER)
DATA_URI = "s3://example-datasets/claims/train.jsonl"
LOGS_URI = "s3://example-logs/bedrock/AWSLogs/"
DATASET = ROOT / "datasets" / "sample-sec-filings.jsonl"
# What the service role may do with the key whatever the job reads: through Bedrock (the custom model) and S3.
KEY_STATEMENTS = [
    {
        "Action": ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
        "Condition": {"StringEquals": {"kms:ViaService": f"bedrock.{REGION}.amazonaws.com"}},
        "Effect": "Allow",
        "Resource": [KEY_ARN],
    },
    {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
        "Effect": "Allow",
        "Resource": [KEY_ARN],
    },
]
OUTPUT_STATEMENTS = [
    {"Action": ["s3:ListBucket"], "Effect": "Allow", "Resource": ["arn:aws:s3:::example-output"]},
    {
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Effect": "Allow",
        "Resource": ["arn:aws:s3:::example-output/distillation-output/*"],
    },
]


def invoke(*resources: str) -> dict:
    return {"Action": ["bedrock:InvokeModel"], "Effect": "Allow", "Resource": sorted(resources)}


def reads(bucket: str, objects: str) -> list[dict]:
    return [
        {"Action": ["s3:ListBucket"], "Effect": "Allow", "Resource": [f"arn:aws:s3:::{bucket}"]},
        {"Action": ["s3:GetObject"], "Effect": "Allow", "Resource": [f"arn:aws:s3:::{bucket}/{objects}"]},
    ]


def job_builder(data, teacher: Teacher = MODEL_TEACHER, **props):
    """A job with an imported output bucket, service role and key; ``data`` makes its TrainingDataSource."""

    def build(stack: Stack) -> DistillationJob:
        return DistillationJob(
            stack,
            "Job",
            stage_name="dev",
            teacher=teacher,
            student=STUDENT,
            training_data=data(stack),
            output_bucket=imported_bucket(stack, "example-output"),
            service_role=imported_role(stack, "bedrock-distillation"),
            key=imported_key(stack),
            **props,
        )

    return build


def upload(stack: Stack) -> TrainingDataSource:
    return TrainingDataSource.from_upload(
        TrainingData(
            stack,
            "Data",
            file=DATASET,
            bucket=imported_bucket(stack, "example-training-data"),
            key=imported_key(stack),
        )
    )


VARIANTS = {
    "s3 uri": job_builder(lambda stack: TrainingDataSource.from_s3_uri(DATA_URI)),
    "upload": job_builder(upload),
    "logs uri": job_builder(
        lambda stack: TrainingDataSource.from_invocation_logs_uri(
            LOGS_URI, use_prompt_response=True, request_metadata_filters={"equals": {"project": "claims"}}
        )
    ),
    "own logs": job_builder(
        lambda stack: TrainingDataSource.from_invocation_logs(
            InvocationLogging(
                stack,
                "Logging",
                stage_name="dev",
                bucket=imported_bucket(stack, "example-logs"),
                key=imported_key(stack),
                key_prefix="bedrock",
            )
        )
    ),
    "profile": job_builder(
        lambda stack: TrainingDataSource.from_s3_uri(DATA_URI),
        teacher=Teacher.profile(f"us.{TEACHER}", foundation_model=TEACHER, regions=["us-east-1", "us-west-2"]),
    ),
    "vpc": job_builder(
        lambda stack: TrainingDataSource.from_s3_uri(DATA_URI),
        vpc=JobVpc(subnet_ids=("subnet-0123456789abcdef0",), security_group_ids=("sg-0123456789abcdef0",)),
    ),
}


@pytest.fixture(scope="module")
def jobs(synth):
    return {name: synth(build) for name, build in VARIANTS.items()}


@pytest.fixture(scope="module")
def bare(jobs):
    return jobs["s3 uri"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_cdk_nag_reports_nothing(jobs, variant):
    assert jobs[variant].findings == []


def test_the_job_is_one_custom_resource_with_its_handler_and_provider(bare):
    assert bare.counts() == {
        "Custom::BedrockDistillationJob": 1,
        # The job's Access policy, the handler's and the provider framework's.
        "AWS::IAM::ManagedPolicy": 3,
        # The provider framework's permission to invoke the handler (aws-cdk-lib writes it inline).
        "AWS::IAM::Policy": 1,
        "AWS::IAM::Role": 2,
        "AWS::Lambda::Function": 2,
        "AWS::Lambda::LayerVersion": 2,
        "AWS::Logs::LogGroup": 2,
    }
    assert bare.other_warnings() == []


def test_the_job_is_started_with_what_defines_it(bare):
    job = bare.only("Custom::BedrockDistillationJob")
    properties = job["Properties"]
    assert properties["JobName"] == bare.built.job_name
    assert bare.built.job_name.startswith("dev-distill-")
    assert properties["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/bedrock-distillation"
    assert (properties["TeacherModelIdentifier"], properties["StudentModelIdentifier"]) == (TEACHER, STUDENT)
    assert json.loads(properties["TrainingDataConfig"]) == {"s3Uri": DATA_URI}
    assert properties["OutputS3Uri"] == "s3://example-output/distillation-output/"
    assert properties["CustomModelKmsKeyId"] == KEY_ARN
    assert json.loads(properties["JobTags"]) == {"distillation-stage": "dev"}
    assert properties["RetainModelOnDelete"] == "true"
    # Bedrock checks the role's access when it accepts the job.
    assert job["DependsOn"] == [bare.logical_id(bare.built.access)]


def test_the_access_policy_is_attached_to_the_service_role_given(bare):
    assert bare.resource(bare.built.access)["Properties"]["Roles"] == ["bedrock-distillation"]


def test_the_service_role_invokes_exactly_the_teacher_and_reads_exactly_the_data(bare):
    assert bare.statements(bare.built.access) == [
        invoke(f"arn:aws:bedrock:{REGION}::foundation-model/{TEACHER}"),
        *reads("example-datasets", "claims/train.jsonl*"),
        *OUTPUT_STATEMENTS,
        *KEY_STATEMENTS,
    ]


def test_an_uploaded_dataset_is_read_from_the_datasets_of_its_bucket(jobs):
    bare = jobs["upload"]
    assert bare.statements(bare.built.access)[1:3] == reads("example-training-data", "datasets/*")
    config = bare.only("Custom::BedrockDistillationJob")["Properties"]["TrainingDataConfig"]
    (upload_id,) = bare.of_type("Custom::TrainingDataUpload")
    assert {"Fn::GetAtt": [upload_id, "S3Uri"]} in config["Fn::Join"][1]


def test_invocation_logs_named_by_uri_are_read_under_their_prefix_with_the_filter(jobs):
    bare = jobs["logs uri"]
    assert bare.statements(bare.built.access)[1:3] == reads("example-logs", "bedrock/AWSLogs/*")
    config = json.loads(bare.only("Custom::BedrockDistillationJob")["Properties"]["TrainingDataConfig"])
    assert config == {
        "invocationLogsConfig": {
            "usePromptResponse": True,
            "invocationLogSource": {"s3Uri": LOGS_URI},
            "requestMetadataFilters": {"equals": {"project": "claims"}},
        }
    }


def test_the_stages_own_invocation_logs_are_read_under_the_prefix_bedrock_writes(jobs):
    bare = jobs["own logs"]
    assert bare.statements(bare.built.access)[1:3] == reads("example-logs", "bedrock/AWSLogs/*")
    config = json.loads(bare.only("Custom::BedrockDistillationJob")["Properties"]["TrainingDataConfig"])
    assert config == {
        "invocationLogsConfig": {
            "usePromptResponse": False,
            "invocationLogSource": {"s3Uri": "s3://example-logs/bedrock/AWSLogs/"},
        }
    }


def test_a_teacher_behind_a_profile_is_invoked_in_each_of_its_regions_and_as_the_profile(jobs):
    bare = jobs["profile"]
    assert bare.statements(bare.built.access)[0] == invoke(
        f"arn:aws:bedrock:us-east-1::foundation-model/{TEACHER}",
        f"arn:aws:bedrock:us-west-2::foundation-model/{TEACHER}",
        f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.{TEACHER}",
    )
    assert bare.only("Custom::BedrockDistillationJob")["Properties"]["TeacherModelIdentifier"] == f"us.{TEACHER}"


def test_a_job_in_a_vpc_may_make_its_network_interfaces_only_in_the_subnets_and_groups_given(jobs):
    bare = jobs["vpc"]
    statements = bare.statements(bare.built.access)
    creates = [s for s in statements if s["Action"] == ["ec2:CreateNetworkInterface"]]
    assert [s["Resource"] for s in creates] == [
        [
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-0123456789abcdef0",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/subnet-0123456789abcdef0",
        ],
        [f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*"],
    ]
    assert creates[1]["Condition"] == {"StringEquals": {"aws:RequestTag/BedrockManaged": "true"}}
    vpc = json.loads(bare.only("Custom::BedrockDistillationJob")["Properties"]["VpcConfig"])
    assert vpc == {"subnetIds": ["subnet-0123456789abcdef0"], "securityGroupIds": ["sg-0123456789abcdef0"]}


def test_the_handler_may_stop_only_the_stages_jobs_and_pass_only_the_service_role(bare):
    statements = bare.statements(bare.find("Job/Job/OnEvent/Policy"))
    (stop,) = [s for s in statements if s["Action"] == ["bedrock:StopModelCustomizationJob"]]
    assert stop["Condition"] == {"StringEquals": {"aws:ResourceTag/distillation-stage": "dev"}}
    (passing,) = [s for s in statements if s["Action"] == ["iam:PassRole"]]
    assert passing["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/bedrock-distillation"]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}


def test_the_training_loss_metrics_are_the_publishers_by_job_name_and_stage(bare):
    job = bare.built
    for metric, name in (
        (job.metric_training_loss(), "TrainingLoss"),
        (job.metric_final_training_loss(), "FinalTrainingLoss"),
    ):
        assert (metric.namespace, metric.metric_name, metric.statistic) == ("BedrockDistillation", name, "Average")
        assert metric.dimensions == {"JobName": job.job_name, "Stage": "dev"}
    assert job.metric_training_loss(statistic="Minimum").statistic == "Minimum"


def test_an_imported_key_warns_that_its_owner_must_let_cloudwatch_logs_use_it(bare):
    """The handlers' log groups are encrypted with the key: CloudWatch Logs refuses a key whose policy does not
    let it, and an imported key's policy cannot be changed here."""
    (warning,) = [w for w in bare.warnings() if w.startswith("Bare/ImportedKey: ")]
    assert "CloudWatch Logs cannot create the handlers' log groups encrypted with the key" in warning
    assert '"Service": "logs.us-east-1.amazonaws.com"' in warning
