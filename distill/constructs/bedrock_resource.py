"""A Bedrock resource that CloudFormation has no type for, as a custom resource backed by a handler in lambda/."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from distill.constructs.data_key import usage_through
from distill.constructs.handler_function import HandlerFunction
from distill.constructs.handler_provider import HandlerProvider
from distill.constructs.nag import acknowledge_resource
from distill.constructs.names import STAGE_TAG


@dataclass(frozen=True)
class Permission:
    """IAM actions a handler calls, on which resources, and why any wildcard in them is needed."""

    actions: Sequence[str]
    resources: Sequence[str]
    wildcard_reason: str | None = None
    conditions: Mapping[str, object] | None = None


# What the handlers' roles may do to a Bedrock resource depends on the stage's tag (STAGE_TAG, with the stage's
# name), which every job, custom model, copy, Provisioned Throughput and deployment they create carries
# (``stage_tags``): they stop, move, retag or delete only what their own stage made, never another stage's or team's
# resource of the account, even one they find by a name they derive. The Service Authorization Reference for Amazon
# Bedrock (https://docs.aws.amazon.com/service-authorization/latest/reference/list_bedrock.html, read 2026-12-02; AWS
# publishes the same data as https://servicereference.us-east-1.amazonaws.com/v1/bedrock/bedrock.json) lists
# aws:ResourceTag/${TagKey} for the resource types custom-model, model-customization-job, model-copy-job,
# provisioned-model and custom-model-deployment, and aws:RequestTag/${TagKey} and aws:TagKeys for
# CreateModelCustomizationJob, CreateModelCopyJob, CreateProvisionedModelThroughput, CreateCustomModelDeployment and
# TagResource (aws:TagKeys for UntagResource). It lists no tag key for the list actions, which take no resource.
RESOURCE_TAG = f"aws:ResourceTag/{STAGE_TAG}"
REQUEST_TAG = f"aws:RequestTag/{STAGE_TAG}"


def stage_tags(stage_name: str, *tag_maps: Mapping[str, str]) -> dict[str, str]:
    """The tags a stage's Bedrock resource is created with: ``tag_maps`` merged, and STAGE_TAG always the stage's
    name (a user's tag of that key cannot hand the resource to another stage, or out of this one's reach)."""
    tags = {STAGE_TAG: stage_name}
    for extra in tag_maps:
        tags.update(extra)
    tags[STAGE_TAG] = stage_name
    return tags


def owned(stage_name: str) -> dict[str, object]:
    """The condition of an action on an existing resource: the resource carries the stage's tag."""
    return {"StringEquals": {RESOURCE_TAG: stage_name}}


def created_for(stage_name: str) -> dict[str, object]:
    """The condition of a create: the request tags the new resource with the stage's tag."""
    return {"StringEquals": {REQUEST_TAG: stage_name}}


def stage_owned_only(
    stage_name: str, actions: Sequence[str], resources: Sequence[str], wildcard_reason: str
) -> Permission:
    """``actions`` (stop, update, delete) on the stage's own resources among ``resources``."""
    return Permission(
        actions=actions,
        resources=resources,
        wildcard_reason=f"{wildcard_reason} Only resources tagged {STAGE_TAG}={stage_name}.",
        conditions=owned(stage_name),
    )


def stage_owned(
    stage_name: str, actions: Sequence[str], resources: Sequence[str], wildcard_reason: str
) -> list[Permission]:
    """``stage_owned_only``, and the tagging a handler does to those resources: TagResource may not give STAGE_TAG
    another value, and UntagResource may not remove it, so that no handler can move a resource out of its stage or
    into another one."""
    tagging = stage_owned_only(stage_name, ["bedrock:TagResource"], resources, wildcard_reason)
    return [
        stage_owned_only(stage_name, actions, resources, wildcard_reason),
        replace(tagging, conditions={**owned(stage_name), "StringEqualsIfExists": {REQUEST_TAG: stage_name}}),
        replace(
            tagging,
            actions=["bedrock:UntagResource"],
            conditions={**owned(stage_name), "ForAllValues:StringNotEquals": {"aws:TagKeys": [STAGE_TAG]}},
        ),
    ]


def stage_created(
    stage_name: str,
    actions: Sequence[str],
    resources: Sequence[str],
    wildcard_reason: str,
    *,
    new: Sequence[str] | None = None,
) -> list[Permission]:
    """A create (``actions`` on ``resources``) whose request tags the new resource (one of ``new``, by default
    ``resources``) with the stage's tag.

    The operations table of the Service Authorization Reference page (read 2026-12-02) maps Bedrock creates that take
    tags to bedrock:TagResource as well; whether it does so for these creates is not shown there, so the new resource
    may also be tagged on create: only with the stage's tag, and only while it carries no STAGE_TAG yet, so that a
    resource of another stage cannot be claimed. (IAM cannot tell that TagResource from a later one: a resource that
    carries no STAGE_TAG at all, found by one of the stage's own derived names, could be tagged to the stage.)"""
    reason = f"{wildcard_reason} Only with the tag {STAGE_TAG}={stage_name} on the new resource."
    return [
        Permission(actions=actions, resources=resources, wildcard_reason=reason, conditions=created_for(stage_name)),
        Permission(
            actions=["bedrock:TagResource"],
            resources=resources if new is None else new,
            wildcard_reason=reason,
            conditions={**created_for(stage_name), "Null": {RESOURCE_TAG: "true"}},
        ),
    ]


def tags_read(resources: Sequence[str], wildcard_reason: str) -> Permission:
    """Reading the tags of ``resources`` (ListTagsForResource), which a handler does before it adopts, retags, moves,
    stops or deletes what it found by a name the stack derives (lambda/shared/python/stage_ownership.py
    require_stage): the Null condition of ``stage_created`` lets it tag a resource that carries no STAGE_TAG, so IAM
    alone does not keep it off another team's untagged resource of that name. A read, on any resource of the type:
    the tags are what tell the stage's own from the rest."""
    return Permission(
        actions=["bedrock:ListTagsForResource"],
        resources=resources,
        wildcard_reason=f"{wildcard_reason} Their tags say whether the resource found by name is the stage's.",
    )


def own_stack_status(stack: Stack) -> Permission:
    """Reading the handler's own stack (DescribeStacks), to tell CloudFormation's rollback from an update
    (lambda/shared/python/stack_rollback.py rolling_back)."""
    return Permission(actions=["cloudformation:DescribeStacks"], resources=[stack.stack_id])


def guard_stacks(stack: Stack, names: Sequence[str]) -> list[str]:
    """The stacks whose rollback holds back a release: ``names`` (the model's stacks) and the handler's own."""
    return sorted({stack.stack_name, *names})


def model_release(stack: Stack, stage_name: str, guards: Sequence[str]) -> list[Permission]:
    """What deleting a custom model once nothing serves it takes (lambda/shared/python/model_release.py
    delete_model_unless_served and release_unserved_models): finding the stage's models and what serves them, their
    tags, and the delete, of the stage's own models only (``stage_owned``), and reading the stacks ``guards``
    (``guard_stacks``) while one of which rolls back nothing is released. The list actions take no resource-level
    permission (Service Authorization Reference for Amazon Bedrock, read 2026-12-02)."""
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
            actions=["bedrock:ListTagsForResource"],
            resources=[models],
            wildcard_reason="The stage's custom models have ARNs with ids Bedrock chooses; their tags say which are "
            "to be deleted once unserved.",
        ),
        *stage_owned(
            stage_name,
            ["bedrock:DeleteCustomModel"],
            [models],
            "The stage's custom models have ARNs with ids Bedrock chooses; the handler deletes only models tagged to "
            "be deleted once unserved, or its own job's or copy's.",
        ),
        Permission(
            actions=["bedrock:GetCustomModelDeployment"],
            resources=[deployments],
            wildcard_reason="Which model each deployment of the account serves or moves to, read before a model is "
            "deleted.",
        ),
        # Nothing is released while one of the guard stacks rolls back or waits in a failed rollback
        # (stack_rollback.stage_unsettled), the handler's own stack included.
        Permission(
            actions=["cloudformation:DescribeStacks"],
            resources=[
                stack.format_arn(service="cloudformation", resource="stack", resource_name=f"{name}/*")
                for name in guards
            ],
            wildcard_reason="The model's stacks, by name; the stack id CloudFormation adds to each ARN is known only "
            "once the stack exists.",
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
        key: kms.IKey,
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
                key=key,
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
                    handler.add_to_role_policy(usage_through(key, service, list(actions)))
        provider = HandlerProvider(
            self,
            "Provider",
            on_event=handlers[0],
            is_complete=handlers[1] if waiting else None,
            query_interval=waiting.query_interval if waiting else None,
            total_timeout=waiting.total_timeout if waiting else None,
            key=key,
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
                acknowledge_resource(
                    handler.policy,
                    "AwsSolutions-IAM5",
                    resource,
                    permission.wildcard_reason,
                )

    def attribute(self, name: str) -> str:
        return self.resource.get_att_string(name)

    @property
    def physical_id(self) -> str:
        return self.resource.ref
