"""The distillation job as a stack resource: Create starts it and returns once Bedrock has accepted it."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from distill.constructs.bedrock_resource import BedrockResource, Permission
from distill.constructs.data_key import BEDROCK_KEY_ACTIONS, DataKey
from distill.job_config import DistillationConfig

JOB_NAMES_REASON = (
    "Job and custom model names are generated per CloudFormation request (unique, idempotent), so the handler "
    "acts on this account and Region's customization jobs and custom models rather than on names known at synth."
)


class DistillationJob(Construct):
    """A DISTILLATION model customization job; a change to anything that defines it starts a new job.

    The resource does not wait for the job: a job runs for hours and a custom resource gets one hour, and a stack
    rollback elsewhere must never stop a paid job by accident. The serving stack waits for the model instead.
    Delete stops a job that is still running; the custom model is kept unless ``retain_model`` is false. Tags are
    not part of the job's definition: a change of tags is applied to the job and its model in place.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        config: DistillationConfig,
        training_data_config: Mapping[str, object],
        output_s3_uri: str,
        service_role: iam.IRole,
        key: DataKey,
        tags: Mapping[str, str],
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        jobs = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        models = stack.format_arn(service="bedrock", resource="custom-model", resource_name="*")
        properties: dict[str, object] = {
            "JobNamePrefix": f"{stage_name}-distill",
            "RoleArn": service_role.role_arn,
            "TeacherModelIdentifier": config.teacher,
            "StudentModelIdentifier": config.student,
            "MaxResponseLengthForInference": str(config.max_response_length),
            "TrainingDataConfig": stack.to_json_string(training_data_config),
            "OutputS3Uri": output_s3_uri,
            "CustomModelKmsKeyId": key.key_arn,
            "JobTags": stack.to_json_string({**tags, **config.job_tags}),
            "CustomModelTags": stack.to_json_string({**tags, **config.job_tags}),
            "RetainModelOnDelete": "true" if config.retain_model else "false",
        }
        if config.subnet_ids:
            properties["VpcConfig"] = stack.to_json_string(
                {"subnetIds": list(config.subnet_ids), "securityGroupIds": list(config.security_group_ids)}
            )
        self._resource = BedrockResource(
            self,
            "Job",
            folder="distillation_job",
            resource_type="Custom::BedrockDistillationJob",
            description=f"Starts, replaces and stops the {stage_name} stage's Bedrock distillation job",
            key=key,
            removal_policy=removal_policy,
            properties=properties,
            permissions=[
                Permission(
                    actions=[
                        "bedrock:CreateModelCustomizationJob",
                        "bedrock:GetModelCustomizationJob",
                        "bedrock:StopModelCustomizationJob",
                        "bedrock:TagResource",
                        "bedrock:UntagResource",
                    ],
                    resources=[jobs, models],
                    wildcard_reason=JOB_NAMES_REASON,
                ),
                Permission(actions=["bedrock:DeleteCustomModel"], resources=[models], wildcard_reason=JOB_NAMES_REASON),
                Permission(
                    actions=["iam:PassRole"],
                    resources=[service_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
                ),
            ],
            key_via_bedrock=BEDROCK_KEY_ACTIONS,
        )

    @property
    def job_arn(self) -> str:
        return self._resource.physical_id

    @property
    def job_name(self) -> str:
        return self._resource.attribute("JobName")

    @property
    def custom_model_name(self) -> str:
        return self._resource.attribute("CustomModelName")
