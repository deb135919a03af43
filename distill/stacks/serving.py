"""Serving stack: waits for the distilled model, then serves it (Provisioned Throughput or on demand)."""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from distill.config import StageConfig
from distill.constructs.model_serving import OnDemandDeployment, ProvisionedThroughput
from distill.constructs.model_wait import DistilledModelWait
from distill.stacks.foundation import FoundationStack
from distill.stacks.training import OUTPUT_PREFIX, job_arn_parameter_name, metrics_s3_uri


class ServingStack(Stack):
    """Kept apart from training so that it can fail (a job longer than the 12-hour wait, say) without touching the
    job, and so that destroying it stops the hourly billing of the served model while the model itself stays."""

    def __init__(self, scope: Construct, id: str, *, stage: StageConfig, foundation: FoundationStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        assert stage.distillation is not None and stage.serving is not None
        serving = stage.serving
        fingerprint = stage.distillation.fingerprint
        removal = RemovalPolicy.DESTROY if stage.destroy_on_delete else RemovalPolicy.RETAIN
        job_arn = ssm.StringParameter.value_for_string_parameter(self, job_arn_parameter_name(stage.name))
        self.wait = DistilledModelWait(
            self,
            f"ModelWait{fingerprint}",
            job_arn=job_arn,
            poll_minutes=serving.poll_minutes,
            poll_rule_name=f"{stage.name}-distill-poll-{fingerprint}",
            key=foundation.data_key,
            removal_policy=removal,
        )
        tags = {"distillation-stage": stage.name, **stage.tags}
        self.served: ProvisionedThroughput | OnDemandDeployment | None = None
        if serving.mode == "provisioned":
            self.served = ProvisionedThroughput(
                self,
                "ProvisionedThroughput",
                stage_name=stage.name,
                job_arn=job_arn,
                model_units=serving.model_units,
                commitment=serving.commitment,
                key=foundation.data_key,
                tags=tags,
            )
        elif serving.mode == "onDemand":
            self.served = OnDemandDeployment(
                self, "OnDemandDeployment", stage_name=stage.name, job_arn=job_arn, key=foundation.data_key, tags=tags
            )
        if self.served is not None:
            self.served.node.add_dependency(self.wait.condition)
        self._outputs(job_arn, f"s3://{foundation.storage.output.bucket_name}/{OUTPUT_PREFIX}")

    def _outputs(self, job_arn: str, output_s3_uri: str) -> None:
        CfnOutput(self, "JobArn", value=job_arn, description="The distillation job")
        CfnOutput(
            self,
            "MetricsS3Uri",
            value=metrics_s3_uri(output_s3_uri, job_arn),
            description="Step-wise training metrics (step_number, epoch_number, training_loss)",
        )
        if isinstance(self.served, ProvisionedThroughput):
            CfnOutput(self, "CustomModelArn", value=self.served.model_arn, description="The distilled model")
            CfnOutput(self, "ProvisionedModelArn", value=self.served.arn, description="modelId for inference")
        elif isinstance(self.served, OnDemandDeployment):
            CfnOutput(self, "CustomModelArn", value=self.served.model_arn, description="The distilled model")
            CfnOutput(self, "DeploymentArn", value=self.served.arn, description="modelId for on-demand inference")
        else:
            CfnOutput(
                self,
                "DistilledModelSignal",
                value=self.wait.model_arn_signal,
                description="The wait condition's data: the custom model ARN",
            )
