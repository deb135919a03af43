"""A local training dataset, uploaded on deploy into the stage's training-data bucket."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from distill.constructs.data_key import S3_KEY_ACTIONS, usage_through
from distill.constructs.handler_function import HandlerFunction
from distill.constructs.handler_provider import HandlerProvider
from distill.constructs.nag import acknowledge, rendered

DATASETS_PREFIX = "datasets/"


def dataset_key(digest: str) -> str:
    """Where a local dataset is copied in the stage's training-data bucket: named by its content, so that a new
    dataset is a new object and the job that read the old one keeps it."""
    return f"{DATASETS_PREFIX}{digest[:16]}.jsonl"


def dataset_uploads_policy(scope: Construct, id: str, bucket: s3.IBucket) -> iam.ManagedPolicy:
    """Reading and writing the uploaded datasets of ``bucket``, for the stack that owns the bucket to make (the
    upload handler's role, in another stack, attaches it). HeadObject, which finds a dataset already copied, is
    authorized as s3:GetObject."""
    datasets = bucket.arn_for_objects(f"{DATASETS_PREFIX}*")
    policy = iam.ManagedPolicy(
        scope,
        id,
        statements=[
            iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[datasets]),
            # Without s3:ListBucket, S3 answers a HeadObject for a key that is not there with 403, not 404 (S3 API
            # reference, HeadObject, "Permissions", read 2026-12-01): the first upload would fail.
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": f"{DATASETS_PREFIX}*"}},
            ),
        ],
    )
    acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{rendered(scope, datasets)}]",
        "The stage's uploaded datasets, each named by its content hash: rolling an upload back needs the last one.",
    )
    return policy


class TrainingDataUpload(Construct):
    """The file travels as a CDK asset and is copied, encrypted with the stage's key, to
    ``datasets/<content hash>.jsonl`` in the training-data bucket: a changed file is a new object, never an
    overwrite of the data an earlier job used.

    ``uploads`` (``dataset_uploads_policy``) lets the handler read and write every dataset of the bucket, not only
    this one: CloudFormation rolls this resource back to the previous dataset before it rolls back any policy, and
    the handler must find the previous object then.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        file: Path,
        digest: str,
        bucket: s3.IBucket,
        uploads: iam.IManagedPolicy,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        asset = s3_assets.Asset(self, "Asset", path=str(file))
        handler = HandlerFunction(
            self,
            "Handler",
            folder="training_data",
            entry="index.on_event",
            description="Copies the stage's training dataset into its training-data bucket",
            key=key,
            removal_policy=removal_policy,
        )
        destination_key = dataset_key(digest)
        handler.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[asset.bucket.arn_for_objects(asset.s3_object_key)])
        )
        handler.role.add_managed_policy(uploads)
        handler.add_to_role_policy(usage_through(key, "s3", S3_KEY_ACTIONS))
        provider = HandlerProvider(self, "Provider", on_event=handler, key=key, removal_policy=removal_policy)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type="Custom::TrainingDataUpload",
            properties={
                "SourceBucket": asset.s3_bucket_name,
                "SourceKey": asset.s3_object_key,
                "DestinationBucket": bucket.bucket_name,
                "DestinationKey": destination_key,
                "KmsKeyArn": key.key_arn,
            },
        )

    @property
    def s3_uri(self) -> str:
        return self.resource.get_att_string("S3Uri")
