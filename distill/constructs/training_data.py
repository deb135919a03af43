"""Where a distillation job's prompts come from (``TrainingDataSource``), and a local dataset uploaded on deploy
into the stage's training-data bucket (``TrainingData``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import CustomResource, RemovalPolicy, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from distill.constructs.data_key import S3_KEY_ACTIONS, usage_through
from distill.constructs.handler_function import HandlerFunction
from distill.constructs.handler_provider import HandlerProvider
from distill.constructs.invocation_logging import InvocationLogging
from distill.constructs.nag import acknowledge_resource

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
    acknowledge_resource(
        policy,
        "AwsSolutions-IAM5",
        datasets,
        "The stage's uploaded datasets, each named by its content hash: rolling an upload back needs the last one.",
    )
    return policy


def file_digest(path: Path) -> str:
    """sha256 (hex) of a file's content, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def value_digest(value: Any) -> str:
    """sha256 (hex) of a JSON value, keys sorted."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


class TrainingData(Construct):
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
        bucket: s3.IBucket,
        key: kms.IKey,
        uploads: iam.IManagedPolicy | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """``file`` is a JSONL dataset (check it with `distill validate` first); ``bucket`` receives it, encrypted
        with ``key``; ``uploads`` is ``dataset_uploads_policy`` of the bucket when the bucket's stack makes it, else
        the construct makes it beside the handler."""
        super().__init__(scope, id)
        self.bucket = bucket
        self.digest = file_digest(file)
        if uploads is None:
            uploads = dataset_uploads_policy(self, "Uploads", bucket)
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
        destination_key = dataset_key(self.digest)
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
        """Where the job reads the dataset: ``s3://<bucket>/datasets/<16 hex digits>.jsonl``, from the resource (so
        that a job depends on the copy)."""
        return self.resource.get_att_string("S3Uri")

    @property
    def location(self) -> str:
        """The same object as ``s3_uri``, known at synth: for readers that must not depend on this resource (the
        smoke test of another stack)."""
        return f"s3://{self.bucket.bucket_name}/{dataset_key(self.digest)}"


def _checked_uri(uri: str, what: str) -> str:
    """``uri`` if it is ``s3://<bucket>/<key or prefix>`` written out at synth: the job's role is granted what it
    names, so a bucket alone (the whole bucket) or a deploy-time value (which no grant can name) is refused."""
    if not isinstance(uri, str) or Token.is_unresolved(uri):
        raise ValueError(f"the S3 URI of {what} is {uri!r}; it must be written out at synth, not a deploy-time value")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise ValueError(f"the S3 URI of {what} is {uri!r}; it must be s3://<bucket>/<key or prefix>")
    return uri


@dataclass(frozen=True)
class TrainingDataSource:
    """Where a distillation job reads its prompts, and what it must be allowed to read there.

    Make one with ``from_upload`` (a ``TrainingData`` copy of a local file), ``from_s3_uri`` (a JSONL object, or a
    prefix of them, someone else keeps), ``from_invocation_logs`` (a stage's own ``InvocationLogging``) or
    ``from_invocation_logs_uri`` (logs kept elsewhere). ``digest`` identifies what the job reads (the file's
    content, the URI, the filter): it is part of the job's name, so a change of it is a new job.
    ``request_metadata_filters`` and ``use_prompt_response`` are the API's ``requestMetadataFilters`` (one of
    ``equals``, ``notEquals``, ``andAll``, ``orAll``, e.g. ``{"equals": {"project": "tickets"}}``; check one with
    `distill preview-logs`) and ``usePromptResponse`` (Bedrock API reference, InvocationLogsConfig).
    """

    digest: str
    s3_uri: str | None = None
    upload: TrainingData | None = None
    logging: InvocationLogging | None = None
    logs_s3_uri: str | None = None
    use_prompt_response: bool = False
    request_metadata_filters: Mapping[str, Any] | None = field(default=None, hash=False)

    @classmethod
    def from_upload(cls, upload: TrainingData) -> TrainingDataSource:
        return cls(digest=upload.digest, upload=upload)

    @classmethod
    def from_s3_uri(cls, s3_uri: str) -> TrainingDataSource:
        """``s3_uri``: ``s3://bucket/key`` of a bedrock-conversation-2024 JSONL file (or a prefix of such files),
        known at synth; the job's service role may read what it names. Raises ValueError otherwise."""
        return cls(digest=value_digest(s3_uri), s3_uri=_checked_uri(s3_uri, "the training data"))

    @classmethod
    def from_invocation_logs(
        cls,
        logging: InvocationLogging,
        *,
        use_prompt_response: bool = False,
        request_metadata_filters: Mapping[str, Any] | None = None,
    ) -> TrainingDataSource:
        return cls._logs(None, logging, use_prompt_response, request_metadata_filters)

    @classmethod
    def from_invocation_logs_uri(
        cls,
        s3_uri: str,
        *,
        use_prompt_response: bool = False,
        request_metadata_filters: Mapping[str, Any] | None = None,
    ) -> TrainingDataSource:
        """``s3_uri``: the ``AWSLogs/`` prefix of invocation logs this stack does not configure."""
        return cls._logs(
            _checked_uri(s3_uri, "the invocation logs"), None, use_prompt_response, request_metadata_filters
        )

    @classmethod
    def _logs(
        cls,
        s3_uri: str | None,
        logging: InvocationLogging | None,
        use_prompt_response: bool,
        filters: Mapping[str, Any] | None,
    ) -> TrainingDataSource:
        filters = dict(filters) if filters is not None else None
        return cls(
            digest=value_digest([s3_uri, filters, use_prompt_response]),
            logging=logging,
            logs_s3_uri=s3_uri,
            use_prompt_response=use_prompt_response,
            request_metadata_filters=filters,
        )

    @property
    def is_invocation_logs(self) -> bool:
        return self.logging is not None or self.logs_s3_uri is not None

    def training_data_config(self) -> dict[str, object]:
        """The job's TrainingDataConfig (Bedrock API reference, CreateModelCustomizationJob)."""
        if self.upload is not None:
            return {"s3Uri": self.upload.s3_uri}
        if self.s3_uri is not None:
            return {"s3Uri": self.s3_uri}
        if self.logging is not None:
            uri = f"s3://{self.logging.bucket.bucket_name}/{self.logging.logs_prefix}"
        else:
            assert self.logs_s3_uri is not None
            uri = self.logs_s3_uri
        logs: dict[str, object] = {"usePromptResponse": self.use_prompt_response, "invocationLogSource": {"s3Uri": uri}}
        if self.request_metadata_filters is not None:
            logs["requestMetadataFilters"] = dict(self.request_metadata_filters)
        return {"invocationLogsConfig": logs}

    @property
    def prompts_location(self) -> str | None:
        """The dataset a smoke test may take prompts from: the uploaded copy or the URI; None for invocation logs
        (the whole account's prompts)."""
        if self.upload is not None:
            return self.upload.location
        return self.s3_uri
