"""DistilledModelWait and DistilledModel alone: the 12-hour wait for a job by its name, the watcher that signals
it, its dead-letter alarm (notifying the stage's topic when one is built for the key), and the model lookup."""

from __future__ import annotations

import pytest

from distill.constructs import DataKey, DistilledModel, DistilledModelWait, StageNotifications
from tests.constructs.bare import ACCOUNT, REGION, flat, imported_key

JOB = "dev-distill-0123456789ab"
# The wait's resources are named after the job (its 12 hex digits).
JOB_ID = JOB.rsplit("-", 1)[1]
POLL_RULE = f"{JOB}-poll"


def wait(stack, key) -> DistilledModelWait:
    return DistilledModelWait(stack, "Wait", job_name=JOB, poll_minutes=10, poll_rule_name=POLL_RULE, key=key)


def notified(stack) -> DistilledModelWait:
    key = DataKey(stack, "DataKey", alias="alias/dev/bedrock-distillation").key
    StageNotifications(stack, "Notifications", stage_name="dev", key=key)
    return wait(stack, key)


@pytest.fixture(scope="module")
def bare(synth):
    return synth(lambda stack: wait(stack, imported_key(stack)))


@pytest.fixture(scope="module")
def bare_notified(synth):
    return synth(notified)


@pytest.fixture(scope="module")
def model(synth):
    return synth(lambda stack: DistilledModel(stack, "Model", stage_name="dev", job_name=JOB, key=imported_key(stack)))


@pytest.mark.parametrize("variant", ["wait", "wait with notifications", "model"])
def test_cdk_nag_reports_nothing(bare, bare_notified, model, variant):
    assert {"wait": bare, "wait with notifications": bare_notified, "model": model}[variant].findings == []


def test_a_wait_condition_a_watcher_its_two_triggers_and_its_dead_letters(bare):
    assert bare.counts() == {
        "AWS::CloudFormation::WaitCondition": 1,
        "AWS::CloudFormation::WaitConditionHandle": 1,
        "AWS::Lambda::Function": 1,
        "AWS::Lambda::LayerVersion": 2,
        "AWS::IAM::Role": 1,
        "AWS::IAM::ManagedPolicy": 1,
        "AWS::Logs::LogGroup": 1,
        # The job's state-change events and the fallback schedule, each allowed to invoke the watcher.
        "AWS::Events::Rule": 2,
        "AWS::Lambda::Permission": 2,
        "AWS::SQS::Queue": 1,
        "AWS::SQS::QueuePolicy": 1,
        "AWS::CloudWatch::Alarm": 1,
    }
    condition = bare.resource(bare.built.condition)
    assert condition["Properties"]["Timeout"] == "43200"
    # The watcher and its triggers exist before the wait starts.
    assert set(bare.of_type("AWS::Events::Rule")) <= set(condition["DependsOn"])


def test_the_watcher_is_invoked_by_the_jobs_events_and_every_poll_interval(bare):
    rules = {r["Properties"].get("Name"): r["Properties"] for r in bare.of_type("AWS::Events::Rule").values()}
    assert rules[POLL_RULE]["ScheduleExpression"] == "rate(10 minutes)"
    assert rules[None]["EventPattern"] == {
        "source": ["aws.bedrock"],
        "detail-type": ["Model Customization Job State Change"],
        "detail": {"jobName": [JOB]},
    }
    assert bare.resource(bare.built.poll)["Properties"]["Name"] == POLL_RULE


def test_the_watcher_reads_jobs_disables_only_its_own_schedule_and_signals_its_own_stack(bare):
    statements = bare.statements(bare.find(f"Wait/Wait{JOB_ID}/Watcher/Policy"))
    granted = {tuple(s["Action"]): s["Resource"] for s in statements}
    assert granted[("bedrock:GetModelCustomizationJob",)] == [
        f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-customization-job/*"
    ]
    assert granted[("events:DisableRule",)] == [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{POLL_RULE}"]
    assert granted[("cloudformation:DescribeStackResource",)] == ["${AWS::StackId}"]
    assert granted[("sqs:SendMessage",)] == [
        "${" + bare.logical_id(bare.find(f"Wait/Wait{JOB_ID}/Watcher/DeadLetters/Queue")) + ".Arn}"
    ]
    environment = bare.only("AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
    assert environment["JOB_NAME"] == JOB
    assert environment["WAIT_HANDLE_URL"] == {"Ref": bare.logical_id(bare.find(f"Wait/Wait{JOB_ID}/Handle"))}


def test_without_a_stage_topic_the_dead_letter_alarm_is_shown_only(bare):
    alarm = bare.only("AWS::CloudWatch::Alarm")["Properties"]
    assert alarm["AlarmName"] == f"{POLL_RULE}-watcher-dead-letters"
    assert "AlarmActions" not in alarm


def test_with_the_stages_notifications_the_dead_letter_alarm_notifies_its_topic(bare_notified):
    topic = bare_notified.find("Notifications").topic
    alarm = bare_notified.only("AWS::CloudWatch::Alarm")["Properties"]
    assert alarm["AlarmActions"] == [{"Ref": bare_notified.logical_id(topic)}]
    (publish,) = [
        s for s in bare_notified.statements(topic.node.find_child("Policy")) if "CloudWatch" in s.get("Sid", "")
    ]
    assert publish["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{POLL_RULE}-watcher-dead-letters"
    }
    assert bare_notified.other_warnings() == []


def test_the_model_is_looked_up_from_the_job_by_name(model):
    properties = model.only("Custom::BedrockDistilledModel")["Properties"]
    assert {k: properties[k] for k in ("JobName", "Stage")} == {"JobName": JOB, "Stage": "dev"}
    lookup = model.logical_id(model.built.ready)
    assert flat(model.stack.resolve(model.built.model_arn)) == "${" + lookup + ".ModelArn}"
    assert flat(model.stack.resolve(model.built.job_arn)) == "${" + lookup + ".JobArn}"


def test_the_lookup_deletes_only_the_stages_own_models(model):
    statements = model.statements(model.find("Model/Lookup/OnEvent/Policy"))
    (delete,) = [s for s in statements if s["Action"] == ["bedrock:DeleteCustomModel"]]
    assert delete["Condition"] == {"StringEquals": {"aws:ResourceTag/distillation-stage": "dev"}}
    assert delete["Resource"] == [f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/*"]
