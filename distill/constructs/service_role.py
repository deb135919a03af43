"""The IAM role that Amazon Bedrock assumes to run a stage's model customization jobs."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct


class ServiceRole(Construct):
    """Trusted by bedrock.amazonaws.com only for this account's customization jobs (aws:SourceAccount and
    aws:SourceArn, user guide, model-customization-iam-role.html); it holds no permission of its own.

    Each ``DistillationJob`` grants the role what that job needs (its teacher, its data, its output, the key), in a
    managed policy of the job's stack: the role can do what the stage's jobs together need, no more. A role holds
    at most 10 managed policies unless the IAM quota is raised (IAM user guide, reference_iam-quotas.html), and
    each job attaches one (two while a job is replaced), which bounds the distilling models that share a role.
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

    @property
    def role_arn(self) -> str:
        return self.role.role_arn
