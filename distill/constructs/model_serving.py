"""Serving the distilled model: a Provisioned Throughput, or an on-demand custom model deployment."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from distill.constructs.bedrock_metrics import model_metric
from distill.constructs.bedrock_resource import (
    BedrockResource,
    Permission,
    Waiting,
    stage_created,
    stage_owned,
    stage_owned_only,
    stage_tags,
    tags_read,
)
from distill.constructs.data_key import BEDROCK_KEY_ACTIONS, INVOKE_KEY_ACTIONS, usage_through
from distill.constructs.names import check_name_prefix
from distill.constructs.signalled_wait import SignalledWait

# Bedrock sends no events for throughputs or deployments; the watcher checks this often until the model serves.
READY_POLL = Duration.minutes(2)
# A resource still changing when a request asks it to move (a rollback right after a move began) is moved by the
# handler's is_complete once it is ready, within the hour CloudFormation waits for a custom resource.
MOVE_CHECK = Waiting(query_interval=Duration.minutes(1), total_timeout=Duration.hours(1))
GENERATED_NAMES_REASON = (
    "The served model's ARN is known only at deploy time and serving resources get their ARN from Bedrock, so the "
    "handler acts on this account and Region's custom models and serving resources, found by the names it gives them."
)


class Commitment(enum.Enum):
    """A Provisioned Throughput's commitment term; the values are CreateProvisionedModelThroughput's
    ``commitmentDuration`` (Bedrock API reference; none: no commitment, billed by the hour until deleted)."""

    NONE = ""
    ONE_MONTH = "OneMonth"
    SIX_MONTHS = "SixMonths"


@dataclass(frozen=True)
class ServingActions:
    """The Bedrock actions of one kind of serving resource: read, create, move to another model, delete."""

    get: str
    create: str
    update: str
    delete: str

    @classmethod
    def of(cls, noun: str) -> ServingActions:
        """``noun`` as in the API: ProvisionedModelThroughput, CustomModelDeployment."""
        return cls(*(f"bedrock:{verb}{noun}" for verb in ("Get", "Create", "Update", "Delete")))


def identity(*parts: str) -> str:
    """Twelve hex digits naming what defines a resource, for names Bedrock allows (letters, digits, hyphens)."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


class ServedModel(Construct):
    """What both ways of serving share: a resource that returns once Bedrock has accepted it and moves to each new
    model in place, then a wait (up to 12 h) until it serves the model; ``arn`` is the modelId for inference and
    ``ready`` completes once it serves.

    ``defining`` are the settings Bedrock cannot change in place (model units, commitment, base model): they are in
    the resource's name, so a change of them is a new resource, and the name lets an Update find the resource its
    properties describe (lambda/shared/python/serving_lifecycle.py). ``model_key`` names the model at synth (the
    job's name): each model served gets its own wait.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        model_arn: str,
        model_key: str,
        key: kms.IKey,
        tags: Mapping[str, str],
        folder: str,
        resource_type: str,
        kind: str,
        description: str,
        bedrock_resource: str,
        actions: ServingActions,
        defining: Sequence[str],
        properties: Mapping[str, str],
        removal_policy: RemovalPolicy,
        keep_on_delete: bool = False,
        name_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.model_arn = model_arn
        self._key = key
        check_name_prefix(stage_name)
        prefix = check_name_prefix(name_prefix or stage_name, "name_prefix")
        name = f"{prefix}-serving-{identity(prefix, resource_type, *defining)}"
        served, models = _arn(stack, bedrock_resource), _arn(stack, "custom-model")
        self.resource = BedrockResource(
            self,
            "Resource",
            folder=folder,
            resource_type=resource_type,
            description=description,
            key=key,
            removal_policy=removal_policy,
            properties={
                "Name": name,
                "ModelArn": model_arn,
                "Tags": stack.to_json_string(stage_tags(stage_name, tags or {})),
                **properties,
            },
            permissions=[
                Permission(actions=[actions.get], resources=[served], wildcard_reason=GENERATED_NAMES_REASON),
                tags_read([served], GENERATED_NAMES_REASON),
                # The create and the move are also authorized on the model served (custom-model), which is the
                # stage's own: its job's or its copy's, tagged alike.
                *stage_created(stage_name, [actions.create], [served, models], GENERATED_NAMES_REASON, new=[served]),
                stage_owned_only(stage_name, [actions.update], [served, models], GENERATED_NAMES_REASON),
                *stage_owned(stage_name, [actions.delete], [served], GENERATED_NAMES_REASON),
            ],
            key_via_bedrock=BEDROCK_KEY_ACTIONS,
            waiting=MOVE_CHECK,
            # A create whose answer was lost is looked for by name while the function has time.
            timeout=Duration.minutes(15),
            keep_on_delete=keep_on_delete,
        )
        wait = SignalledWait(
            self,
            f"Ready{identity(name, model_key)}",
            folder="served_model_wait",
            description=f"Signals when the {kind} {name} serves the model",
            environment={"KIND": kind, "RESOURCE_ARN": self.arn, "MODEL_ARN": model_arn},
            statements=[iam.PolicyStatement(actions=[actions.get], resources=[self.arn])],
            poll=READY_POLL,
            poll_rule_name=f"{prefix}-ready-{identity(name, model_key)}",
            key=key,
            removal_policy=removal_policy,
        )
        self.ready: Construct = wait.condition
        self.name = name

    @property
    def arn(self) -> str:
        return self.resource.attribute("Arn")

    @property
    def model_id(self) -> str:
        """What inference calls name as ``modelId`` (Converse, InvokeModel): the throughput's or deployment's ARN."""
        return self.arn

    def invoke_statements(self) -> list[iam.PolicyStatement]:
        """Invoking the served model: bedrock:InvokeModel (which also authorizes Converse) on the serving resource
        and on the custom model behind it, and the key through Bedrock, as the model is encrypted with it."""
        return [
            iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=[self.arn, self.model_arn]),
            usage_through(self._key, "bedrock", INVOKE_KEY_ACTIONS),
        ]

    def grant_invoke(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` send prompts to the served model (``invoke_statements``, in its identity policy)."""
        for statement in self.invoke_statements():
            grantee.grant_principal.add_to_principal_policy(statement)

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """An AWS/Bedrock runtime metric of this model (``bedrock_metrics.model_metric``)."""
        return model_metric(self.model_id, metric_name, **props)

    def metric_invocations(self, **props: Any) -> cloudwatch.Metric:
        """Requests Bedrock accepted (Converse, InvokeModel and their streaming forms), summed."""
        return self.metric("Invocations", **props)

    def metric_invocation_latency(self, **props: Any) -> cloudwatch.Metric:
        """Milliseconds from request to last token, averaged."""
        return self.metric("InvocationLatency", **{"statistic": "Average", **props})

    def metric_client_errors(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("InvocationClientErrors", **props)

    def metric_server_errors(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("InvocationServerErrors", **props)

    def metric_throttles(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("InvocationThrottles", **props)


class ProvisionedThroughput(ServedModel):
    """Provisioned Throughput for the custom model, billed by the hour per model unit.

    A new model of the same base model moves the throughput in place; the model units, the commitment and the base
    model define it, and a change of them buys a new one (the old one is deleted once the new one serves). Without a
    commitment (the default) Delete deletes it; with a commitment, which cannot be cancelled, the resource is
    retained when it is replaced or its stack is deleted, and a new stack with the same settings adopts it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        model_arn: str,
        model_key: str,
        base_model: str,
        key: kms.IKey,
        model_units: int = 1,
        commitment: Commitment = Commitment.NONE,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        name_prefix: str | None = None,
    ) -> None:
        """``model_arn`` is the custom model served; ``model_key`` names it at synth (its job's name, or its copy's),
        so that each model served gets a wait of its own; ``base_model`` is the student it was customized from;
        ``name_prefix`` (default ``stage_name``) begins the resource's name, for several models of a stage."""
        if not isinstance(commitment, Commitment):
            raise TypeError(f"commitment is {commitment!r}; give Commitment.NONE, ONE_MONTH or SIX_MONTHS")
        duration = commitment.value
        self.model_units = model_units
        self.commitment = commitment
        super().__init__(
            scope,
            id,
            stage_name=stage_name,
            name_prefix=name_prefix,
            model_arn=model_arn,
            model_key=model_key,
            key=key,
            tags=tags,
            folder="provisioned_throughput",
            resource_type="Custom::BedrockProvisionedThroughput",
            kind="Provisioned Throughput",
            description=f"Buys, moves and deletes the {stage_name} stage's Provisioned Throughput",
            bedrock_resource="provisioned-model",
            actions=ServingActions.of("ProvisionedModelThroughput"),
            defining=[base_model, str(model_units), duration],
            properties={"ModelUnits": str(model_units), "CommitmentDuration": duration},
            removal_policy=removal_policy,
            keep_on_delete=commitment is not Commitment.NONE,
        )


class OnDemandDeployment(ServedModel):
    """An on-demand custom model deployment: no hourly charge, billed per token; it moves to a new model in place."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        model_arn: str,
        model_key: str,
        base_model: str,
        key: kms.IKey,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        name_prefix: str | None = None,
    ) -> None:
        """As for ``ProvisionedThroughput``, without model units or commitment."""
        super().__init__(
            scope,
            id,
            stage_name=stage_name,
            name_prefix=name_prefix,
            model_arn=model_arn,
            model_key=model_key,
            key=key,
            tags=tags,
            folder="on_demand_deployment",
            resource_type="Custom::BedrockCustomModelDeployment",
            kind="custom model deployment",
            description=f"Creates, moves and deletes the {stage_name} stage's on-demand custom model deployment",
            bedrock_resource="custom-model-deployment",
            actions=ServingActions.of("CustomModelDeployment"),
            defining=[base_model],
            properties={"Description": f"Distilled model of the {stage_name} stage"},
            removal_policy=removal_policy,
        )


def _arn(stack: Stack, resource: str) -> str:
    return stack.format_arn(service="bedrock", resource=resource, resource_name="*")
