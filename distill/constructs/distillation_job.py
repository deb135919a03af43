"""The distillation job as a stack resource: Create starts it and returns once Bedrock has accepted it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from distill.config.distillation import DistillationConfig
from distill.constructs.bedrock_resource import (
    BedrockResource,
    Permission,
    model_release,
    stage_created,
    stage_owned,
    stage_tags,
    tags_read,
)
from distill.constructs.data_key import BEDROCK_KEY_ACTIONS
from distill.constructs.names import job_arn_parameter

JOB_NAMES_REASON = (
    "A job's ARN carries an id Bedrock chooses when it accepts the job, so the handler acts on this account and "
    "Region's customization jobs and custom models, which it finds by the names the stack derives for them."
)
# The job's handler may wait for IAM to propagate and for an unreachable Bedrock to answer (lambda/distillation_job),
# so it gets Lambda's longest timeout (Lambda developer guide, "Configure Lambda function timeout": 900 s).
HANDLER_TIMEOUT = Duration.minutes(15)


def job_name(stage_name: str, definition: Mapping[str, object]) -> str:
    """``<stage>-distill-<12 hex digits>``: the job's identity, from everything that defines it as synthesized
    (cross-stack values as the references CloudFormation resolves). It fits Bedrock's job and custom model name
    patterns (63 characters; letters, digits, hyphens)."""
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()
    return f"{stage_name}-distill-{digest[:12]}"


class DistillationJob(Construct):
    """A DISTILLATION model customization job, named from what defines it: a change of any of that is a new job.

    The resource does not wait for the job: a job runs for hours and a custom resource gets one hour, and a stack
    rollback elsewhere must never stop a paid job by accident. The serving stack waits for the model instead, by the
    job's name (``job_name``, known at synth). Delete stops a job that is still running; the custom model is kept
    unless ``retain_model`` is false. Tags are not part of the job's definition: a change of tags is applied to the
    job and its model in place. ``config.revision`` is part of the name, so raising it starts the same settings anew.

    The job and its model carry the stage's tag (``stage_tags``), and the handler may stop, retag or delete only
    jobs and models that carry it; the handler reads a job's tags before it adopts or stops one it found by name, so
    another stage's or team's job of the same name, tagged or not, is refused, not adopted.
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
        key: kms.IKey,
        tags: Mapping[str, str],
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        jobs = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        models = stack.format_arn(service="bedrock", resource="custom-model", resource_name="*")
        # The base model the job customizes: the Service Authorization Reference for Amazon Bedrock (read 2026-12-02)
        # lists foundation-model as a required resource type of CreateModelCustomizationJob, beside custom-model.
        student = f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{config.student}"
        bedrock_tags = stack.to_json_string(stage_tags(stage_name, tags, config.job_tags))
        defining: dict[str, object] = {
            "RoleArn": service_role.role_arn,
            "TeacherModelIdentifier": config.teacher,
            "StudentModelIdentifier": config.student,
            "MaxResponseLengthForInference": str(config.max_response_length),
            "TrainingDataConfig": stack.to_json_string(training_data_config),
            "OutputS3Uri": output_s3_uri,
            "CustomModelKmsKeyId": key.key_arn,
        }
        if config.subnet_ids:
            defining["VpcConfig"] = stack.to_json_string(
                {"subnetIds": list(config.subnet_ids), "securityGroupIds": list(config.security_group_ids)}
            )
        # The training data's digest too: a local file reaches the job as another resource's attribute, whose
        # reference does not change with the file's content.
        identity = {"revision": config.revision, "data": config.training_data.digest, **stack.resolve(defining)}
        self.job_name = job_name(stage_name, identity)
        self._resource = BedrockResource(
            self,
            "Job",
            folder="distillation_job",
            resource_type="Custom::BedrockDistillationJob",
            description=f"Starts, adopts and stops the {stage_name} stage's Bedrock distillation job",
            key=key,
            removal_policy=removal_policy,
            properties={
                "JobName": self.job_name,
                **defining,
                "JobTags": bedrock_tags,
                "CustomModelTags": bedrock_tags,
                "RetainModelOnDelete": "true" if config.retain_model else "false",
                "JobArnParameterName": job_arn_parameter(stage_name),
            },
            permissions=[
                *stage_created(
                    stage_name,
                    ["bedrock:CreateModelCustomizationJob"],
                    [jobs, models, student],
                    JOB_NAMES_REASON,
                    new=[jobs, models],
                ),
                Permission(
                    actions=["bedrock:GetModelCustomizationJob", "bedrock:GetCustomModel"],
                    resources=[jobs, models],
                    wildcard_reason=JOB_NAMES_REASON,
                ),
                tags_read([jobs], JOB_NAMES_REASON),
                *stage_owned(stage_name, ["bedrock:StopModelCustomizationJob"], [jobs], JOB_NAMES_REASON),
                # With the stage's stacks' DescribeStacks, which also tells an Update that is CloudFormation's
                # rollback.
                *model_release(stack, stage_name),
                Permission(
                    actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
                    resources=[
                        stack.format_arn(
                            service="ssm", resource="parameter", resource_name=job_arn_parameter(stage_name)[1:]
                        )
                    ],
                ),
                Permission(
                    actions=["iam:PassRole"],
                    resources=[service_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
                ),
            ],
            key_via_bedrock=BEDROCK_KEY_ACTIONS,
            timeout=HANDLER_TIMEOUT,
        )

    @property
    def job_arn(self) -> str:
        return self._resource.physical_id

    @property
    def custom_model_name(self) -> str:
        return self._resource.attribute("CustomModelName")
