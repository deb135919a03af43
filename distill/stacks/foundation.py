"""Foundation stack: the key, buckets, Bedrock service role and invocation logging every distillation needs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from constructs import Construct

from distill.config.stages import StageConfig
from distill.constructs.budget import StageBudget
from distill.constructs.data_key import DataKey
from distill.constructs.invocation_logging import InvocationLogging
from distill.constructs.names import model_prefix, model_stack_names, stack_name
from distill.constructs.notifications import StageNotifications
from distill.constructs.service_role import ServiceRole
from distill.constructs.storage import DistillationStorage
from distill.constructs.training_data import dataset_uploads_policy
from distill.constructs.training_metrics_publisher import TrainingMetricsPublisher


class FoundationStack(Stack):
    """Long-lived, stateful resources of a stage; the training and serving stacks build on them."""

    def __init__(self, scope: Construct, id: str, *, stage: StageConfig, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        removal = RemovalPolicy.DESTROY if stage.destroy_on_delete else RemovalPolicy.RETAIN
        # A custom model that outlives the stack is encrypted with the key and unusable without it, so a destroy
        # never schedules the key's deletion while such a model can exist.
        self.key_kept_for_models = stage.destroy_on_delete and stage.retains_custom_models
        self.data_key = DataKey(
            self,
            "DataKey",
            alias=f"alias/{stage.name}/bedrock-distillation",
            removal_policy=RemovalPolicy.RETAIN if self.key_kept_for_models else removal,
        )
        self.storage = DistillationStorage(
            self,
            "Storage",
            key=self.data_key.key,
            log_retention=Duration.days(stage.invocation_logging.retention_days),
            removal_policy=removal,
        )
        self.dataset_uploads = dataset_uploads_policy(self, "DatasetUploads", self.storage.training_data)
        # What the role may do is granted by each job it runs (DistillationJob): the teacher, the data, the output.
        self.service_role = ServiceRole(self, "ServiceRole", stage_name=stage.name)

        self.invocation_logging: InvocationLogging | None = None
        if stage.invocation_logging.enabled:
            self.invocation_logging = InvocationLogging(
                self,
                "InvocationLogging",
                stage_name=stage.name,
                bucket=self.storage.invocation_logs,
                key=self.data_key.key,
                key_prefix=stage.invocation_logging.key_prefix,
                take_over=stage.invocation_logging.take_over,
                removal_policy=removal,
            )

        jobs = [f"{model_prefix(stage.name, model.name)}-distill-" for model in stage.distilling_models]
        self.notifications = StageNotifications(
            self,
            "Notifications",
            stage_name=stage.name,
            key=self.data_key.key,
            email=stage.notification_email,
            job_name_prefixes=jobs,
            # The stage's own stacks (foundation, dashboard) by prefix, each model's by its exact name.
            stack_name_prefixes=[stack_name(stage.name, "")]
            + [f"{name}/" for model in stage.models for name in model_stack_names(stage.name, model)],
        )
        StageBudget(
            self,
            "Budget",
            stage_name=stage.name,
            monthly_usd=stage.budget_monthly_usd,
            topic=self.notifications.topic,
            key=self.data_key.key,
        )
        if jobs:
            TrainingMetricsPublisher(
                self,
                "TrainingMetrics",
                stage_name=stage.name,
                output_bucket=self.storage.output,
                key=self.data_key.key,
                removal_policy=removal,
                job_name_prefixes=jobs,
            )
        self._outputs()

    def _outputs(self) -> None:
        storage = self.storage
        for name, value, description in (
            ("TrainingDataBucketName", storage.training_data.bucket_name, "Bucket for training data"),
            ("OutputBucketName", storage.output.bucket_name, "Bucket for distillation job output"),
            ("InvocationLogsBucketName", storage.invocation_logs.bucket_name, "Bucket for invocation logs"),
            ("AccessLogsBucketName", storage.access_logs.bucket_name, "Bucket for S3 server access logs"),
            ("DataKeyArn", self.data_key.key_arn, self._key_description()),
            ("ServiceRoleArn", self.service_role.role_arn, "IAM role Bedrock assumes for the jobs"),
            ("NotificationTopicArn", self.notifications.topic.topic_arn, "Job state changes and stack failures"),
        ):
            CfnOutput(self, name, value=value, description=description)

    def _key_description(self) -> str:
        if self.key_kept_for_models:
            return (
                "KMS key for data and custom models; kept when the stack is deleted, as a retained custom model is "
                "encrypted with it (schedule its deletion by hand once no such model is left)"
            )
        return "KMS key for data and custom models"
