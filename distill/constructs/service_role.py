"""The IAM role that Amazon Bedrock assumes to run the stage's model customization jobs."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from distill.constructs.nag import acknowledge


class ServiceRole(Construct):
    """Trusted by bedrock.amazonaws.com only for this account's customization jobs; least privilege on the data.

    Key permissions are not here: the key policy grants them, limited to use through Bedrock and S3
    (see ``DataKey.allow_via_service``).
    """

    def __init__(self, scope: Construct, id: str, *, stage_name: str) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            description=f"Assumed by Amazon Bedrock to run the {stage_name} stage's distillation jobs",
            assumed_by=iam.ServicePrincipal("bedrock.amazonaws.com").with_conditions(
                {
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="bedrock", resource="model-customization-job", resource_name="*"
                        )
                    },
                }
            ),
        )
        self._policy = iam.ManagedPolicy(self, "Policy", roles=[self.role])

    @property
    def role_arn(self) -> str:
        return self.role.role_arn

    def grant_read_data(self, bucket: s3.IBucket, prefix: str = "") -> None:
        """Read training data or invocation logs under ``prefix`` of ``bucket``."""
        self._add(["s3:ListBucket"], [bucket.bucket_arn])
        self._add(["s3:GetObject"], [bucket.arn_for_objects(f"{prefix}*")])
        self._acknowledge_objects(bucket, prefix, "reads the training records or invocation logs")

    def grant_write_output(self, bucket: s3.IBucket) -> None:
        """Write the job's output (metrics and artifacts) into ``bucket``, and read it back as Bedrock does."""
        self._add(["s3:ListBucket"], [bucket.bucket_arn])
        self._add(["s3:GetObject", "s3:PutObject"], [bucket.arn_for_objects("*")])
        self._acknowledge_objects(bucket, "", "writes the job's output under a prefix named by the job")

    def policy_in(self, scope: Construct, id: str) -> iam.ManagedPolicy:
        """A policy for this role that lives in another stack, for what that stack's job needs (the teacher)."""
        return iam.ManagedPolicy(scope, id, roles=[self.role])

    def _add(self, actions: list[str], resources: list[str]) -> None:
        self._policy.add_statements(iam.PolicyStatement(actions=actions, resources=resources))

    def _acknowledge_objects(self, bucket: s3.IBucket, prefix: str, why: str) -> None:
        stack = Stack.of(self)
        resolved = stack.resolve(bucket.bucket_arn)
        logical_id = resolved["Fn::GetAtt"][0]
        acknowledge(
            self._policy,
            f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{prefix}*]",
            f"Object-level access inside this stage's own bucket: Bedrock {why}, whose object names it chooses itself.",
        )
