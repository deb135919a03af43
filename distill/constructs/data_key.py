"""The stage's customer-managed KMS key: buckets, custom models and log groups are encrypted with it."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from distill.constructs.resource_policy import add_resource_statement

# What Bedrock needs from the key to encrypt a custom model and read encrypted training data.
BEDROCK_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"]
# What a caller needs from the key to invoke a custom model encrypted with it, through Bedrock (Amazon Nova user
# guide, customize-fine-tune-encrypt.html, "PermissionsModelInvocation", read 2026-12-01).
INVOKE_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
# What a principal needs from the key to read and write SSE-KMS objects through S3.
S3_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


class DataKey(Construct):
    """A rotating KMS key whose policy names each service that may use it and through which service."""

    def __init__(
        self, scope: Construct, id: str, *, alias: str, removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    ) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "Key",
            alias=alias,
            description="Encrypts the training data, job output, invocation logs and custom models of a "
            "Bedrock distillation stage",
            enable_key_rotation=True,
            removal_policy=removal_policy,
            pending_window=Duration.days(30),
        )
        allow_log_encryption(self.key)

    @property
    def key_arn(self) -> str:
        return self.key.key_arn


def allow_log_encryption(key: kms.IKey) -> None:
    """Let CloudWatch Logs encrypt this account's log groups with ``key`` (the handlers' log groups are encrypted
    with it); the encryption-context condition limits it to this account's groups (CloudWatch Logs user guide,
    encrypt-log-data-kms.html). Any construct that encrypts a log group with a key adds it: CDK writes one copy of
    a statement added twice."""
    stack = Stack.of(key)
    add_resource_statement(
        key,
        iam.PolicyStatement(
            sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        ),
        "CloudWatch Logs cannot create the handlers' log groups encrypted with the key",
    )


def allow_via_service(key: kms.IKey, sid: str, principal: iam.IPrincipal, *, service: str, actions: list[str]) -> bool:
    """Let ``principal`` use ``key`` only when ``service`` (e.g. ``bedrock``, ``s3``) calls KMS for it: a key-policy
    statement, for a principal of the key's own stack. Returns False for an imported key, whose policy cannot be
    changed here: grant the principal ``usage_through`` in its own policy instead."""
    stack = Stack.of(key)
    return key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[principal],
            actions=actions,
            resources=["*"],
            conditions={"StringEquals": {"kms:ViaService": f"{service}.{stack.region}.amazonaws.com"}},
        )
    ).statement_added


def usage_through(key: kms.IKey, service: str, actions: list[str]) -> iam.PolicyStatement:
    """An identity-policy statement to use ``key`` only through ``service``, for principals in other stacks.

    A key policy that named a principal of a later stack would make this stack depend on that one; the key
    policy's account statement delegates to IAM, so the same condition in the principal's own policy suffices.
    """
    stack = Stack.of(key)
    return iam.PolicyStatement(
        actions=actions,
        resources=[key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"{service}.{stack.region}.amazonaws.com"}},
    )


def allow_bedrock_log_delivery(key: kms.IKey) -> None:
    """Bedrock writes invocation logs into the SSE-KMS bucket as itself and needs a data key for that (an imported
    key's owner adds the statement, which a warning shows)."""
    stack = Stack.of(key)
    add_resource_statement(
        key,
        iam.PolicyStatement(
            sid="BedrockWritesInvocationLogs",
            principals=[iam.ServicePrincipal("bedrock.amazonaws.com")],
            actions=["kms:GenerateDataKey"],
            resources=["*"],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:*"},
            },
        ),
        "Bedrock cannot encrypt the invocation logs it delivers",
    )
