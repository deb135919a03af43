"""A post-deploy check that the served model answers: a failed Converse call fails the deploy."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from constructs import Construct

from distill.constructs.bedrock_resource import BedrockResource, Permission
from distill.constructs.data_key import DataKey

MAX_TOKENS = 64
INVOKE_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


class ServingSmokeTest(Construct):
    """Sends a few prompts to the served model through Converse whenever the served model changes; an error or an
    empty answer fails the deployment, and CloudFormation's rollback then deletes what it created."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        model_id: str,
        model_arn: str,
        prompts: Sequence[str],
        key: DataKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self._resource = BedrockResource(
            self,
            "Check",
            folder="smoke_test",
            resource_type="Custom::BedrockServingSmokeTest",
            description=f"Checks that the {stage_name} stage's served model answers",
            key=key,
            removal_policy=removal_policy,
            # ModelArn (the custom model served) is not used by the handler: it makes the check run again whenever
            # the served model changes, as a throughput moved in place keeps its ARN (ModelId).
            properties={
                "ModelId": model_id,
                "ModelArn": model_arn,
                "Prompts": json.dumps(list(prompts)),
                "MaxTokens": str(MAX_TOKENS),
            },
            permissions=[Permission(actions=["bedrock:InvokeModel"], resources=[model_id])],
            # Invoking a custom model encrypted with a customer key (Amazon Nova user guide,
            # customize-fine-tune-encrypt.html, "PermissionsModelInvocation", read 2026-12-01).
            key_via_bedrock=INVOKE_KEY_ACTIONS,
            timeout=Duration.minutes(10),
        )
