"""A copy, in this stage's account, of a custom model another stage distilled and shares through AWS RAM."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from distill.constructs.bedrock_resource import (
    BedrockResource,
    Permission,
    Waiting,
    guard_stacks,
    model_release,
    stage_created,
    stage_tags,
)
from distill.constructs.data_key import BEDROCK_KEY_ACTIONS
from distill.constructs.names import check_name_prefix

# A copy job runs in the background; the provider checks it every two minutes, for at most CloudFormation's hour.
COPY_CHECK = Waiting(query_interval=Duration.minutes(2), total_timeout=Duration.hours(1))
GIVE_UP_AFTER = Duration.minutes(55)
COPY_NAMES_REASON = (
    "A copy job's ARN and the copied model's carry ids Bedrock chooses; the copied model is named by the stack and "
    "found by that name."
)


class ModelCopy(Construct):
    """CreateModelCopyJob as a stack resource: complete once the copy exists, encrypted with this stage's key.

    The copy's name comes from the source model and the key (``target_model_name``, known at synth): an Update finds
    the copy its properties describe and adopts it, so neither a retried request nor a rollback makes a second
    copy. Delete removes the copied model only when the stage's removal policy is destroy; the source model in the
    other account is never touched. The copied model carries the stage's tag (``stage_tags``), and the handler
    deletes only models that carry it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        source_model_arn: str,
        key: kms.IKey,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        name_prefix: str | None = None,
        rollback_guard_stacks: Sequence[str] = (),
    ) -> None:
        """``name_prefix`` (default ``stage_name``) begins the copy's name; ``rollback_guard_stacks`` as for
        ``DistillationJob``."""
        super().__init__(scope, id)
        stack = Stack.of(self)
        guards = guard_stacks(stack, rollback_guard_stacks)
        copies = stack.format_arn(service="bedrock", resource="model-copy-job", resource_name="*")
        models = stack.format_arn(service="bedrock", resource="custom-model", resource_name="*")
        identity = hashlib.sha256(json.dumps(stack.resolve([source_model_arn, key.key_arn])).encode()).hexdigest()
        check_name_prefix(stage_name)
        prefix = check_name_prefix(name_prefix or stage_name, "name_prefix")
        self.target_model_name = f"{prefix}-copy-{identity[:12]}"
        self._resource = BedrockResource(
            self,
            "Copy",
            folder="model_copy",
            resource_type="Custom::BedrockModelCopy",
            description=f"Copies the shared distilled model into the {stage_name} stage's account",
            key=key,
            removal_policy=removal_policy,
            properties={
                "SourceModelArn": source_model_arn,
                "TargetModelName": self.target_model_name,
                "KmsKeyArn": key.key_arn,
                "Tags": stack.to_json_string(stage_tags(stage_name, tags or {})),
                "GuardStacks": stack.to_json_string(guards),
                "RetainModelOnDelete": "true" if removal_policy == RemovalPolicy.RETAIN else "false",
                "GiveUpAfterSeconds": str(int(GIVE_UP_AFTER.to_seconds())),
            },
            permissions=[
                # The copy is authorized on the source model (custom-model), which is another account's: the
                # condition is on the tags the request gives the copied model (targetModelTags).
                *stage_created(
                    stage_name,
                    ["bedrock:CreateModelCopyJob"],
                    [copies, models, source_model_arn],
                    COPY_NAMES_REASON,
                    new=[copies, models],
                ),
                Permission(
                    actions=["bedrock:GetModelCopyJob", "bedrock:GetCustomModel"],
                    resources=[copies, models],
                    wildcard_reason=COPY_NAMES_REASON,
                ),
                Permission(
                    actions=["bedrock:ListModelCopyJobs"],
                    resources=["*"],
                    wildcard_reason="Bedrock's list actions take no resource-level permission; the handler finds its "
                    "copy by name before it makes one.",
                ),
                # Also the copied models' tags (ListTagsForResource on custom-model), read before a copy found by
                # name is adopted (lambda/model_copy require_stage).
                *model_release(stack, stage_name, guards),
            ],
            waiting=COPY_CHECK,
            key_via_bedrock=BEDROCK_KEY_ACTIONS,
            # Deleting a copied model waits for a throughput moving off it (model_release.delete_model_unless_served).
            timeout=Duration.minutes(15),
        )

    @property
    def model_arn(self) -> str:
        return self._resource.attribute("ModelArn")

    @property
    def ready(self) -> Construct:
        return self._resource
