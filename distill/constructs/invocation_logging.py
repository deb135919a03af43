"""The account and Region's Bedrock model invocation logging, delivered to the stage's invocation-logs bucket."""

from __future__ import annotations

from aws_cdk import CustomResource, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from distill.constructs.data_key import allow_bedrock_log_delivery
from distill.constructs.handler_function import HandlerFunction
from distill.constructs.handler_provider import HandlerProvider
from distill.constructs.nag import acknowledge, acknowledge_resource
from distill.constructs.resource_policy import add_resource_statement

LOGGING_ACTIONS = [
    "bedrock:GetModelInvocationLoggingConfiguration",
    "bedrock:PutModelInvocationLoggingConfiguration",
    "bedrock:DeleteModelInvocationLoggingConfiguration",
]


class InvocationLogging(Construct):
    """A custom resource that owns the logging configuration without ever silently replacing another one.

    Create refuses a configuration this stack did not create unless ``take_over`` is set; then it saves the old
    configuration and Delete restores it. Delete removes only a configuration that is still this stack's.

    Bedrock delivers the logs as itself: the construct adds the statements it needs to the policies of ``bucket``
    (s3:PutObject under ``key_prefix``) and ``key`` (kms:GenerateDataKey). An imported bucket's or key's policy cannot
    be changed here; a warning then gives the statement its owner must add, without which Bedrock cannot deliver the
    logs.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage_name: str,
        bucket: s3.IBucket,
        key: kms.IKey,
        key_prefix: str,
        take_over: bool = False,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        if not key_prefix or key_prefix != key_prefix.strip("/"):
            raise ValueError(
                f"key_prefix is {key_prefix!r}; it must be a folder of the bucket without leading or trailing "
                'slashes, e.g. "bedrock/logs" (Bedrock writes under <key_prefix>/AWSLogs/)'
            )
        self.key_prefix = key_prefix
        # The prefix Bedrock writes under, and the one a distillation job reads invocation logs from.
        self.bucket = bucket
        self.logs_prefix = f"{key_prefix}/AWSLogs/"
        bucket_policy_statement = iam.PolicyStatement(
            sid="BedrockWritesInvocationLogs",
            principals=[iam.ServicePrincipal("bedrock.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[bucket.arn_for_objects(f"{key_prefix}/AWSLogs/{stack.account}/BedrockModelInvocationLogs/*")],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:*"},
            },
        )
        add_resource_statement(
            bucket, bucket_policy_statement, "Bedrock cannot deliver invocation logs into the bucket"
        )
        allow_bedrock_log_delivery(key)

        handler = HandlerFunction(
            self,
            "Handler",
            folder="invocation_logging",
            entry="index.on_event",
            description="Owns the Bedrock model invocation logging configuration of this account and Region",
            key=key,
            removal_policy=removal_policy,
        )
        handler.add_to_role_policy(iam.PolicyStatement(actions=LOGGING_ACTIONS, resources=["*"]))
        # What the handler replaced and last put in place, kept outside the bucket it may be asked to move from.
        state_parameter = f"/bedrock-distillation/{stage_name}/invocation-logging"
        handler.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
                resources=[stack.format_arn(service="ssm", resource="parameter", resource_name=state_parameter[1:])],
            )
        )
        acknowledge(
            handler.policy,
            "AwsSolutions-IAM5[Resource::*]",
            "The model invocation logging actions act on the account and Region's single configuration "
            "and support no resource-level permissions.",
        )
        # Restoring a configuration this stack replaced that delivers to CloudWatch Logs passes its role; the stack
        # may have to restore one after takeOver was switched off, so the grant does not depend on it.
        roles = stack.format_arn(service="iam", region="", resource="role", resource_name="*")
        handler.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[roles],
                conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            )
        )
        acknowledge_resource(
            handler.policy,
            "AwsSolutions-IAM5",
            roles,
            "The role of a configuration someone else made, restored on Delete, is not known at synth; only this "
            "account's roles, and only to Bedrock.",
        )
        provider = HandlerProvider(self, "Provider", on_event=handler, key=key, removal_policy=removal_policy)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type="Custom::BedrockInvocationLogging",
            properties={
                "BucketName": bucket.bucket_name,
                "KeyPrefix": key_prefix,
                "TakeOver": take_over,
                "StateParameterName": state_parameter,
            },
        )
        # Bedrock checks that it can write to the bucket when the configuration is put.
        if bucket.policy is not None:
            self.resource.node.add_dependency(bucket.policy)
        # A bucket that is emptied on delete (removalPolicy destroy) first gets a policy that denies every write, then
        # loses its objects (aws-cdk-lib's auto-delete-objects handler). The logging configuration must be restored or
        # deleted before that, or the account's invocations are logged into a bucket that refuses them and is going
        # away. CloudFormation deletes a resource before the resources it depends on (CloudFormation user guide,
        # DependsOn attribute, read 2026-12-02:
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html), so this
        # resource depends on the auto-delete one. What Delete restores is kept in SSM
        # (StateParameterName), never in the bucket, so emptying the bucket cannot erase it either.
        auto_delete = bucket.node.try_find_child("AutoDeleteObjectsCustomResource")
        if auto_delete is not None:
            self.resource.node.add_dependency(auto_delete)
