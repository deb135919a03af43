"""The CDK custom-resource Provider framework around our handlers, with the framework's own pieces secured."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from distill.constructs.handler_function import HandlerFunction, acknowledge_handler_findings, allow_log_writing
from distill.nag import acknowledge, acknowledge_compliance, logical_id


class HandlerProvider(Construct):
    """A Provider whose framework function has its own least-privilege role and an encrypted log group.

    The framework turns every exception a handler raises into a FAILED response carrying the message, so
    CloudFormation never waits for a response that will not come.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        on_event: HandlerFunction,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
        is_complete: HandlerFunction | None = None,
        query_interval: Duration | None = None,
        total_timeout: Duration | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=removal_policy,
        )
        role = iam.Role(self, "FrameworkRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        allow_log_writing(iam.ManagedPolicy(self, "FrameworkPolicy", roles=[role]), self.log_group)
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=on_event.function,
            is_complete_handler=is_complete.function if is_complete else None,
            query_interval=query_interval,
            total_timeout=total_timeout,
            framework_on_event_role=role if is_complete is None else None,
            role=role if is_complete is not None else None,
            log_group=self.log_group,
        )
        self._acknowledge(role, [on_event, *([is_complete] if is_complete else [])])

    @property
    def service_token(self) -> str:
        return self.provider.service_token

    def _acknowledge(self, role: iam.Role, handlers: list[HandlerFunction]) -> None:
        framework = self.provider.node.find_child("framework-onEvent")
        acknowledge_handler_findings(framework)  # type: ignore[arg-type]
        acknowledge(
            framework,
            "AwsSolutions-L1",
            "The provider framework function's runtime is chosen by aws-cdk-lib and moves with its pin.",
        )
        acknowledge_compliance(
            role,
            "IAMNoInlinePolicy",
            "aws-cdk-lib's Provider writes the framework's permission to invoke the handler as the role's inline "
            "default policy; everything else is in a customer-managed policy.",
        )
        for handler in handlers:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{logical_id(handler.function)}.Arn>:*]",
                "The framework invokes the handler function; the wildcard covers its versions and aliases only.",
            )
