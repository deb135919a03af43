"""Waiting longer than a custom resource may: a CloudFormation wait condition that a watcher function signals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Aws, CfnWaitCondition, CfnWaitConditionHandle, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from distill.constructs.alarm_notifications import stage_topic
from distill.constructs.dead_letters import AsyncInvocation
from distill.constructs.handler_function import HandlerFunction

# CloudFormation's limit for a wait condition: 12 hours (AWS::CloudFormation::WaitCondition, Timeout, read
# 2026-11-30); a custom resource waits one hour at most (ServiceTimeout).
MAX_WAIT = Duration.hours(12)


class SignalledWait(Construct):
    """A wait condition (up to 12 h), the watcher function that signals it, and what invokes the watcher: a schedule
    every ``poll``, and optionally an event rule for ``event_pattern``.

    A wait condition must have a new handle for every new wait (AWS::CloudFormation::WaitConditionHandle, read
    2026-11-30): callers give each thing waited for its own construct id, so a new job or a new served model is a new
    handle, condition, watcher and schedule, and an unchanged one is never waited for twice. The watcher reads the
    state itself whatever invoked it, signals once, and disables its schedule (lambda/shared/python/wait_signal.py).

    EventBridge invokes the watcher asynchronously, so it has a dead-letter queue whose alarm notifies the stage's
    topic. The handle's URL is a pre-signed credential that anyone holding it can signal with; it reaches the watcher
    in its environment, which HandlerFunction encrypts with the stage's key.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        folder: str,
        description: str,
        environment: Mapping[str, str],
        statements: Sequence[iam.PolicyStatement],
        poll: Duration,
        poll_rule_name: str,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
        event_pattern: events.EventPattern | None = None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        handle = CfnWaitConditionHandle(self, "Handle")
        self.condition = CfnWaitCondition(
            self, "Condition", count=1, handle=handle.ref, timeout=str(int(MAX_WAIT.to_seconds()))
        )
        self.watcher = HandlerFunction(
            self,
            "Watcher",
            folder=folder,
            entry="index.handler",
            description=description,
            key=key,
            removal_policy=removal_policy,
            environment={
                **environment,
                "WAIT_HANDLE_URL": handle.ref,
                "POLL_RULE_NAME": poll_rule_name,
                "STACK_ID": Aws.STACK_ID,
                "WAIT_CONDITION": stack.get_logical_id(self.condition),
            },
            asynchronous=AsyncInvocation(
                invoked_by="EventBridge: the wait's schedule and the events of what it waits for",
                alarm_name=f"{poll_rule_name}-watcher-dead-letters",
                topic=stage_topic(key),
            ),
        )
        for statement in statements:
            self.watcher.add_to_role_policy(statement)
        self.watcher.add_to_role_policy(
            iam.PolicyStatement(
                actions=["events:DisableRule"],
                resources=[stack.format_arn(service="events", resource="rule", resource_name=poll_rule_name)],
            )
        )
        self.watcher.add_to_role_policy(
            iam.PolicyStatement(actions=["cloudformation:DescribeStackResource"], resources=[Aws.STACK_ID])
        )
        triggers: list[events.Rule] = []
        if event_pattern is not None:
            triggers.append(
                events.Rule(
                    self,
                    "Events",
                    description=f"Invokes the watcher: {description}",
                    event_pattern=event_pattern,
                    targets=[targets.LambdaFunction(self.watcher.function, retry_attempts=4)],
                )
            )
        self.poll = events.Rule(
            self,
            "Poll",
            rule_name=poll_rule_name,
            description=f"Polls until the wait is over: {description}",
            schedule=events.Schedule.rate(poll),
            targets=[targets.LambdaFunction(self.watcher.function, retry_attempts=2)],
        )
        triggers.append(self.poll)
        # The watcher and its triggers exist before the wait starts, so no signal can be missed.
        for trigger in triggers:
            self.condition.node.add_dependency(trigger)
