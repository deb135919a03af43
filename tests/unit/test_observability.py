"""Seeing what the distillation does: the notification topic, the metrics publisher, the dashboard, the smoke test."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from distill.constructs.names import METRICS_NAMESPACE
from distill.constructs.notifications import FAILED_STACK_STATES


def only(template: Template, resource_type: str) -> tuple[str, dict]:
    ((logical_id, resource),) = template.find_resources(resource_type).items()
    return logical_id, resource


def rules(template: Template) -> list[dict]:
    return [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()]


@pytest.fixture(scope="module")
def dev(templates) -> dict[str, Template]:
    return templates["dev"]


def test_the_topic_is_encrypted_with_the_stage_key_and_refuses_plain_http(dev):
    (key_id, _) = only(dev["Foundation"], "AWS::KMS::Key")
    (topic_id, topic) = only(dev["Foundation"], "AWS::SNS::Topic")
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    policy = json.dumps(dev["Foundation"].find_resources("AWS::SNS::TopicPolicy"))
    assert '"aws:SecureTransport": "false"' in policy and topic_id in policy


def test_the_configured_email_is_subscribed(dev, templates):
    dev["Foundation"].has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ml-platform-dev@example.com"}
    )
    templates["sandbox"]["Foundation"].resource_count_is("AWS::SNS::Subscription", 0)


def test_job_state_changes_of_this_stage_reach_the_topic_with_the_failure_message(dev):
    (topic_id, _) = only(dev["Foundation"], "AWS::SNS::Topic")
    (rule,) = [
        r
        for r in rules(dev["Foundation"])
        if r.get("EventPattern", {}).get("source") == ["aws.bedrock"] and r["Targets"][0]["Arn"] == {"Ref": topic_id}
    ]
    # Each model's jobs, by the prefix of their names: never another stage's (dev-eu-...) or team's.
    assert rule["EventPattern"]["detail"] == {
        "jobName": [{"prefix": "dev-support-assistant-distill-"}, {"prefix": "dev-ticket-classifier-distill-"}]
    }
    template = rule["Targets"][0]["InputTransformer"]["InputTemplate"]
    assert "<detail-jobStatus>" in template and "<detail-failureMessage>" in template


def test_failed_deployments_of_the_stages_stacks_reach_the_topic(dev):
    (rule,) = [r for r in rules(dev["Foundation"]) if r.get("EventPattern", {}).get("source") == ["aws.cloudformation"]]
    detail = rule["EventPattern"]["detail"]
    assert detail["status-details"] == {"status": FAILED_STACK_STATES}
    stacks = "arn:aws:cloudformation:us-east-1:111111111111:stack/"
    # The stage's own stacks (foundation, dashboard) by their prefix, each model's by its whole name.
    assert detail["stack-id"] == [{"prefix": f"{stacks}dev-distillation-"}] + [
        {"prefix": f"{stacks}dev-distillation-{model}-{part}/"}
        for model in ("support-assistant", "ticket-classifier")
        for part in ("training", "serving")
    ]


def test_completed_jobs_publish_their_metrics(dev):
    dev["Foundation"].has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "index.handler",
            "Environment": {
                "Variables": {
                    "STAGE": "dev",
                    "NAMESPACE": METRICS_NAMESPACE,
                    "OUTPUT_S3_URI": Match.object_like({"Fn::Join": Match.any_value()}),
                }
            },
        },
    )
    targets = [
        r["Targets"][0]["Arn"]
        for r in rules(dev["Foundation"])
        if r.get("EventPattern", {}).get("source") == ["aws.bedrock"]
    ]
    assert any("Fn::GetAtt" in target for target in targets)


def test_the_publisher_may_put_metrics_only_in_its_namespace(dev):
    dev["Foundation"].has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "cloudwatch:PutMetricData",
                            "Condition": {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
                            "Effect": "Allow",
                            "Resource": "*",
                        }
                    ]
                )
            }
        },
    )


def dashboard_body(template: Template) -> str:
    (_, dashboard) = only(template, "AWS::CloudWatch::Dashboard")
    return json.dumps(dashboard["Properties"]["DashboardBody"])


def test_the_stage_dashboard_has_its_job_state_changes_and_a_row_per_model(dev):
    (_, dashboard) = only(dev["Dashboard"], "AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == "dev-distillation"
    body = dashboard_body(dev["Dashboard"])
    assert 'MetricName=\\\\\\"JobStateChanges\\\\\\" Stage=\\\\\\"dev\\\\\\"' in body
    for model in ("support-assistant", "ticket-classifier"):
        assert f"## {model}" in body
        # The row's job by its exact name, the served model by the id its serving stack outputs.
        assert f'\\"TrainingLoss\\",\\"JobName\\",\\"dev-{model}-distill-' in body
        assert f"dev-distillation-{model}-serving" in body
    # Per model: invocations, latency (average and p90), client and server errors, throttles.
    for metric, per_model in (
        ("Invocations", 1),
        ("InvocationLatency", 2),
        ("InvocationClientErrors", 1),
        ("InvocationThrottles", 1),
    ):
        assert body.count(f'\\"AWS/Bedrock\\",\\"{metric}\\",\\"ModelId\\"') == 2 * per_model


def test_a_model_that_is_not_served_still_shows_its_training(templates):
    body = dashboard_body(templates["shared-dev"]["Dashboard"])
    assert "TrainingLoss" in body and "AWS/Bedrock" not in body


def test_the_smoke_test_reads_its_prompts_from_the_stages_copy_of_the_dataset(templates):
    """The template names where the prompts are (the training stack's copy of the local file), never their text."""
    serving, training = templates["prod"]["Serving"], templates["prod"]["Training"]
    (_, check) = only(serving, "Custom::BedrockServingSmokeTest")
    (throughput_id, _) = only(serving, "Custom::BedrockProvisionedThroughput")
    (_, upload) = only(training, "Custom::TrainingDataUpload")
    properties = check["Properties"]
    assert "Prompts" not in properties
    assert (properties["PromptCount"], properties["MaxPromptCharacters"]) == ("3", "2000")
    [joined] = properties["TrainingDataUri"]["Fn::Join"][1][-1:]
    assert joined == f"/{upload['Properties']['DestinationKey']}"
    assert properties["ModelId"] == {"Fn::GetAtt": [throughput_id, "Arn"]}
    # It runs once the throughput serves: after the wait condition the serving watcher signals.
    conditions = serving.find_resources("AWS::CloudFormation::WaitCondition")
    assert any(condition in check["DependsOn"] for condition in conditions)


def test_the_smoke_test_of_a_stage_without_a_local_dataset_reads_what_it_names_or_nothing(templates):
    (_, named) = only(templates["committed"]["Serving"], "Custom::BedrockServingSmokeTest")
    assert named["Properties"]["TrainingDataUri"] == "s3://example-datasets/claims/train.jsonl"
    # Invocation logs are the whole account's prompts: the check sends its synthetic prompt instead.
    (_, from_logs) = only(templates["compliant"]["Serving"], "Custom::BedrockServingSmokeTest")
    assert "TrainingDataUri" not in from_logs["Properties"]


def test_the_smoke_test_can_be_switched_off():
    from distill.config.stages import load_stages

    stage = load_stages(
        {
            "dev": {
                "region": "us-west-2",
                "models": {
                    "assistant": {
                        "distillation": {
                            "teacher": "meta.llama3-1-405b-instruct-v1:0",
                            "student": "meta.llama3-1-8b-instruct-v1:0:128k",
                            "trainingData": {"s3Uri": "s3://datasets/train.jsonl"},
                        },
                        "serving": {"smokeTest": False},
                    }
                },
            }
        }
    )["dev"]
    assert stage.models["assistant"].serving.smoke_test is False


def test_the_foundation_outputs_the_topic(dev):
    assert "NotificationTopicArn" in dev["Foundation"].find_outputs("*")
