"""The stage's AWS Budgets budget: its monthly cost on the distillation-stage cost-allocation tag, with warnings to
the stage's topic at 80 % of the forecast and 100 % of the actual cost."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from distill.constructs.names import STAGE_TAG
from distill.constructs.resource_policy import add_resource_statement

# Budgets filters on the stage's tag (STAGE_TAG, which distill/stacks/stage.py puts on every resource) as a user tag,
# "user:<key>$<value>" (AWS::Budgets::Budget CostFilters, TagKeyValue); the tag must first be activated as a
# cost-allocation tag in the Billing console, and costs are tagged from then on only.
# (notification type, percentage of the budget): the forecast warns before the month is spent, the actual when it is.
THRESHOLDS = (("FORECASTED", 80), ("ACTUAL", 100))


def budget_name(stage_name: str) -> str:
    return f"{stage_name}-distillation"


class StageBudget(Construct):
    """A monthly COST budget of ``monthly_usd`` over the resources tagged ``distillation-stage: <stage>``.

    Budgets publishes to ``topic`` as the service principal ``budgets.amazonaws.com``: the topic policy allows it for
    this account's budgets only (aws:SourceAccount, aws:SourceArn), and the topic's KMS key lets it encrypt the
    message (AWS Billing and Cost Management user guide, "Creating an Amazon SNS topic for budget notifications",
    https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html; the stored copies searched
    on 2026-12-01 held no text of that page, so the conditions are the global condition keys Budgets sets). An
    imported topic's or key's owner adds the two statements, which a warning shows (``add_resource_statement``).
    """

    def __init__(
        self, scope: Construct, id: str, *, stage_name: str, monthly_usd: float, topic: sns.ITopic, key: kms.IKey
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        budgets_arn = f"arn:{stack.partition}:budgets::{stack.account}:*"
        conditions = {"StringEquals": {"aws:SourceAccount": stack.account}, "ArnLike": {"aws:SourceArn": budgets_arn}}
        service = iam.ServicePrincipal("budgets.amazonaws.com")
        add_resource_statement(
            topic,
            iam.PolicyStatement(
                sid="BudgetsPublishesBudgetNotifications",
                principals=[service],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=conditions,
            ),
            "AWS Budgets cannot notify the topic",
        )
        add_resource_statement(
            key,
            iam.PolicyStatement(
                sid="BudgetsEncryptsBudgetNotifications",
                principals=[service],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=conditions,
            ),
            "AWS Budgets cannot notify the topic encrypted with the key",
        )
        subscriber = budgets.CfnBudget.SubscriberProperty(address=topic.topic_arn, subscription_type="SNS")
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=budget_name(stage_name),
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_usd, unit="USD"),
                cost_filters={"TagKeyValue": [f"user:{STAGE_TAG}${stage_name}"]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind,
                        comparison_operator="GREATER_THAN",
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[subscriber],
                )
                for kind, percent in THRESHOLDS
            ],
        )
