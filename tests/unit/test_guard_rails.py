"""Guard rails in the stacks: a budget per stage and an idle alarm on every Provisioned Throughput."""

from __future__ import annotations

import pytest
from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from distill.constructs.data_key import DataKey
from distill.constructs.idle_alarm import ThroughputIdleAlarm
from distill.operations import pricing
from distill.stacks.idle_message import idle_message
from tests.conftest import TEST_STAGES, project_context

# The stages served by a Provisioned Throughput: prod in cdk.json (sandbox and dev deploy on demand), and the test
# stages committed (a commitment) and shared-prod (a copied model).
PROVISIONED = {"prod", "committed", "shared-prod", "pair"}


THROUGHPUT = "Custom::BedrockProvisionedThroughput"


def idle_alarms(template: Template) -> dict[str, dict]:
    """The template's alarms on Bedrock invocations (the dead-letter queues' alarms are another concern)."""
    return template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"Namespace": "AWS/Bedrock"}})


def only_idle_alarm(template: Template) -> tuple[str, dict]:
    ((logical_id, resource),) = idle_alarms(template).items()
    return logical_id, resource


def only(template: Template, resource_type: str) -> tuple[str, dict]:
    ((logical_id, resource),) = template.find_resources(resource_type).items()
    return logical_id, resource


def statement(policy: dict, sid: str) -> dict:
    (found,) = [s for s in policy["Statement"] if s.get("Sid") == sid]
    return found


def test_every_stage_has_a_budget_on_its_tag_notifying_its_topic(templates):
    amounts = {"prod": 90000, "shared-prod": 20000}
    for name, stacks in templates.items():
        (topic_id, _) = only(stacks["Foundation"], "AWS::SNS::Topic")
        (_, budget) = only(stacks["Foundation"], "AWS::Budgets::Budget")
        subscriber = [{"Address": {"Ref": topic_id}, "SubscriptionType": "SNS"}]
        assert budget["Properties"]["Budget"] == {
            "BudgetName": f"{name}-distillation",
            "BudgetType": "COST",
            "TimeUnit": "MONTHLY",
            "BudgetLimit": {"Amount": amounts.get(name, 1000), "Unit": "USD"},
            "CostFilters": {"TagKeyValue": [f"user:distillation-stage${name}"]},
        }, name
        assert budget["Properties"]["NotificationsWithSubscribers"] == [
            {
                "Notification": {
                    "ComparisonOperator": "GREATER_THAN",
                    "NotificationType": kind,
                    "Threshold": percent,
                    "ThresholdType": "PERCENTAGE",
                },
                "Subscribers": subscriber,
            }
            for kind, percent in (("FORECASTED", 80), ("ACTUAL", 100))
        ], name
    assert set(templates) == set(project_context()["stages"]) | set(TEST_STAGES)


def test_budgets_may_publish_to_the_topic_and_use_its_key_for_this_account_only(templates):
    foundation = templates["dev"]["Foundation"]
    (_, policy) = only(foundation, "AWS::SNS::TopicPolicy")
    (topic_id, _) = only(foundation, "AWS::SNS::Topic")
    conditions = {
        "StringEquals": {"aws:SourceAccount": "111111111111"},
        "ArnLike": {"aws:SourceArn": "arn:aws:budgets::111111111111:*"},
    }
    assert statement(policy["Properties"]["PolicyDocument"], "BudgetsPublishesBudgetNotifications") == {
        "Sid": "BudgetsPublishesBudgetNotifications",
        "Effect": "Allow",
        "Principal": {"Service": "budgets.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": {"Ref": topic_id},
        "Condition": conditions,
    }
    (_, key) = only(foundation, "AWS::KMS::Key")
    granted = statement(key["Properties"]["KeyPolicy"], "BudgetsEncryptsBudgetNotifications")
    assert granted["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert granted["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert granted["Condition"] == conditions


def test_every_provisioned_throughput_has_the_idle_alarm_and_nothing_else_does(templates):
    servings = {
        (name, model): serving
        for name, stacks in templates.items()
        for model, serving in stacks.parts("serving").items()
    }
    with_throughput = {key for key, serving in servings.items() if serving.find_resources(THROUGHPUT)}
    assert {name for name, _ in with_throughput} == PROVISIONED
    assert {key for key, serving in servings.items() if idle_alarms(serving)} == with_throughput
    for name, model in with_throughput:
        serving = servings[name, model]
        (_, alarm) = only_idle_alarm(serving)
        ((dimension),) = alarm["Properties"]["Dimensions"]
        assert dimension["Name"] == "ModelId", name
        (served_id, _) = dimension["Value"]["Fn::GetAtt"]
        assert "ProvisionedThroughput" in serving.to_json()["Resources"][served_id]["Type"], name


def test_the_alarm_fires_after_a_day_without_invocations_and_notifies_the_topic(templates):
    serving = templates["prod"]["Serving"]
    serving.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "prod-support-assistant-throughput-idle",
            "Namespace": "AWS/Bedrock",
            "MetricName": "Invocations",
            "Statistic": "Sum",
            "Period": 3600,
            "EvaluationPeriods": 24,
            "DatapointsToAlarm": 24,
            "Threshold": 1,
            "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "breaching",
            "AlarmActions": [{"Fn::GetStackOutput": Match.object_like({"StackName": "prod-distillation-foundation"})}],
        },
    )
    (_, alarm) = only_idle_alarm(serving)
    description = alarm["Properties"]["AlarmDescription"]
    hourly = pricing.packaged().throughput("us-east-1", "amazon.nova-lite-v1:0:300k", "none")
    assert hourly.usd is not None
    # 1 model unit x the table's no-commitment price x 24 hours.
    assert f"has served no invocation for 24 hours while it bills ${hourly.usd * 24:,.2f} per day" in description
    assert "aws cloudformation delete-stack --stack-name prod-distillation-support-assistant-serving" in description


def test_an_alarm_whose_price_is_unknown_says_so(templates):
    # The committed stage's student (Llama 3.2 11B in us-west-2) has no one-month price in the table.
    assert pricing.packaged().throughput("us-west-2", "meta.llama3-2-11b-instruct-v1:0:128k", "OneMonth").usd is None
    (_, alarm) = only_idle_alarm(templates["committed"]["Serving"])
    assert "while it bills an unknown amount per day (2 model unit(s)" in alarm["Properties"]["AlarmDescription"]


def test_cloudwatch_may_publish_this_alarm_to_the_topic_and_use_its_key(templates):
    foundation = templates["prod"]["Foundation"]
    (_, policy) = only(foundation, "AWS::SNS::TopicPolicy")
    published = statement(
        policy["Properties"]["PolicyDocument"], "CloudWatchPublishesProdSupportAssistantThroughputIdle"
    )
    assert published["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert published["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "222222222222"},
        "ArnLike": {
            "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:222222222222:alarm:prod-support-assistant-throughput-idle"
        },
    }
    (_, key) = only(foundation, "AWS::KMS::Key")
    granted = statement(key["Properties"]["KeyPolicy"], "CloudWatchEncryptsProdSupportAssistantThroughputIdle")
    assert granted["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_a_stage_without_a_throughput_lets_no_alarm_publish_to_its_topic(templates):
    (_, policy) = only(templates["dev"]["Foundation"], "AWS::SNS::TopicPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Sid"] for s in statements if s.get("Sid", "").endswith("ThroughputIdle")] == []


def test_a_committed_throughputs_alarm_says_the_term_bills_anyway(templates):
    (_, alarm) = only_idle_alarm(templates["committed"]["Serving"])
    assert "The OneMonth term bills until it ends whatever is done" in alarm["Properties"]["AlarmDescription"]


def price(usd: float | None) -> pricing.Price:
    return pricing.Price(
        item="provisionedNoCommit",
        unit="USD per model unit per hour",
        usd=usd,
        source="https://example.test",
        read="2026-11-30",
    )


def test_the_message_says_what_a_day_costs():
    text = idle_message(
        stage_name="dev", model="chat", idle_hours=12, model_units=2, hourly=price(21.18), commitment="none"
    )
    # 2 model units x $21.18 x 24 hours = $1,016.64.
    assert text == (
        "Bedrock distillation (dev-chat): the Provisioned Throughput has served no invocation for 12 hours while it "
        "bills $1,016.64 per day (2 model unit(s) x $21.18 per model unit-hour, no commitment, price of 2026-11-30). "
        "To stop the billing, destroy the serving stack: `aws cloudformation delete-stack --stack-name "
        "dev-distillation-chat-serving` (or `.venv/bin/npx cdk destroy 'dev/chat-serving'` from a checkout); the "
        "custom model is kept."
    )


@pytest.mark.parametrize("hours", [1, 168])
def test_the_construct_alone_in_a_bare_stack(hours):
    stack = Stack(App(), "Bare", env={"account": "123456789012", "region": "us-west-2"})
    key = DataKey(stack, "Key", alias="alias/bare", removal_policy=RemovalPolicy.DESTROY)
    topic = sns.Topic(stack, "Topic", master_key=key.key)
    ThroughputIdleAlarm(
        stack,
        "Idle",
        alarm_name="bare-throughput-idle",
        model_id="arn:aws:bedrock:us-west-2:123456789012:provisioned-model/abcdefghij12",
        idle_hours=hours,
        message="x" * 2000,
        topic=topic,
        key=key.key,
    )
    template = Template.from_stack(stack)
    (_, alarm) = only(template, "AWS::CloudWatch::Alarm")
    assert alarm["Properties"]["EvaluationPeriods"] == hours
    assert len(alarm["Properties"]["AlarmDescription"]) == 1024
