"""The distillation job as a stack resource: Create starts it and returns once Bedrock has accepted it; the job
construct also grants the role Bedrock assumes what the job reads and writes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from distill.constructs.bedrock_resource import (
    BedrockResource,
    Permission,
    guard_stacks,
    model_release,
    stage_created,
    stage_owned,
    stage_tags,
    tags_read,
)
from distill.constructs.data_key import BEDROCK_KEY_ACTIONS, S3_KEY_ACTIONS, usage_through
from distill.constructs.job_output import OUTPUT_PREFIX, metrics_location
from distill.constructs.nag import acknowledge, acknowledge_resource
from distill.constructs.names import METRICS_NAMESPACE, check_name_prefix
from distill.constructs.training_data import DATASETS_PREFIX, TrainingDataSource

JOB_NAMES_REASON = (
    "A job's ARN carries an id Bedrock chooses when it accepts the job, so the handler acts on this account and "
    "Region's customization jobs and custom models, which it finds by the names the stack derives for them."
)
# The job's handler may wait for IAM to propagate and for an unreachable Bedrock to answer (lambda/distillation_job),
# so it gets Lambda's longest timeout (Lambda developer guide, "Configure Lambda function timeout": 900 s).
HANDLER_TIMEOUT = Duration.minutes(15)


def job_name(prefix: str, definition: Mapping[str, object]) -> str:
    """``<stage>-distill-<12 hex digits>``: the job's identity, from everything that defines it as synthesized
    (cross-stack values as the references CloudFormation resolves). It fits Bedrock's job and custom model name
    patterns (63 characters; letters, digits, hyphens)."""
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()
    return f"{prefix}-distill-{digest[:12]}"


def job_metrics_s3_uri(output_s3_uri: str, job_arn: str) -> str:
    """The step-wise training metrics of the job ``job_arn`` (a CloudFormation token) under ``output_s3_uri``."""
    return metrics_location(output_s3_uri, Fn.select(1, Fn.split("/", job_arn)))


@dataclass(frozen=True)
class Teacher:
    """The teacher model of a distillation job.

    ``identifier`` is what the job names (a foundation model id, or a system inference profile id such as
    ``us.amazon.nova-pro-v1:0``); ``foundation_model`` the model behind it; ``regions`` every Region whose foundation
    model the service role may invoke (empty: the stack's Region; a profile needs each Region it routes to); and
    ``inference_profile`` the profile id when the teacher is one.
    """

    identifier: str
    foundation_model: str
    regions: tuple[str, ...] = ()
    inference_profile: str | None = None

    @classmethod
    def model(cls, model_id: str) -> Teacher:
        """A foundation model called in the stack's own Region, e.g. ``amazon.nova-pro-v1:0``."""
        return cls(identifier=model_id, foundation_model=model_id)

    @classmethod
    def profile(cls, profile_id: str, *, foundation_model: str, regions: Sequence[str]) -> Teacher:
        """A system inference profile (``us.amazon.nova-pro-v1:0``) routing to ``regions`` (a list of Region
        codes, every Region the profile may send a call to: Bedrock user guide, inference-profiles-support.html).
        Raises ValueError for a single string or an empty list."""
        if isinstance(regions, str) or not regions:
            raise ValueError(
                f"regions is {regions!r}; give the list of Regions the inference profile {profile_id} routes to, "
                'e.g. ["us-east-1", "us-east-2", "us-west-2"]'
            )
        return cls(
            identifier=profile_id,
            foundation_model=foundation_model,
            regions=tuple(regions),
            inference_profile=profile_id,
        )


@dataclass(frozen=True)
class JobVpc:
    """The subnets and security groups the job's data access runs in (user guide, vpc-model-customization.html)."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


class DistillationJob(Construct):
    """A DISTILLATION model customization job, named from what defines it: a change of any of that is a new job.

    The resource does not wait for the job: a job runs for hours and a custom resource gets one hour, and a stack
    rollback elsewhere must never stop a paid job by accident. ``DistilledModelWait`` waits for the model instead,
    by the job's name (``job_name``, known at synth). Delete stops a job that is still running; the custom model is
    kept unless ``model_removal_policy`` is DESTROY. Tags are not part of the job's definition: a change of tags is
    applied to the job and its model in place. ``revision`` is part of the name, so raising it starts the same
    settings anew.

    ``stage_name`` prefixes the job's and model's names and is the value of their ``distillation-stage`` tag: the
    handler may stop, retag or delete only jobs and models that carry it, and reads a job's tags before it adopts or
    stops one it found by name, so another stage's or team's job of the same name is refused, not adopted.

    The construct attaches a managed policy to ``service_role`` (the role Bedrock assumes, trusted by
    bedrock.amazonaws.com) with what the job needs: invoking the teacher, reading the training data, writing the
    output under ``output_prefix`` of ``output_bucket``, and using ``key`` through Bedrock and S3. The job depends on
    it, as Bedrock checks the role's access when it accepts the job.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        teacher: Teacher,
        student: str,
        training_data: TrainingDataSource,
        output_bucket: s3.IBucket,
        service_role: iam.IRole,
        key: kms.IKey,
        output_prefix: str = OUTPUT_PREFIX,
        max_response_length: int = 1000,
        revision: int = 1,
        model_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        vpc: JobVpc | None = None,
        tags: Mapping[str, str] | None = None,
        job_tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        name_prefix: str | None = None,
        job_arn_parameter_name: str | None = None,
        rollback_guard_stacks: Sequence[str] = (),
    ) -> None:
        """``student`` is the model id the job customizes (``amazon.nova-lite-v1:0:300k``); ``max_response_length``
        is in tokens; ``tags`` go on every resource, ``job_tags`` on the job and its model only. ``name_prefix``
        (default ``stage_name``) begins the job's and model's names, so that several models of a stage have
        names of their own; ``job_arn_parameter_name`` is the SSM parameter the job's ARN is published in (default
        ``/bedrock-distillation/<name_prefix>/job-arn``); ``rollback_guard_stacks`` are the other stacks (by name)
        while one of which rolls back the handler releases no unserved custom model (the serving stack of the
        same model, say)."""
        super().__init__(scope, id)
        stack = Stack.of(self)
        check_name_prefix(stage_name)
        prefix = check_name_prefix(name_prefix or stage_name, "name_prefix")
        if not isinstance(teacher, Teacher):
            raise TypeError(f"teacher is {teacher!r}; give Teacher.model(...) or Teacher.profile(...)")
        if not isinstance(training_data, TrainingDataSource):
            raise TypeError(
                f"training_data is {training_data!r}; give a TrainingDataSource (from_upload, from_s3_uri, "
                "from_invocation_logs or from_invocation_logs_uri)"
            )
        self.stage_name = stage_name
        parameter = job_arn_parameter_name or f"/bedrock-distillation/{prefix}/job-arn"
        guards = guard_stacks(stack, rollback_guard_stacks)
        self.training_data = training_data
        self.output_s3_uri = f"s3://{output_bucket.bucket_name}/{output_prefix}"
        jobs = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        models = stack.format_arn(service="bedrock", resource="custom-model", resource_name="*")
        # The base model the job customizes: the Service Authorization Reference for Amazon Bedrock (read 2026-12-02)
        # lists foundation-model as a required resource type of CreateModelCustomizationJob, beside custom-model.
        student_arn = f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{student}"
        bedrock_tags = stack.to_json_string(stage_tags(stage_name, tags or {}, job_tags or {}))
        defining: dict[str, object] = {
            "RoleArn": service_role.role_arn,
            "TeacherModelIdentifier": teacher.identifier,
            "StudentModelIdentifier": student,
            "MaxResponseLengthForInference": str(max_response_length),
            "TrainingDataConfig": stack.to_json_string(training_data.training_data_config()),
            "OutputS3Uri": self.output_s3_uri,
            "CustomModelKmsKeyId": key.key_arn,
        }
        if vpc is not None:
            defining["VpcConfig"] = stack.to_json_string(
                {"subnetIds": list(vpc.subnet_ids), "securityGroupIds": list(vpc.security_group_ids)}
            )
        # The training data's digest too: a local file reaches the job as another resource's attribute, whose
        # reference does not change with the file's content.
        identity = {"revision": revision, "data": training_data.digest, **stack.resolve(defining)}
        self.job_name = job_name(prefix, identity)
        # A policy per job, named like it: a new definition gets a policy of its own beside the running job's, so
        # an update that is rolled back, or a job that still stops while its successor starts, never loses what it
        # reads and writes; the old policy goes after the old job (which depends on it) in the cleanup.
        self.access = iam.ManagedPolicy(self, f"Access{self.job_name.rsplit('-', 1)[1]}", roles=[service_role])
        self._grant_teacher(teacher)
        self._grant_data(training_data)
        self._grant_output(output_bucket, output_prefix)
        self.access.add_statements(
            usage_through(key, "bedrock", BEDROCK_KEY_ACTIONS), usage_through(key, "s3", S3_KEY_ACTIONS)
        )
        if vpc is not None:
            self._grant_vpc(vpc)
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
                "RetainModelOnDelete": "false" if model_removal_policy == RemovalPolicy.DESTROY else "true",
                "JobArnParameterName": parameter,
                "GuardStacks": stack.to_json_string(guards),
            },
            permissions=[
                *stage_created(
                    stage_name,
                    ["bedrock:CreateModelCustomizationJob"],
                    [jobs, models, student_arn],
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
                *model_release(stack, stage_name, guards),
                Permission(
                    actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
                    resources=[stack.format_arn(service="ssm", resource="parameter", resource_name=parameter[1:])],
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
        # Bedrock checks the role's access to the teacher and the data when it accepts the job.
        self._resource.node.add_dependency(self.access)

    @property
    def job_arn(self) -> str:
        return self._resource.physical_id

    @property
    def custom_model_name(self) -> str:
        return self._resource.attribute("CustomModelName")

    @property
    def metrics_s3_uri(self) -> str:
        """Where Bedrock writes the job's step-wise training metrics (``job_output.metrics_location``)."""
        return job_metrics_s3_uri(self.output_s3_uri, self.job_arn)

    def metric_training_loss(self, **props: Any) -> cloudwatch.Metric:
        """The job's training loss by step, as ``TrainingMetricsPublisher`` publishes it (``BedrockDistillation``
        namespace, dimensions JobName and Stage); ``props`` as for ``cloudwatch.Metric`` (period, statistic)."""
        return self._metric("TrainingLoss", props)

    def metric_final_training_loss(self, **props: Any) -> cloudwatch.Metric:
        """The job's last training loss, published once the job has completed."""
        return self._metric("FinalTrainingLoss", props)

    def _metric(self, name: str, props: Mapping[str, Any]) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"JobName": self.job_name, "Stage": self.stage_name},
            **{"statistic": "Average", **props},
        )

    def _grant_teacher(self, teacher: Teacher) -> None:
        """Invoking exactly the teacher: its foundation model in each Region the job's calls can reach, and the
        inference profile itself when it is one."""
        stack = Stack.of(self)
        resources = [
            f"arn:{stack.partition}:bedrock:{region}::foundation-model/{teacher.foundation_model}"
            for region in teacher.regions or (stack.region,)
        ]
        if teacher.inference_profile is not None:
            resources.append(
                stack.format_arn(
                    service="bedrock", resource="inference-profile", resource_name=teacher.inference_profile
                )
            )
        self.access.add_statements(iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=resources))

    def _grant_data(self, source: TrainingDataSource) -> None:
        if source.upload is not None:
            bucket = source.upload.bucket
            self._grant_read(bucket.bucket_arn, bucket.arn_for_objects(f"{DATASETS_PREFIX}*"), "the uploaded datasets")
        elif source.logging is not None:
            bucket = source.logging.bucket
            objects = bucket.arn_for_objects(f"{source.logging.logs_prefix}*")
            self._grant_read(bucket.bucket_arn, objects, "the invocation logs of the stage's own logging")
        else:
            uri = source.s3_uri or source.logs_s3_uri
            assert uri is not None
            bucket_name, _, prefix = uri.removeprefix("s3://").partition("/")
            partition = Stack.of(self).partition
            self._grant_read(
                f"arn:{partition}:s3:::{bucket_name}",
                f"arn:{partition}:s3:::{bucket_name}/{prefix}*",
                "the training data the job names by URI" if source.s3_uri else "the invocation logs named by URI",
            )

    def _grant_read(self, bucket_arn: str, objects: str, what: str) -> None:
        self.access.add_statements(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket_arn]),
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects]),
        )
        acknowledge_resource(
            self.access,
            "AwsSolutions-IAM5",
            objects,
            f"Bedrock reads {what}: every object under the prefix, whose names the data's owner chose.",
        )

    def _grant_output(self, bucket: s3.IBucket, prefix: str) -> None:
        """Writing the job's output (metrics and artifacts) under ``prefix``, and reading it back as Bedrock does."""
        objects = bucket.arn_for_objects(f"{prefix}*")
        self.access.add_statements(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]),
            iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[objects]),
        )
        acknowledge_resource(
            self.access,
            "AwsSolutions-IAM5",
            objects,
            "Bedrock writes the job's output in a folder it names after the job's id, under the output prefix.",
        )

    def _grant_vpc(self, vpc: JobVpc) -> None:
        """What Bedrock does as the service role to run the job in a VPC: describe the network, and make, tag and
        remove the job's network interfaces, which it tags BedrockManaged (user guide, vpc-model-customization.html,
        "Attach VPC permissions to a model customization role", read 2026-12-01)."""
        stack = Stack.of(self)

        def ec2(kind: str, name: str) -> str:
            return stack.format_arn(service="ec2", resource=kind, resource_name=name)

        interfaces = ec2("network-interface", "*")
        managed = {"StringEquals": {"aws:RequestTag/BedrockManaged": "true"}}
        self.access.add_statements(
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
                resources=[ec2("subnet", s) for s in vpc.subnet_ids]
                + [ec2("security-group", g) for g in vpc.security_group_ids],
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
            self.access,
            "AwsSolutions-IAM5[Resource::*]",
            "EC2's Describe actions take no resource-level permission; Bedrock reads the job's VPC with them.",
        )
        acknowledge_resource(
            self.access,
            "AwsSolutions-IAM5",
            interfaces,
            "The job's network interfaces are made by Bedrock with ids it chooses; the statements are conditioned on "
            "the BedrockManaged tag Bedrock puts on them.",
        )
