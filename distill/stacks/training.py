"""Training stack: the training data and the distillation job of one model of a stage, mapped from its
configuration."""

from __future__ import annotations

from aws_cdk import Annotations, CfnOutput, RemovalPolicy, Stack
from constructs import Construct

from distill.config.distillation import DistillationConfig
from distill.config.stages import ModelConfig, StageConfig
from distill.constructs.distillation_job import DistillationJob, JobVpc, Teacher
from distill.constructs.names import MODEL_TAG, job_arn_parameter, model_prefix, model_stack_names
from distill.constructs.training_data import TrainingData, TrainingDataSource
from distill.stacks.foundation import FoundationStack


class TrainingStack(Stack):
    """Starts the distillation job; returns as soon as Bedrock has accepted it."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageConfig,
        model: ModelConfig,
        foundation: FoundationStack,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        assert model.distillation is not None
        config = model.distillation
        # The models' lifecycle warnings are raised here, on the stack that starts the paid job.
        for code, warning in [("distill:unlisted-pair", config.pair_warning)] + [
            ("distill:model-lifecycle", warning) for warning in config.model_warnings
        ]:
            if warning:
                Annotations.of(self).add_warning_v2(code, warning)
        removal = RemovalPolicy.DESTROY if stage.destroy_on_delete else RemovalPolicy.RETAIN
        self.job = DistillationJob(
            self,
            "DistillationJob",
            stage_name=stage.name,
            name_prefix=model_prefix(stage.name, model.name),
            job_arn_parameter_name=job_arn_parameter(stage.name, model.name),
            rollback_guard_stacks=model_stack_names(stage.name, model.name),
            teacher=Teacher(
                identifier=config.teacher,
                foundation_model=config.teacher_model,
                regions=config.teacher_regions,
                inference_profile=config.teacher_profile,
            ),
            student=config.student,
            training_data=self._training_data(config, foundation, removal),
            output_bucket=foundation.storage.output,
            service_role=foundation.service_role.role,
            key=foundation.data_key.key,
            max_response_length=config.max_response_length,
            revision=config.revision,
            model_removal_policy=RemovalPolicy.RETAIN if config.retain_model else RemovalPolicy.DESTROY,
            vpc=JobVpc(config.subnet_ids, config.security_group_ids) if config.subnet_ids else None,
            tags={**stage.tags, MODEL_TAG: model.name},
            job_tags=config.job_tags,
            removal_policy=removal,
        )
        CfnOutput(self, "JobArn", value=self.job.job_arn, description="The distillation job")
        CfnOutput(self, "JobName", value=self.job.job_name, description="The distillation job's name")
        CfnOutput(self, "CustomModelName", value=self.job.custom_model_name, description="The custom model's name")

    def _training_data(
        self, config: DistillationConfig, foundation: FoundationStack, removal: RemovalPolicy
    ) -> TrainingDataSource:
        data = config.training_data
        if data.file is not None:
            self.upload = TrainingData(
                self,
                "TrainingData",
                file=data.file,
                bucket=foundation.storage.training_data,
                uploads=foundation.dataset_uploads,
                key=foundation.data_key.key,
                removal_policy=removal,
            )
            return TrainingDataSource.from_upload(self.upload)
        if data.s3_uri is not None:
            return TrainingDataSource.from_s3_uri(data.s3_uri)
        filters = data.filters.to_api() if data.filters is not None else None
        if data.logs_s3_uri is not None:
            return TrainingDataSource.from_invocation_logs_uri(
                data.logs_s3_uri, use_prompt_response=data.use_prompt_response, request_metadata_filters=filters
            )
        assert foundation.invocation_logging is not None
        return TrainingDataSource.from_invocation_logs(
            foundation.invocation_logging,
            use_prompt_response=data.use_prompt_response,
            request_metadata_filters=filters,
        )
