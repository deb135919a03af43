"""Training stack: the training data, the teacher permissions and the distillation job of a stage."""

from __future__ import annotations

from aws_cdk import Annotations, CfnOutput, Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from distill.config.distillation import DistillationConfig
from distill.config.stages import StageConfig
from distill.constructs.distillation_job import DistillationJob
from distill.constructs.nag import acknowledge, rendered
from distill.constructs.names import OUTPUT_PREFIX, TRAINING_METRICS_PATH
from distill.constructs.training_data import TrainingDataUpload
from distill.stacks.foundation import FoundationStack


class TrainingStack(Stack):
    """Starts the distillation job; returns as soon as Bedrock has accepted it."""

    def __init__(self, scope: Construct, id: str, *, stage: StageConfig, foundation: FoundationStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        assert stage.distillation is not None
        config = stage.distillation
        if config.pair_warning:
            Annotations.of(self).add_warning_v2("distill:unlisted-pair", config.pair_warning)
        removal = RemovalPolicy.DESTROY if stage.destroy_on_delete else RemovalPolicy.RETAIN
        storage = foundation.storage
        self.job_access = foundation.service_role.policy_in(self, "JobAccess")
        self._grant_teacher(config)
        training_data_config = self._training_data_config(config, foundation, removal)
        self.output_s3_uri = f"s3://{storage.output.bucket_name}/{OUTPUT_PREFIX}"
        self.job = DistillationJob(
            self,
            "DistillationJob",
            stage_name=stage.name,
            config=config,
            training_data_config=training_data_config,
            output_s3_uri=self.output_s3_uri,
            service_role=foundation.service_role.role,
            key=foundation.data_key.key,
            tags=stage.tags,
            removal_policy=removal,
        )
        # Bedrock checks the role's access to the teacher and the data when it accepts the job.
        self.job.node.add_dependency(self.job_access)
        if config.subnet_ids:
            self._grant_vpc(config)
        CfnOutput(self, "JobArn", value=self.job.job_arn, description="The distillation job")
        CfnOutput(self, "JobName", value=self.job.job_name, description="The distillation job's name")
        CfnOutput(self, "CustomModelName", value=self.job.custom_model_name, description="The custom model's name")

    def _grant_vpc(self, config: DistillationConfig) -> None:
        """What Bedrock does as the service role to run the job in the stage's VPC: describe the network, and make,
        tag and remove the job's network interfaces, which it tags BedrockManaged (user guide,
        vpc-model-customization.html, "Attach VPC permissions to a model customization role", read 2026-12-01)."""

        def ec2(kind: str, name: str) -> str:
            return self.format_arn(service="ec2", resource=kind, resource_name=name)

        interfaces = ec2("network-interface", "*")
        managed = {"StringEquals": {"aws:RequestTag/BedrockManaged": "true"}}
        self.job_access.add_statements(
            iam.PolicyStatement(
                actions=[
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                actions=["ec2:CreateNetworkInterface"],
                resources=[ec2("subnet", s) for s in config.subnet_ids]
                + [ec2("security-group", g) for g in config.security_group_ids],
            ),
            iam.PolicyStatement(actions=["ec2:CreateNetworkInterface"], resources=[interfaces], conditions=managed),
            iam.PolicyStatement(
                actions=["ec2:CreateTags"],
                resources=[interfaces],
                conditions={"StringEquals": {"ec2:CreateAction": "CreateNetworkInterface"}},
            ),
            iam.PolicyStatement(
                actions=[
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                resources=[interfaces],
                conditions={"StringEquals": {"aws:ResourceTag/BedrockManaged": "true"}},
            ),
        )
        acknowledge(
            self.job_access,
            "AwsSolutions-IAM5[Resource::*]",
            "EC2's Describe actions take no resource-level permission; Bedrock reads the stage's VPC with them.",
        )
        acknowledge(
            self.job_access,
            f"AwsSolutions-IAM5[Resource::{rendered(self, interfaces)}]",
            "The job's network interfaces are made by Bedrock with ids it chooses; the statements are conditioned on "
            "the BedrockManaged tag Bedrock puts on them.",
        )

    def _grant_teacher(self, config: DistillationConfig) -> None:
        """Let the service role invoke exactly the teacher: its foundation model in each Region the job's calls can
        reach (``teacher_regions``: one, or every Region an inference profile routes to) and the profile itself.

        The models' lifecycle warnings are raised here too, on the stack that starts the paid job.
        """
        resources = [
            f"arn:{self.partition}:bedrock:{region}::foundation-model/{config.teacher_model}"
            for region in config.teacher_regions
        ]
        if config.teacher_profile is not None:
            resources.append(
                self.format_arn(service="bedrock", resource="inference-profile", resource_name=config.teacher_profile)
            )
        self.job_access.add_statements(iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=resources))
        for warning in config.model_warnings:
            Annotations.of(self).add_warning_v2("distill:model-lifecycle", warning)

    def _training_data_config(
        self, config: DistillationConfig, foundation: FoundationStack, removal: RemovalPolicy
    ) -> dict[str, object]:
        data = config.training_data
        storage = foundation.storage
        if data.file is not None:
            upload = TrainingDataUpload(
                self,
                "TrainingData",
                file=data.file,
                digest=data.digest,
                bucket=storage.training_data,
                uploads=foundation.dataset_uploads,
                key=foundation.data_key.key,
                removal_policy=removal,
            )
            return {"s3Uri": upload.s3_uri}
        if data.s3_uri is not None:
            self._grant_read(data.s3_uri, "the training data the stage names by URI")
            return {"s3Uri": data.s3_uri}
        logs_uri = data.logs_s3_uri
        if logs_uri is None:
            assert foundation.invocation_logging is not None
            logs_uri = f"s3://{storage.invocation_logs.bucket_name}/{foundation.invocation_logging.logs_prefix}"
        else:
            self._grant_read(logs_uri, "the invocation logs the stage names by URI")
        logs_config: dict[str, object] = {
            "usePromptResponse": data.use_prompt_response,
            "invocationLogSource": {"s3Uri": logs_uri},
        }
        if data.filters is not None:
            logs_config["requestMetadataFilters"] = data.filters.to_api()
        return {"invocationLogsConfig": logs_config}

    def _grant_read(self, uri: str, what: str) -> None:
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        objects = f"arn:{self.partition}:s3:::{bucket}/{prefix}*"
        self.job_access.add_statements(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[f"arn:{self.partition}:s3:::{bucket}"]),
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects]),
        )
        acknowledge(
            self.job_access,
            f"AwsSolutions-IAM5[Resource::{rendered(self, objects)}]",
            f"Bedrock reads {what}: every object under the configured prefix, whose names the data's owner chose.",
        )


def metrics_s3_uri(output_s3_uri: str, job_arn: str) -> str:
    """Where Bedrock writes the step-wise training metrics of a job (the job id is the ARN's last part)."""
    job_id = Fn.select(1, Fn.split("/", job_arn))
    return f"{output_s3_uri}model-customization-job-{job_id}/{TRAINING_METRICS_PATH}"
