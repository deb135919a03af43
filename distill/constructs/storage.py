"""The stage's S3 buckets: training data, job output and invocation logs, with server access logs beside them."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from distill.constructs.nag import acknowledge, acknowledge_compliance

# An old version of an object is kept this long after it was overwritten or deleted, so a mistake can be undone.
NONCURRENT_VERSION_DAYS = 90
# In the invocation-logs bucket an expired log's old version goes sooner: the retention is the promise there, and
# a week still undoes an accidental delete.
NONCURRENT_LOG_DAYS = 7
DEFAULT_LOG_RETENTION = Duration.days(90)


class DistillationStorage(Construct):
    """Four buckets with one security baseline: TLS only, no public access, versioned, access-logged.

    The three data buckets use the stage's KMS key. The access-log bucket uses S3-managed keys because S3 server
    access logging cannot deliver into an SSE-KMS bucket. Every object of the invocation-logs bucket expires
    ``log_retention`` (whole days) after it was written. With ``removal_policy`` DESTROY, deleting the stack empties
    and deletes the buckets; with RETAIN (the default) they and their data stay.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        log_retention: Duration = DEFAULT_LOG_RETENTION,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        self._destroy = removal_policy == RemovalPolicy.DESTROY
        self.access_logs = self._bucket(
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
        )
        acknowledge_compliance(
            self.access_logs,
            {
                "S3DefaultEncryptionKMS": (
                    "S3 server access logging cannot deliver into a bucket encrypted with a KMS key; SSE-S3 is the "
                    "strongest encryption the log destination supports."
                )
            },
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the server access log destination; logging it into itself would loop. Access to it "
            "is recorded by CloudTrail.",
        )
        self.training_data = self._data_bucket("TrainingData", key)
        self.output = self._data_bucket("Output", key)
        # The bucket holds nothing but invocation logs, under whichever key prefix they were delivered, so the rule
        # covers the whole bucket. In a versioned bucket, expiring a current version makes it noncurrent behind a
        # delete marker; the noncurrent version is deleted NONCURRENT_LOG_DAYS later, and S3 then removes the delete
        # marker left alone (S3 user guide, "Expiring objects",
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html, read
        # 2026-12-02).
        self.invocation_logs = self._data_bucket(
            "InvocationLogs",
            key,
            lifecycle=s3.LifecycleRule(
                id="ExpireInvocationLogs",
                expiration=log_retention,
                noncurrent_version_expiration=Duration.days(NONCURRENT_LOG_DAYS),
                abort_incomplete_multipart_upload_after=Duration.days(7),
            ),
        )

    def _data_bucket(self, id: str, key: kms.IKey, lifecycle: s3.LifecycleRule | None = None) -> s3.Bucket:
        return self._bucket(
            id,
            lifecycle=lifecycle,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{id}/",
        )

    def _bucket(self, id: str, *, lifecycle: s3.LifecycleRule | None = None, **options: object) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            id,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            removal_policy=RemovalPolicy.DESTROY if self._destroy else RemovalPolicy.RETAIN,
            auto_delete_objects=self._destroy,
            lifecycle_rules=[
                lifecycle
                or s3.LifecycleRule(
                    id="ExpireOldVersions",
                    noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            **options,  # type: ignore[arg-type]
        )
        acknowledge_compliance(
            bucket,
            {
                "S3BucketReplicationEnabled": (
                    "Not replicated on purpose: Bedrock distillation reads and writes these buckets in the stage's "
                    "Region only, and a replica would copy the prompts and responses they hold (training data, "
                    "invocation logs) out of that Region and its lifecycle rules. Versioning keeps each object's "
                    "history in place. The loss of the Region is accepted: training data is uploaded again from its "
                    "source and job output comes again from a new job, while invocation logs and access logs cannot "
                    "be regenerated and are lost with it."
                )
            },
        )
        return bucket
