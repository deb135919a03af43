"""The CDK custom-resource Provider framework around our handlers, with the framework's own pieces secured."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from distill.constructs.handler_function import (
    HandlerFunction,
    acknowledge_handler_findings,
    allow_log_writing,
    encrypted_log_group,
)
from distill.constructs.nag import acknowledge, acknowledge_compliance, logical_id


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
        self.log_group = encrypted_log_group(self, "Logs", key, removal_policy)
        on_event_role = self._framework_role("FrameworkRole", "FrameworkPolicy")
        # The waiter (isComplete, onTimeout, state machine) needs a role of its own: sharing one role between the
        # framework's functions and the state machine that invokes them makes a dependency cycle.
        waiter_role = self._framework_role("WaiterRole", "WaiterPolicy") if is_complete else None
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=on_event.function,
            is_complete_handler=is_complete.function if is_complete else None,
            query_interval=query_interval,
            total_timeout=total_timeout,
            framework_on_event_role=on_event_role,
            framework_complete_and_timeout_role=waiter_role,
            log_group=self.log_group,
            disable_waiter_state_machine_logging=False if is_complete else None,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            )
            if is_complete
            else None,
        )
        handlers = [on_event, *([is_complete] if is_complete else [])]
        self._acknowledge(on_event_role, handlers, "framework-onEvent")
        if waiter_role:
            self._acknowledge(waiter_role, handlers, "framework-isComplete", "framework-onTimeout")
            self._acknowledge_waiter()

    def _framework_role(self, role_id: str, policy_id: str) -> iam.Role:
        role = iam.Role(self, role_id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        allow_log_writing(iam.ManagedPolicy(self, policy_id, roles=[role]), self.log_group)
        return role

    @property
    def service_token(self) -> str:
        return self.provider.service_token

    def _acknowledge(self, role: iam.Role, handlers: list[HandlerFunction], *framework_ids: str) -> None:
        for framework_id in framework_ids:
            framework = self.provider.node.find_child(framework_id)
            acknowledge_handler_findings(framework)  # type: ignore[arg-type]
            acknowledge(
                framework,
                "AwsSolutions-L1",
                "The provider framework function's runtime is chosen by aws-cdk-lib and moves with its pin.",
            )
        acknowledge_compliance(
            role,
            {
                "IAMNoInlinePolicy": (
                    "aws-cdk-lib's Provider writes the framework's permission to invoke the handler as the role's "
                    "inline default policy; everything else is in a customer-managed policy."
                )
            },
        )
        for handler in handlers:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{logical_id(handler.function)}.Arn>:*]",
                "The framework invokes the handler function; the wildcard covers its versions and aliases only.",
            )

    def _acknowledge_waiter(self) -> None:
        waiter = self.provider.node.find_child("waiter-state-machine")
        policy = waiter.node.find_child("Role").node.find_child("DefaultPolicy")
        for framework_id in ("framework-isComplete", "framework-onTimeout"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::<{logical_id(self.provider.node.find_child(framework_id))}.Arn>:*]",
                "The waiter invokes the framework's own functions; the wildcard covers their versions only.",
            )
        acknowledge_compliance(
            policy,
            {
                "IAMNoInlinePolicy": (
                    "aws-cdk-lib's Provider creates the waiter state machine's role with an inline default policy: the "
                    "invocation of the framework's functions and log delivery."
                )
            },
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "aws-cdk-lib's Provider writes this statement for its waiter's logging to the provider's log group and "
            "exposes no way to narrow it; CreateLogStream and PutLogEvents in it could be scoped to that group but "
            "are not. Only Step Functions, for this one state machine, assumes the role.",
        )
        acknowledge(
            waiter,
            "AwsSolutions-SF2",
            "aws-cdk-lib's Provider does not expose X-Ray tracing for its waiter state machine; every execution is "
            "logged to the provider's encrypted log group instead.",
        )
