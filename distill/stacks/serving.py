"""Serving stack: obtains one model of a stage (waits for its job, or copies a shared model) and serves it."""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ram as ram
from constructs import Construct

from distill.config.stages import ModelConfig, StageConfig
from distill.constructs.distillation_job import DistillationJob, job_metrics_s3_uri
from distill.constructs.idle_alarm import ThroughputIdleAlarm
from distill.constructs.job_output import OUTPUT_PREFIX
from distill.constructs.model_copy import ModelCopy
from distill.constructs.model_serving import Commitment, OnDemandDeployment, ProvisionedThroughput
from distill.constructs.model_wait import DistilledModel, DistilledModelWait
from distill.constructs.names import MODEL_TAG, model_prefix, model_stack_names
from distill.constructs.smoke_test import SmokeTest
from distill.operations import pricing
from distill.stacks.foundation import FoundationStack
from distill.stacks.idle_message import idle_alarm_name, idle_message

# The configuration's commitment names (distill.config) as the construct's enum.
COMMITMENTS = {"none": Commitment.NONE, "OneMonth": Commitment.ONE_MONTH, "SixMonths": Commitment.SIX_MONTHS}


def smoke_test_role_name(stage_name: str, model: str) -> str:
    """The role in the stage's account that the pipeline's post-deploy check of a model assumes (output
    SmokeTestRoleArn of the model's serving stack): at most 64 characters, as the model prefix is at most 40."""
    return f"{stage_name}-distillation-{model}-smoke-test"


def smoke_test_caller_role_name(stage_name: str) -> str:
    """The role in the pipeline account that runs the stage's post-deploy check (its CodeBuild step's role): the
    only principal the smoke-test role trusts."""
    return f"bedrock-distillation-smoke-test-{stage_name}"


class ServingStack(Stack):
    """Kept apart from training so that it can fail (a job longer than the 12-hour wait, say) without touching the
    job, and so that destroying it stops the hourly billing of the served model while the model itself stays."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageConfig,
        model: ModelConfig,
        foundation: FoundationStack,
        job: DistillationJob | None = None,
        smoke_test_account: str | None = None,
        **kwargs,
    ) -> None:
        """``job`` is the training stack's job for a model the stage distils; only what is known of it at synth (its
        name, where its prompts are) is used, so no reference ties this stack to the training stack's resources."""
        super().__init__(scope, id, **kwargs)
        assert model.serving is not None
        self.stage = stage
        self.model = model
        self.job = job
        self.serving = model.serving
        self.prefix = model_prefix(stage.name, model.name)
        self.model_tags = {**stage.tags, MODEL_TAG: model.name}
        self.foundation = foundation
        self.removal = RemovalPolicy.DESTROY if stage.destroy_on_delete else RemovalPolicy.RETAIN
        self.model_id_output: CfnOutput | None = None
        self.smoke_test_role_output: CfnOutput | None = None
        if model.distillation is not None:
            assert job is not None
            self.model_arn, ready = self._distilled_model(job.job_name)
            model_key, base_model = job.job_name, model.distillation.student
        else:
            self.model_arn, ready, model_key, base_model = self._copied_model()
        self.served = self._serve(model_key, base_model)
        if self.served is not None:
            self.served.node.add_dependency(ready)
        if isinstance(self.served, ProvisionedThroughput):
            self._idle_alarm(self.served)
        if model.distillation is not None and model.distillation.share_with:
            share = ram.CfnResourceShare(
                self,
                "ModelShare",
                name=f"{self.prefix}-distilled-model",
                resource_arns=[self.model_arn],
                principals=list(model.distillation.share_with),
                allow_external_principals=False,
            )
            share.node.add_dependency(ready)
        if smoke_test_account is not None and self.served is not None:
            self._smoke_test_role(smoke_test_account)
        if self.served is not None and self.serving.smoke_test:
            SmokeTest(
                self,
                "SmokeTest",
                stage_name=stage.name,
                model=self.served,
                training_data_uri=job.training_data.prompts_location if job is not None else None,
                key=self.foundation.data_key.key,
                removal_policy=self.removal,
            )
        CfnOutput(self, "CustomModelArn", value=self.model_arn, description="The distilled model")

    def _distilled_model(self, job_name: str) -> tuple[str, Construct]:
        """The model the stage's own job produces: its ARN, and what completes once it exists.

        The wait follows the job's name, the job's identity at synth: each job gets a wait of its own, and a job the
        stack already waited for is not waited for again.
        """
        stage = self.stage
        assert self.serving is not None
        wait = DistilledModelWait(
            self,
            "ModelWait",
            job_name=job_name,
            poll_minutes=self.serving.poll_minutes,
            key=self.foundation.data_key.key,
            removal_policy=self.removal,
        )
        model = DistilledModel(
            self,
            "DistilledModel",
            stage_name=stage.name,
            job_name=job_name,
            rollback_guard_stacks=model_stack_names(stage.name, self.model.name),
            wait=wait,
            key=self.foundation.data_key.key,
            removal_policy=self.removal,
        )
        output_s3_uri = f"s3://{self.foundation.storage.output.bucket_name}/{OUTPUT_PREFIX}"
        CfnOutput(self, "JobArn", value=model.job_arn, description="The distillation job")
        CfnOutput(
            self,
            "MetricsS3Uri",
            value=job_metrics_s3_uri(output_s3_uri, model.job_arn),
            description="Step-wise training metrics (step_number, epoch_number, training_loss)",
        )
        return model.model_arn, model.ready

    def _copied_model(self) -> tuple[str, Construct, str, str]:
        """A copy of the model another stage shares with this account: its ARN, what completes once it exists, its
        name (its identity at synth) and its base model (from the source model's ARN)."""
        source = self.model.model_source
        assert source is not None
        copy = ModelCopy(
            self,
            "ModelCopy",
            stage_name=self.stage.name,
            name_prefix=self.prefix,
            rollback_guard_stacks=model_stack_names(self.stage.name, self.model.name),
            source_model_arn=source.model_arn,
            key=self.foundation.data_key.key,
            tags=self.model_tags,
            removal_policy=self.removal,
        )
        CfnOutput(self, "SourceModelArn", value=source.model_arn, description="The model copied")
        base_model = source.model_arn.split(":custom-model/", 1)[1].rsplit("/", 1)[0]
        return copy.model_arn, copy.ready, copy.target_model_name, base_model

    def _serve(self, model_key: str, base_model: str) -> ProvisionedThroughput | OnDemandDeployment | None:
        stage = self.stage
        assert self.serving is not None
        common = {
            "stage_name": stage.name,
            "name_prefix": self.prefix,
            "tags": self.model_tags,
            "model_arn": self.model_arn,
            "model_key": model_key,
            "base_model": base_model,
            "key": self.foundation.data_key.key,
            "removal_policy": self.removal,
        }
        if self.serving.mode == "provisioned":
            served = ProvisionedThroughput(
                self,
                "ProvisionedThroughput",
                model_units=self.serving.model_units,
                commitment=COMMITMENTS[self.serving.commitment],
                **common,
            )
            self.model_id_output = CfnOutput(
                self, "ProvisionedModelArn", value=served.arn, description="modelId for inference"
            )
            return served
        if self.serving.mode == "onDemand":
            deployment = OnDemandDeployment(self, "OnDemandDeployment", **common)
            self.model_id_output = CfnOutput(
                self, "DeploymentArn", value=deployment.arn, description="modelId for on-demand inference"
            )
            return deployment
        return None

    def _idle_alarm(self, throughput: ProvisionedThroughput) -> None:
        """The model's idle alarm, its message priced from the packaged price table."""
        stage = self.stage
        serving, student = self.serving, self.model.student
        assert student is not None
        ThroughputIdleAlarm(
            self,
            "IdleAlarm",
            alarm_name=idle_alarm_name(self.prefix),
            model_id=throughput.model_id,
            idle_hours=serving.idle_hours,
            message=idle_message(
                stage_name=stage.name,
                model=self.model.name,
                idle_hours=serving.idle_hours,
                model_units=serving.model_units,
                hourly=pricing.packaged().throughput(stage.region, student, serving.commitment),
                commitment=serving.commitment,
            ),
            topic=self.foundation.notifications.topic,
            key=self.foundation.data_key.key,
        )

    def _smoke_test_role(self, pipeline_account: str) -> None:
        """A role the pipeline's post-deploy check assumes from its own account to call the served model.

        The trust names the pipeline account, and a condition narrows it to the check's own role there: for a
        role session, aws:PrincipalArn is the ARN of the role, not of the session (IAM user guide, "AWS global
        condition context keys", aws:PrincipalArn,
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn,
        read 2026-12-02). A condition rather than the role's ARN as principal: IAM replaces an ARN principal with
        the role's unique id, and a pipeline role recreated under the same name would no longer be trusted.
        """
        assert self.served is not None
        caller = f"arn:{self.partition}:iam::{pipeline_account}:role/{smoke_test_caller_role_name(self.stage.name)}"
        role = iam.Role(
            self,
            "SmokeTestRole",
            role_name=smoke_test_role_name(self.stage.name, self.model.name),
            assumed_by=iam.AccountPrincipal(pipeline_account).with_conditions(
                {"ArnEquals": {"aws:PrincipalArn": caller}}
            ),
            description="Assumed by the delivery pipeline's smoke-test step to send a test prompt to the served model",
        )
        iam.ManagedPolicy(
            self,
            "SmokeTestPolicy",
            roles=[role],
            statements=[
                *self.served.invoke_statements(),
            ],
        )
        self.smoke_test_role_output = CfnOutput(
            self, "SmokeTestRoleArn", value=role.role_arn, description="Role for the post-deploy check"
        )
