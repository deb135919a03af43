"""The training metrics of the stage's completed jobs, published to CloudWatch from the job's output."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from distill.constructs.alarm_notifications import stage_topic
from distill.constructs.data_key import allow_via_service, usage_through
from distill.constructs.dead_letters import AsyncInvocation
from distill.constructs.handler_function import HandlerFunction
from distill.constructs.job_output import OUTPUT_PREFIX
from distill.constructs.nag import acknowledge_resource
from distill.constructs.names import METRICS_NAMESPACE
from distill.constructs.notifications import job_name_prefixes_of, job_state_changes


class TrainingMetricsPublisher(Construct):
    """On every job state change, a JobStateChanges metric; when a job completes, its step-wise training loss
    (``training_artifacts/step_wise_training_metrics.csv``) as TrainingLoss, Perplexity and FinalTrainingLoss.

    EventBridge invokes the publisher asynchronously: an event it failed on lands in its dead-letter queue, whose
    alarm notifies the stage's topic."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        output_bucket: s3.IBucket,
        key: kms.IKey,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        job_name_prefixes: Sequence[str] | None = None,
        output_prefix: str = OUTPUT_PREFIX,
    ) -> None:
        """``job_name_prefixes`` as for ``StageNotifications``: the jobs whose metrics are published;
        ``output_prefix`` is the jobs' (``DistillationJob.output_prefix``), under which the metrics are read."""
        super().__init__(scope, id)
        stack = Stack.of(self)
        publisher = HandlerFunction(
            self,
            "Publisher",
            folder="training_metrics_publisher",
            entry="index.handler",
            description=f"Publishes the {stage_name} stage's distillation metrics to CloudWatch",
            key=key,
            removal_policy=removal_policy,
            environment={
                "STAGE": stage_name,
                "NAMESPACE": METRICS_NAMESPACE,
                "OUTPUT_S3_URI": f"s3://{output_bucket.bucket_name}/{output_prefix}",
            },
            asynchronous=AsyncInvocation(
                invoked_by="EventBridge, on each state change of the stage's distillation jobs",
                alarm_name=f"{stage_name}-metrics-publisher-dead-letters",
                topic=stage_topic(key),
            ),
        )
        jobs = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        outputs = output_bucket.arn_for_objects(f"{output_prefix}*")
        for statement in (
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            ),
            iam.PolicyStatement(actions=["bedrock:GetModelCustomizationJob"], resources=[jobs]),
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[outputs]),
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[output_bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": f"{output_prefix}*"}},
            ),
        ):
            publisher.add_to_role_policy(statement)
        if not allow_via_service(
            key, "MetricsPublisherReadsJobOutput", publisher.role, service="s3", actions=["kms:Decrypt"]
        ):
            # An imported key: the key policy's account statement lets the publisher's own policy grant it.
            publisher.add_to_role_policy(usage_through(key, "s3", ["kms:Decrypt"]))
        for resource, reason in (
            ("*", "PutMetricData supports no resource-level permissions; a condition limits it to one namespace."),
            (jobs, "The stage's job names are generated per deployment; the function only reads their status."),
            (
                outputs,
                "Bedrock names each job's output folder after the job's id, known only once the job runs; the grant "
                "stays under the stage's output prefix, where the function reads only the metrics file.",
            ),
        ):
            acknowledge_resource(publisher.policy, "AwsSolutions-IAM5", resource, reason)
        events.Rule(
            self,
            "JobStateChanges",
            description=f"State changes of the {stage_name} stage's distillation jobs, for metrics",
            event_pattern=job_state_changes(job_name_prefixes_of(stage_name, job_name_prefixes)),
            targets=[targets.LambdaFunction(publisher.function, retry_attempts=2)],
        )
