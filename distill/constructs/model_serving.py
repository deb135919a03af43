"""Serving the distilled model: a Provisioned Throughput, or an on-demand custom model deployment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


class ServedModel(Construct):
    """What both ways of serving share: a handler with the serving lifecycle (created once the model exists, ready
    when created, deleted and waited for on Delete), the same naming, tags and deadline; ``arn`` is the modelId."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        model_arn: str,
        key: DataKey,
        tags: Mapping[str, str],
        folder: str,
        resource_type: str,
        description: str,
        arn_attribute: str,
        bedrock_resource: str,
        actions: Sequence[str],
        properties: Mapping[str, str],
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self._arn_attribute = arn_attribute
        self.resource = BedrockResource(
            self,
            "Resource",
            folder=folder,
            resource_type=resource_type,
            description=description,
            key=key,
            removal_policy=removal_policy,
            properties={
                "ModelArn": model_arn,
                "NamePrefix": f"{stage_name}-distilled",
                "Tags": stack.to_json_string(dict(tags)),
                "GiveUpAfterSeconds": str(int(GIVE_UP_AFTER.to_seconds())),
                **properties,
            },
            permissions=[
                Permission(
                    actions=[*actions, "bedrock:TagResource"],
                    resources=[_arn(stack, bedrock_resource), _arn(stack, "custom-model")],
                    wildcard_reason=GENERATED_NAMES_REASON,
                ),
            ],
            waiting=READY_CHECK,
            key_via_bedrock=BEDROCK_KEY_ACTIONS,
        )

    @property
    def arn(self) -> str:
        return self.resource.attribute(self._arn_attribute)


class ProvisionedThroughput(ServedModel):
    """Provisioned Throughput for the custom model, billed by the hour per model unit.

    Without a commitment (the default) Delete always deletes it and waits until it is gone; with a commitment, which
    cannot be cancelled, the resource is retained when the stack is deleted.
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
        super().__init__(
            scope,
            id,
            stage_name=stage_name,
            model_arn=model_arn,
            key=key,
            tags=tags,
            folder="provisioned_throughput",
            resource_type="Custom::BedrockProvisionedThroughput",
            description=f"Creates and deletes the {stage_name} stage's Provisioned Throughput",
            arn_attribute="ProvisionedModelArn",
            bedrock_resource="provisioned-model",
            actions=[
                "bedrock:CreateProvisionedModelThroughput",
                "bedrock:GetProvisionedModelThroughput",
                "bedrock:DeleteProvisionedModelThroughput",
            ],
            properties={
                "ModelUnits": str(model_units),
                "CommitmentDuration": "" if commitment == "none" else commitment,
            },
            removal_policy=RemovalPolicy.DESTROY if commitment == "none" else RemovalPolicy.RETAIN,
        )


class OnDemandDeployment(ServedModel):
    """An on-demand custom model deployment: no hourly charge, billed per token."""

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
        super().__init__(
            scope,
            id,
            stage_name=stage_name,
            model_arn=model_arn,
            key=key,
            tags=tags,
            folder="model_deployment",
            resource_type="Custom::BedrockCustomModelDeployment",
            description=f"Creates and deletes the {stage_name} stage's on-demand custom model deployment",
            arn_attribute="DeploymentArn",
            bedrock_resource="custom-model-deployment",
            actions=[
                "bedrock:CreateCustomModelDeployment",
                "bedrock:GetCustomModelDeployment",
                "bedrock:DeleteCustomModelDeployment",
            ],
            properties={"Description": f"Distilled model of the {stage_name} stage"},
            removal_policy=RemovalPolicy.DESTROY,
        )


def _arn(stack: Stack, resource: str) -> str:
    return stack.format_arn(service="bedrock", resource=resource, resource_name="*")
