"""A Bedrock resource that CloudFormation has no type for, as a custom resource backed by a handler in lambda/."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from distill.constructs.data_key import DataKey
from distill.constructs.handler_function import HandlerFunction
from distill.constructs.handler_provider import HandlerProvider
from distill.nag import acknowledge, rendered


@dataclass(frozen=True)
class Permission:
    """IAM actions a handler calls, on which resources, and why any wildcard in them is needed."""

    actions: Sequence[str]
    resources: Sequence[str]
    wildcard_reason: str | None = None
    conditions: Mapping[str, object] | None = None


def model_release(stack: Stack) -> list[Permission]:
    """What deleting a custom model once nothing serves it takes (lambda/shared/python/custom_resource.py
    delete_model_unless_served and release_unserved_models): finding the stage's models and what serves them, their
    tags, and the delete. The list actions take no resource-level permission (Service Authorization Reference for
    Amazon Bedrock, read 2026-11-30)."""
    models = stack.format_arn(service="bedrock", resource="custom-model", resource_name="*")
    deployments = stack.format_arn(service="bedrock", resource="custom-model-deployment", resource_name="*")
    return [
        Permission(
            actions=[
                "bedrock:ListCustomModels",
                "bedrock:ListProvisionedModelThroughputs",
                "bedrock:ListCustomModelDeployments",
            ],
            resources=["*"],
            wildcard_reason="Bedrock's list actions take no resource-level permission; these only find the stage's "
            "models and what serves them before a model is deleted.",
        ),
        Permission(
            actions=[
                "bedrock:ListTagsForResource",
                "bedrock:TagResource",
                "bedrock:UntagResource",
                "bedrock:DeleteCustomModel",
            ],
            resources=[models],
            wildcard_reason="The stage's custom models have ARNs with ids Bedrock chooses; the handler deletes only "
            "models tagged to be deleted once unserved, or its own job's.",
        ),
        Permission(
            actions=["bedrock:GetCustomModelDeployment"],
            resources=[deployments],
            wildcard_reason="Which model each deployment of the account serves or moves to, read before a model is "
            "deleted.",
        ),
    ]


@dataclass(frozen=True)
class Waiting:
    """For resources that take minutes to become usable: how often to check and how long in all (at most 1 h)."""

    query_interval: Duration
    total_timeout: Duration


class BedrockResource(Construct):
    """One custom resource: its handler function(s), their least-privilege policy and the provider around them.

    With ``waiting``, a second function checks completion (``is_complete``) on the provider's schedule, and the
    resource is created only once Bedrock reports it ready. ``removal_policy`` is the handlers' log groups'; the
    custom resource always gets its Delete unless ``keep_on_delete``. ``key_via_bedrock`` and ``key_via_s3`` are the
    KMS actions the handlers may use the stage's key for, only through that service.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        folder: str,
        resource_type: str,
        description: str,
        key: DataKey,
        removal_policy: RemovalPolicy,
        properties: Mapping[str, object],
        permissions: Sequence[Permission],
        waiting: Waiting | None = None,
        key_via_bedrock: Sequence[str] = (),
        key_via_s3: Sequence[str] = (),
        timeout: Duration | None = None,
        keep_on_delete: bool = False,
    ) -> None:
        super().__init__(scope, id)
        entries = {"OnEvent": "index.on_event", **({"IsComplete": "index.is_complete"} if waiting else {})}
        handlers = [
            HandlerFunction(
                self,
                id,
                folder=folder,
                entry=entry,
                description=description,
                key=key.key,
                removal_policy=removal_policy,
                timeout=timeout,
            )
            for id, entry in entries.items()
        ]
        for handler in handlers:
            for permission in permissions:
                handler.add_to_role_policy(
                    iam.PolicyStatement(
                        actions=list(permission.actions),
                        resources=list(permission.resources),
                        conditions=dict(permission.conditions) if permission.conditions else None,
                    )
                )
                self._acknowledge_wildcards(handler, permission)
            for service, actions in (("bedrock", key_via_bedrock), ("s3", key_via_s3)):
                if actions:
                    handler.add_to_role_policy(key.usage_through(service, list(actions)))
        provider = HandlerProvider(
            self,
            "Provider",
            on_event=handlers[0],
            is_complete=handlers[1] if waiting else None,
            query_interval=waiting.query_interval if waiting else None,
            total_timeout=waiting.total_timeout if waiting else None,
            key=key.key,
            removal_policy=removal_policy,
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=resource_type,
            properties=dict(properties),
            # The handler's Delete decides what happens to the Bedrock resource (a running job is stopped, a model
            # kept or not as its properties say), so CloudFormation must send it: a retained custom resource would
            # leave a job running unowned. Only what must outlive the stack (a committed throughput) is kept.
            removal_policy=RemovalPolicy.RETAIN if keep_on_delete else RemovalPolicy.DESTROY,
        )

    @staticmethod
    def _acknowledge_wildcards(handler: HandlerFunction, permission: Permission) -> None:
        if permission.wildcard_reason is None:
            return
        for resource in permission.resources:
            if "*" in resource:
                acknowledge(
                    handler.policy,
                    f"AwsSolutions-IAM5[Resource::{rendered(handler, resource)}]",
                    permission.wildcard_reason,
                )

    def attribute(self, name: str) -> str:
        return self.resource.get_att_string(name)

    @property
    def physical_id(self) -> str:
        return self.resource.ref
