"""A post-deploy check that the served model answers: a failed Converse call fails the deploy."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from distill.constructs.bedrock_resource import BedrockResource, Permission, own_stack_status
from distill.constructs.data_key import INVOKE_KEY_ACTIONS
from distill.constructs.model_serving import ServedModel

MAX_TOKENS = 64
# How many of the dataset's first records the check sends, and how much of each: it checks that the model answers,
# no more.
PROMPT_COUNT = 3
MAX_PROMPT_CHARACTERS = 2000


class SmokeTest(Construct):
    """Sends a few prompts to ``model`` through Converse once it serves, and again whenever the model it serves
    changes; an error or an empty answer fails the deployment, and CloudFormation's rollback then deletes what it
    created.

    ``training_data_uri`` (s3://bucket/key of the stage's dataset, or None) is where the handler reads its prompts at
    run time, so that no prompt text is written into the template; without it one synthetic prompt is sent.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        model: ServedModel,
        key: kms.IKey,
        training_data_uri: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        model_id, model_arn = model.model_id, model.model_arn
        properties = {
            "ModelId": model_id,
            # ModelArn (the custom model served) is not used by the handler: it makes the check run again whenever
            # the served model changes, as a throughput moved in place keeps its ARN (ModelId).
            "ModelArn": model_arn,
            "PromptCount": str(PROMPT_COUNT),
            "MaxPromptCharacters": str(MAX_PROMPT_CHARACTERS),
            "MaxTokens": str(MAX_TOKENS),
        }
        # The check is not run while the stack rolls back (lambda/smoke_test rolling_back).
        permissions = [
            Permission(actions=["bedrock:InvokeModel"], resources=[model_id]),
            own_stack_status(Stack.of(self)),
        ]
        if training_data_uri is not None:
            properties["TrainingDataUri"] = training_data_uri
            # Dataset prompts are sent only while the account logs no model invocations (lambda/smoke_test).
            permissions.append(
                Permission(
                    actions=["bedrock:GetModelInvocationLoggingConfiguration"],
                    resources=["*"],
                    wildcard_reason="The account and Region's one invocation logging configuration has no ARN; the "
                    "check reads whether it is on before it sends any dataset prompt.",
                )
            )
            bucket, _, object_key = training_data_uri.removeprefix("s3://").partition("/")
            partition = Stack.of(self).partition
            permissions.append(
                Permission(actions=["s3:GetObject"], resources=[f"arn:{partition}:s3:::{bucket}/{object_key}"])
            )
        self._resource = BedrockResource(
            self,
            "Check",
            folder="smoke_test",
            resource_type="Custom::BedrockServingSmokeTest",
            description=f"Checks that the {stage_name} stage's served model answers",
            key=key,
            removal_policy=removal_policy,
            properties=properties,
            permissions=permissions,
            # Invoking a custom model encrypted with a customer key (Amazon Nova user guide,
            # customize-fine-tune-encrypt.html, "PermissionsModelInvocation", read 2026-12-01).
            key_via_bedrock=INVOKE_KEY_ACTIONS,
            # Reading a dataset the stage's key encrypts (the stage's own copy, or one staged as the README says).
            key_via_s3=["kms:Decrypt"] if training_data_uri is not None else (),
            timeout=Duration.minutes(10),
        )
        self.node.add_dependency(model.ready)
