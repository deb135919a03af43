"""TrainingData alone: a local dataset copied, as a CDK asset, into a bucket defined elsewhere under its content
hash; what the copying handler may read and write; and the TrainingDataSource made from it."""

from __future__ import annotations

import hashlib

import pytest
from aws_cdk import aws_iam as iam

from distill.constructs import TrainingData, TrainingDataSource
from distill.constructs.training_data import dataset_uploads_policy
from tests.conftest import ROOT
from tests.constructs.bare import ACCOUNT, KEY_ARN, REGION, imported_bucket, imported_key

DATASET = ROOT / "datasets" / "sample-sec-filings.jsonl"
DIGEST = hashlib.sha256(DATASET.read_bytes()).hexdigest()


def upload(stack, uploads: iam.IManagedPolicy | None = None) -> TrainingData:
    return TrainingData(
        stack,
        "Data",
        file=DATASET,
        bucket=imported_bucket(stack, "example-training-data"),
        key=imported_key(stack),
        uploads=uploads,
    )


@pytest.fixture(scope="module")
def bare(synth):
    return synth(upload)


@pytest.fixture(scope="module")
def shared_uploads(synth):
    """The uploads policy made once beside the bucket (as the app's foundation stack does) and handed in."""
    return synth(
        lambda stack: upload(
            stack, dataset_uploads_policy(stack, "Uploads", imported_bucket(stack, "example-training-data"))
        )
    )


@pytest.mark.parametrize("variant", ["own uploads policy", "uploads policy given"])
def test_cdk_nag_reports_nothing(bare, shared_uploads, variant):
    assert {"own uploads policy": bare, "uploads policy given": shared_uploads}[variant].findings == []


def test_one_upload_resource_with_its_handler_and_provider(bare, shared_uploads):
    expected = {
        "Custom::TrainingDataUpload": 1,
        # The uploads policy, the handler's and the provider framework's.
        "AWS::IAM::ManagedPolicy": 3,
        "AWS::IAM::Policy": 1,
        "AWS::IAM::Role": 2,
        "AWS::Lambda::Function": 2,
        "AWS::Lambda::LayerVersion": 2,
        "AWS::Logs::LogGroup": 2,
    }
    assert bare.counts() == expected
    # A policy handed in is attached, not made again.
    assert shared_uploads.counts() == expected
    assert shared_uploads.find("Data").node.try_find_child("Uploads") is None


def test_the_dataset_is_copied_under_its_content_hash_encrypted_with_the_key(bare):
    properties = bare.only("Custom::TrainingDataUpload")["Properties"]
    assert properties["DestinationBucket"] == "example-training-data"
    assert properties["DestinationKey"] == f"datasets/{DIGEST[:16]}.jsonl"
    assert properties["KmsKeyArn"] == KEY_ARN
    assert bare.built.digest == DIGEST
    assert bare.built.location == f"s3://example-training-data/datasets/{DIGEST[:16]}.jsonl"
    assert bare.built.s3_uri == bare.built.resource.get_att_string("S3Uri")


def test_the_handler_reads_its_asset_writes_the_datasets_of_the_bucket_and_uses_the_key_through_s3(bare):
    source = bare.only("Custom::TrainingDataUpload")["Properties"]
    handler = bare.statements(bare.find("Data/Handler/Policy"))
    assert handler[1:] == [
        {
            "Action": ["s3:GetObject"],
            "Effect": "Allow",
            "Resource": [f"arn:aws:s3:::{source['SourceBucket']}/{source['SourceKey']}"],
        },
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": [KEY_ARN],
        },
    ]
    assert source["SourceBucket"] == f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
    assert bare.statements(bare.find("Data/Uploads")) == [
        {
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::example-training-data/datasets/*"],
        },
        {
            "Action": ["s3:ListBucket"],
            "Condition": {"StringLike": {"s3:prefix": "datasets/*"}},
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::example-training-data"],
        },
    ]
    role = bare.resource(bare.find("Data/Handler/Role"))["Properties"]
    assert role["ManagedPolicyArns"] == [{"Ref": bare.logical_id(bare.find("Data/Uploads"))}]


def test_a_source_from_the_upload_reads_the_copy_and_is_named_by_the_files_content(bare):
    source = TrainingDataSource.from_upload(bare.built)
    assert source.digest == DIGEST
    assert source.training_data_config() == {"s3Uri": bare.built.s3_uri}
    assert source.prompts_location == bare.built.location
    assert not source.is_invocation_logs
