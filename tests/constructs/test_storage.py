"""DistillationStorage alone, with a key defined elsewhere: four versioned, TLS-only, private buckets, the data ones
encrypted with the key and access-logged into the fourth."""

from __future__ import annotations

import pytest
from aws_cdk import Duration, RemovalPolicy

from distill.constructs import DistillationStorage
from tests.constructs.bare import KEY_ARN, flat, imported_key


@pytest.fixture(scope="module")
def bare(synth):
    return synth(lambda stack: DistillationStorage(stack, "Storage", key=imported_key(stack)))


@pytest.fixture(scope="module")
def destroyed(synth):
    return synth(
        lambda stack: DistillationStorage(
            stack,
            "Storage",
            key=imported_key(stack),
            log_retention=Duration.days(30),
            removal_policy=RemovalPolicy.DESTROY,
        )
    )


def data_buckets(bare):
    storage = bare.built
    return {"TrainingData": storage.training_data, "Output": storage.output, "InvocationLogs": storage.invocation_logs}


@pytest.mark.parametrize("variant", ["retain", "destroy"])
def test_cdk_nag_reports_nothing(bare, destroyed, variant):
    assert {"retain": bare, "destroy": destroyed}[variant].findings == []


def test_four_buckets_each_with_a_tls_only_policy(bare):
    assert bare.counts() == {"AWS::S3::Bucket": 4, "AWS::S3::BucketPolicy": 4}
    for bucket in (*data_buckets(bare).values(), bare.built.access_logs):
        properties = bare.resource(bucket)["Properties"]
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
        denies = [s for s in bare.statements(bucket.policy) if s["Effect"] == "Deny"]
        assert [s["Condition"] for s in denies] == [
            {"Bool": {"aws:SecureTransport": "false"}},
            {"NumericLessThan": {"s3:TlsVersion": 1.2}},
        ]


def test_the_data_buckets_use_the_key_given_and_log_access_under_their_own_prefix(bare):
    logs = bare.logical_id(bare.built.access_logs)
    for prefix, bucket in data_buckets(bare).items():
        properties = flat(bare.resource(bucket)["Properties"])
        (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption == {
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {"KMSMasterKeyID": KEY_ARN, "SSEAlgorithm": "aws:kms"},
        }
        assert properties["LoggingConfiguration"] == {
            "DestinationBucketName": "${" + logs + "}",
            "LogFilePrefix": f"{prefix}/",
        }


def test_the_access_log_bucket_uses_s3_managed_keys(bare):
    (encryption,) = bare.resource(bare.built.access_logs)["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ]
    assert encryption == {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}


def test_invocation_logs_expire_after_the_retention_and_other_objects_keep_old_versions_90_days(bare, destroyed):
    def rules(storage, bucket):
        return storage.resource(bucket)["Properties"]["LifecycleConfiguration"]["Rules"]

    assert [r.get("ExpirationInDays") for r in rules(bare, bare.built.invocation_logs)] == [90]
    assert [r.get("ExpirationInDays") for r in rules(destroyed, destroyed.built.invocation_logs)] == [30]
    assert [r["NoncurrentVersionExpiration"] for r in rules(bare, bare.built.output)] == [{"NoncurrentDays": 90}]
    assert "ExpirationInDays" not in rules(bare, bare.built.training_data)[0]


def test_the_buckets_and_their_data_are_kept_unless_the_removal_policy_is_destroy(bare, destroyed):
    assert {r["DeletionPolicy"] for r in bare.of_type("AWS::S3::Bucket").values()} == {"Retain"}
    assert {r["DeletionPolicy"] for r in destroyed.of_type("AWS::S3::Bucket").values()} == {"Delete"}
    assert len(destroyed.of_type("Custom::S3AutoDeleteObjects")) == 4
