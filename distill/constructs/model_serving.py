"""Serving the distilled model: a Provisioned Throughput, or an on-demand custom model deployment."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Stack
from constructs import Construct

from distill.constructs.bedrock_resource import BedrockResource, Permission, Waiting
from distill.constructs.data_key import BEDROCK_KEY_ACTIONS, DataKey

# The provider checks readiness this often, for at most CloudFormation's hour; the handler gives up (and deletes
# what it created, so nothing bills unseen) a little before that hour ends.
READY_CHECK = Waiting(query_interval=Duration.minutes(1), total_timeout=Duration.hours(1))
GIVE_UP_AFTER = Duration.minutes(55)
GENERATED_NAMES_REASON = (
    "Serving resources get names generated per CloudFormation request, and the model's ARN is known only at deploy "
    "time, so the handler acts on this account and Region's custom models and serving resources."
)


class ProvisionedThroughput(Construct):
    """Provisioned Throughput for the custom model: created once the job is done, and InService when created.

    It is billed by the hour. Without a commitment (the default) Delete always deletes it and waits until it is
    gone; with a commitment, which cannot be cancelled, the resource is retained when the stack is deleted.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        model_arn: str,
        model_units: int,
        commitment: str,
        key: DataKey,
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self._resource = BedrockResource(
            self,
            "Throughput",
            folder="provisioned_throughput",
            resource_type="Custom::BedrockProvisionedThroughput",
            description=f"Creates and deletes the {stage_name} stage's Provisioned Throughput",
            key=key,
            removal_policy=RemovalPolicy.DESTROY if commitment == "none" else RemovalPolicy.RETAIN,
            properties={
                "ModelArn": model_arn,
                "ModelUnits": str(model_units),
                "CommitmentDuration": "" if commitment == "none" else commitment,
                "NamePrefix": f"{stage_name}-distilled",
                "Tags": stack.to_json_string(dict(tags)),
                "GiveUpAfterSeconds": str(int(GIVE_UP_AFTER.to_seconds())),
            },
            permissions=[
                Permission(
                    actions=[
                        "bedrock:CreateProvisionedModelThroughput",
                        "bedrock:GetProvisionedModelThroughput",
                        "bedrock:DeleteProvisionedModelThroughput",
                        "bedrock:TagResource",
                    ],
                    resources=[_arn(stack, "provisioned-model"), _arn(stack, "custom-model")],
                    wildcard_reason=GENERATED_NAMES_REASON,
                ),
            ],
            waiting=READY_CHECK,
            key_via_bedrock=BEDROCK_KEY_ACTIONS,
        )

    @property
    def arn(self) -> str:
        return self._resource.attribute("ProvisionedModelArn")

    @property
    def resource(self) -> BedrockResource:
        return self._resource


class OnDemandDeployment(Construct):
    """An on-demand custom model deployment: no hourly charge, billed per token; its ARN is the modelId to call."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        model_arn: str,
        key: DataKey,
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self._resource = BedrockResource(
            self,
            "Deployment",
            folder="model_deployment",
            resource_type="Custom::BedrockCustomModelDeployment",
            description=f"Creates and deletes the {stage_name} stage's on-demand custom model deployment",
            key=key,
            removal_policy=RemovalPolicy.DESTROY,
            properties={
                "ModelArn": model_arn,
                "NamePrefix": f"{stage_name}-distilled",
                "Description": f"Distilled model of the {stage_name} stage",
                "Tags": stack.to_json_string(dict(tags)),
                "GiveUpAfterSeconds": str(int(GIVE_UP_AFTER.to_seconds())),
            },
            permissions=[
                Permission(
                    actions=[
                        "bedrock:CreateCustomModelDeployment",
                        "bedrock:GetCustomModelDeployment",
                        "bedrock:DeleteCustomModelDeployment",
                        "bedrock:TagResource",
                    ],
                    resources=[_arn(stack, "custom-model-deployment"), _arn(stack, "custom-model")],
                    wildcard_reason=GENERATED_NAMES_REASON,
                ),
            ],
            waiting=READY_CHECK,
            key_via_bedrock=BEDROCK_KEY_ACTIONS,
        )

    @property
    def arn(self) -> str:
        return self._resource.attribute("DeploymentArn")

    @property
    def resource(self) -> BedrockResource:
        return self._resource


def _arn(stack: Stack, resource: str) -> str:
    return stack.format_arn(service="bedrock", resource=resource, resource_name="*")
