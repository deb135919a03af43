"""StageBudget alone: a monthly cost budget on the stage's tag, warning its topic at 80 % of the forecast and 100 % of
the actual cost, with the statements AWS Budgets needs on the topic and the key."""

from __future__ import annotations

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from distill.constructs import StageBudget
from distill.constructs.resource_policy import IMPORTED_POLICY_WARNING
from tests.constructs.bare import ACCOUNT, REGION, imported_key

FROM_THIS_ACCOUNTS_BUDGETS = {
    "StringEquals": {"aws:SourceAccount": ACCOUNT},
    "ArnLike": {"aws:SourceArn": f"arn:aws:budgets::{ACCOUNT}:*"},
}


def own(stack) -> StageBudget:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    topic = sns.Topic(stack, "Topic", master_key=key, enforce_ssl=True)
    return StageBudget(stack, "Budget", stage_name="dev", monthly_usd=250, topic=topic, key=key)


def imported(stack) -> StageBudget:
    topic = sns.Topic.from_topic_arn(stack, "ImportedTopic", f"arn:aws:sns:{REGION}:{ACCOUNT}:dev-notifications")
    return StageBudget(stack, "Budget", stage_name="dev", monthly_usd=250, topic=topic, key=imported_key(stack))


@pytest.fixture(scope="module")
def bare(synth):
    return synth(own)


@pytest.fixture(scope="module")
def bare_imported(synth):
    return synth(imported)


@pytest.mark.parametrize("variant", ["own topic and key", "imported topic and key"])
def test_cdk_nag_reports_nothing(bare, bare_imported, variant):
    assert {"own topic and key": bare, "imported topic and key": bare_imported}[variant].findings == []


def test_a_monthly_cost_budget_on_the_stages_tag(bare_imported):
    assert bare_imported.counts() == {"AWS::Budgets::Budget": 1}
    budget = bare_imported.only("AWS::Budgets::Budget")["Properties"]
    assert budget["Budget"] == {
        "BudgetName": "dev-distillation",
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": 250, "Unit": "USD"},
        "CostFilters": {"TagKeyValue": ["user:distillation-stage$dev"]},
    }
    notifications = [
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"], n["Subscribers"])
        for n in budget["NotificationsWithSubscribers"]
    ]
    topic = [{"Address": f"arn:aws:sns:{REGION}:{ACCOUNT}:dev-notifications", "SubscriptionType": "SNS"}]
    assert notifications == [("FORECASTED", 80, topic), ("ACTUAL", 100, topic)]


def test_budgets_may_publish_to_a_topic_of_the_same_app_and_encrypt_with_its_key_for_this_account_only(bare):
    (publish,) = [s for s in bare.statements(bare.find("Topic/Policy")) if s.get("Sid", "").startswith("Budgets")]
    assert (publish["Principal"], publish["Action"], publish["Condition"]) == (
        {"Service": "budgets.amazonaws.com"},
        ["sns:Publish"],
        FROM_THIS_ACCOUNTS_BUDGETS,
    )
    (encrypt,) = [s for s in bare.statements(bare.find("Key")) if s.get("Sid", "").startswith("Budgets")]
    assert (encrypt["Action"], encrypt["Condition"]) == (
        ["kms:Decrypt", "kms:GenerateDataKey*"],
        FROM_THIS_ACCOUNTS_BUDGETS,
    )
    assert bare.other_warnings() == []


def test_an_imported_topic_and_key_get_a_warning_with_the_statement_their_owner_must_add(bare_imported):
    warnings = bare_imported.warnings()
    assert [w.split(":")[0] for w in warnings] == ["Bare/ImportedKey", "Bare/ImportedTopic"]
    assert all(IMPORTED_POLICY_WARNING in w and "AWS Budgets cannot notify the topic" in w for w in warnings)
    assert all('"Service": "budgets.amazonaws.com"' in w for w in warnings)
