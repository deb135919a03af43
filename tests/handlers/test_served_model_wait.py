"""The serving watcher: the wait condition ends once the Provisioned Throughput or deployment serves the wanted model,
or with Bedrock's reason once it failed; meanwhile the schedule looks again."""

from __future__ import annotations

import json
import sys
import urllib.request

import pytest

from tests.handlers.conftest import event, load_handler

MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/r3t2a1n4e5d6"
OLD_MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
THROUGHPUT_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
DEPLOYMENT_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model-deployment/d3p1o4y7m2n5"
STACK_ID = (
    "arn:aws:cloudformation:us-west-2:123456789012:stack/sandbox-distillation-support-assistant-serving/"
    "c4d7e0f3-cd44-11f0-b1a4-0a7d3e9f1c25"
)
WAIT_CONDITION = "ProvisionedThroughputReadye7b37170844cCondition6B24B74D"
WAIT_HANDLE_URL = (
    "https://cloudformation-waitcondition-us-west-2.s3-us-west-2.amazonaws.com/handle?X-Amz-Signature=0a1b"
)
POLL_RULE = "sandbox-serving-2f462a79fa34-ready-1c58063fc1ae"
THROUGHPUT = "Provisioned Throughput"
DEPLOYMENT = "custom model deployment"


@pytest.fixture
def signals(monkeypatch):
    sent = []

    class Answer:
        status = 200

        def __enter__(self):
            return self

        def __exit__(self, *_):
            return False

    def urlopen(request, timeout):
        sent.append(json.loads(request.data))
        return Answer()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return sent


def watcher_for(monkeypatch, stub, kind: str, arn: str):
    monkeypatch.setenv("KIND", kind)
    monkeypatch.setenv("RESOURCE_ARN", arn)
    monkeypatch.setenv("MODEL_ARN", MODEL_ARN)
    monkeypatch.setenv("WAIT_HANDLE_URL", WAIT_HANDLE_URL)
    monkeypatch.setenv("POLL_RULE_NAME", POLL_RULE)
    monkeypatch.setenv("STACK_ID", STACK_ID)
    monkeypatch.setenv("WAIT_CONDITION", WAIT_CONDITION)
    monkeypatch.delitem(sys.modules, "wait_signal", raising=False)
    module = load_handler("served_model_wait")
    module.bedrock_stub = stub(module.bedrock)
    module.cloudformation_stub = stub(module.wait_signal.cloudformation)
    module.events_stub = stub(module.wait_signal.events)
    return module


@pytest.fixture
def throughput_watcher(monkeypatch, stub, signals):
    return watcher_for(monkeypatch, stub, THROUGHPUT, THROUGHPUT_ARN)


@pytest.fixture
def deployment_watcher(monkeypatch, stub, signals):
    return watcher_for(monkeypatch, stub, DEPLOYMENT, DEPLOYMENT_ARN)


def the_condition_is(watcher, status: str) -> None:
    detail = {
        "LogicalResourceId": WAIT_CONDITION,
        "ResourceType": "AWS::CloudFormation::WaitCondition",
        "LastUpdatedTimestamp": "2026-11-28T14:10:00Z",
        "ResourceStatus": status,
    }
    watcher.cloudformation_stub.add_response(
        "describe_stack_resource",
        {"StackResourceDetail": detail},
        {"StackName": STACK_ID, "LogicalResourceId": WAIT_CONDITION},
    )


def expect_poll_disabled(watcher) -> None:
    watcher.events_stub.add_response("disable_rule", {}, {"Name": POLL_RULE})


def throughput_is(watcher, status: str, model: str = MODEL_ARN, desired: str = MODEL_ARN, **extra) -> None:
    answer = {
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "provisionedModelName": "sandbox-serving-2f462a79fa34",
        "provisionedModelArn": THROUGHPUT_ARN,
        "modelArn": model,
        "desiredModelArn": desired,
        "foundationModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "status": status,
        "creationTime": "2026-11-28T14:10:00Z",
        "lastModifiedTime": "2026-11-28T14:40:00Z",
        **extra,
    }
    watcher.bedrock_stub.add_response(
        "get_provisioned_model_throughput", answer, {"provisionedModelId": THROUGHPUT_ARN}
    )


def deployment_is(watcher, status: str, model: str = MODEL_ARN, **extra) -> None:
    answer = {
        "customModelDeploymentArn": DEPLOYMENT_ARN,
        "modelDeploymentName": "sandbox-serving-0d41259abc27",
        "modelArn": model,
        "createdAt": "2026-11-28T14:10:00Z",
        "status": status,
        **extra,
    }
    watcher.bedrock_stub.add_response(
        "get_custom_model_deployment", answer, {"customModelDeploymentIdentifier": DEPLOYMENT_ARN}
    )


def test_a_throughput_in_service_with_the_model_signals_success_with_its_arn(throughput_watcher, signals):
    the_condition_is(throughput_watcher, "CREATE_IN_PROGRESS")
    throughput_is(throughput_watcher, "InService")
    expect_poll_disabled(throughput_watcher)
    assert throughput_watcher.handler(event("served_model_wait_scheduled"), None) == "InService"
    assert signals == [
        {
            "Status": "SUCCESS",
            "Reason": f"The Provisioned Throughput {THROUGHPUT_ARN} serves {MODEL_ARN}.",
            "UniqueId": "signal",
            "Data": THROUGHPUT_ARN,
        }
    ]


@pytest.mark.parametrize("status", ["Creating", "Updating"])
def test_a_throughput_being_made_or_moved_is_looked_at_again_later(throughput_watcher, signals, status):
    the_condition_is(throughput_watcher, "CREATE_IN_PROGRESS")
    throughput_is(throughput_watcher, status, model=OLD_MODEL_ARN)
    assert throughput_watcher.handler(event("served_model_wait_scheduled"), None) == status
    assert signals == []


def test_a_throughput_in_service_with_another_model_is_not_ready(throughput_watcher, signals):
    the_condition_is(throughput_watcher, "CREATE_IN_PROGRESS")
    throughput_is(throughput_watcher, "InService", model=OLD_MODEL_ARN)
    assert throughput_watcher.handler(event("served_model_wait_scheduled"), None) == "InService"
    assert signals == []


def test_a_failed_throughput_fails_the_wait_with_bedrocks_message(throughput_watcher, signals):
    the_condition_is(throughput_watcher, "CREATE_IN_PROGRESS")
    throughput_is(throughput_watcher, "Failed", failureMessage="Insufficient capacity for the requested model units")
    expect_poll_disabled(throughput_watcher)
    assert throughput_watcher.handler(event("served_model_wait_scheduled"), None) == "Failed"
    assert signals == [
        {
            "Status": "FAILURE",
            "Reason": (
                f"The Provisioned Throughput {THROUGHPUT_ARN} failed: Insufficient capacity for the requested model "
                "units. The rollback deletes it if this deployment created it; deploy again to retry."
            ),
            "UniqueId": "signal",
            "Data": "",
        }
    ]


def test_a_failed_throughput_with_a_commitment_fails_the_wait_saying_it_is_kept(throughput_watcher, signals):
    """A throughput with a commitment cannot be deleted before its term ends (user guide, prov-thru-delete.html): the
    reason says so instead of promising that the rollback deletes it."""
    the_condition_is(throughput_watcher, "CREATE_IN_PROGRESS")
    throughput_is(throughput_watcher, "Failed", failureMessage="Insufficient capacity", commitmentDuration="OneMonth")
    expect_poll_disabled(throughput_watcher)
    assert throughput_watcher.handler(event("served_model_wait_scheduled"), None) == "Failed"
    assert [signal["Reason"] for signal in signals] == [
        f"The Provisioned Throughput {THROUGHPUT_ARN} failed: Insufficient capacity. It has a commitment, so it is "
        "kept (it cannot be deleted before its term ends): ask AWS support."
    ]


def test_a_failure_without_a_message_says_bedrock_gave_none(throughput_watcher, signals):
    the_condition_is(throughput_watcher, "CREATE_IN_PROGRESS")
    throughput_is(throughput_watcher, "Failed")
    expect_poll_disabled(throughput_watcher)
    throughput_watcher.handler(event("served_model_wait_scheduled"), None)
    assert signals[0]["Reason"] == (
        f"The Provisioned Throughput {THROUGHPUT_ARN} failed: Bedrock gave no reason. The rollback deletes it if this "
        "deployment created it; deploy again to retry."
    )


def test_a_throughput_that_no_longer_exists_fails_the_wait(throughput_watcher, signals):
    the_condition_is(throughput_watcher, "CREATE_IN_PROGRESS")
    throughput_watcher.bedrock_stub.add_client_error(
        "get_provisioned_model_throughput",
        "ResourceNotFoundException",
        "Provisioned model not found",
        404,
        {"provisionedModelId": THROUGHPUT_ARN},
    )
    expect_poll_disabled(throughput_watcher)
    assert throughput_watcher.handler(event("served_model_wait_scheduled"), None) == "missing"
    assert signals == [
        {
            "Status": "FAILURE",
            "Reason": f"The Provisioned Throughput {THROUGHPUT_ARN} no longer exists. Deploy again to create it anew.",
            "UniqueId": "signal",
            "Data": "",
        }
    ]


def test_a_poll_back_after_the_wait_is_over_disables_itself(throughput_watcher, signals):
    the_condition_is(throughput_watcher, "CREATE_COMPLETE")
    expect_poll_disabled(throughput_watcher)
    assert throughput_watcher.handler(event("served_model_wait_scheduled"), None) == "not waiting"
    assert signals == []


def test_a_deployment_active_with_the_model_signals_success(deployment_watcher, signals):
    the_condition_is(deployment_watcher, "CREATE_IN_PROGRESS")
    deployment_is(deployment_watcher, "Active")
    expect_poll_disabled(deployment_watcher)
    assert deployment_watcher.handler(event("served_model_wait_scheduled"), None) == "Active"
    assert signals == [
        {
            "Status": "SUCCESS",
            "Reason": f"The custom model deployment {DEPLOYMENT_ARN} serves {MODEL_ARN}.",
            "UniqueId": "signal",
            "Data": DEPLOYMENT_ARN,
        }
    ]


def test_a_deployment_being_created_is_looked_at_again_later(deployment_watcher, signals):
    the_condition_is(deployment_watcher, "CREATE_IN_PROGRESS")
    deployment_is(deployment_watcher, "Creating")
    assert deployment_watcher.handler(event("served_model_wait_scheduled"), None) == "Creating"
    assert signals == []


def test_a_failed_deployment_fails_the_wait_with_bedrocks_message(deployment_watcher, signals):
    the_condition_is(deployment_watcher, "CREATE_IN_PROGRESS")
    deployment_is(deployment_watcher, "Failed", failureMessage="The model is not supported for on-demand inference")
    expect_poll_disabled(deployment_watcher)
    deployment_watcher.handler(event("served_model_wait_scheduled"), None)
    assert signals[0]["Status"] == "FAILURE"
    assert signals[0]["Reason"] == (
        f"The custom model deployment {DEPLOYMENT_ARN} failed: The model is not supported for on-demand inference. "
        "The rollback deletes it if this deployment created it; deploy again to retry."
    )


def test_a_deployment_whose_move_failed_fails_the_wait_with_bedrocks_message(deployment_watcher, signals):
    """A failed move leaves the deployment Active on the model it served before; updateDetails says how the move
    went (API reference, CustomModelDeploymentUpdateDetails)."""
    the_condition_is(deployment_watcher, "CREATE_IN_PROGRESS")
    deployment_is(
        deployment_watcher,
        "Active",
        model=OLD_MODEL_ARN,
        updateDetails={"modelArn": MODEL_ARN, "updateStatus": "UpdateFailed"},
        failureMessage="The custom model is not supported for on-demand inference",
    )
    expect_poll_disabled(deployment_watcher)
    assert deployment_watcher.handler(event("served_model_wait_scheduled"), None) == "UpdateFailed"
    assert signals == [
        {
            "Status": "FAILURE",
            "Reason": f"The custom model deployment {DEPLOYMENT_ARN} could not move to {MODEL_ARN}: The custom model "
            "is not supported for on-demand inference. Deploy again to retry.",
            "UniqueId": "signal",
            "Data": "",
        }
    ]


def test_a_failed_move_without_a_message_says_bedrock_gave_none(deployment_watcher, signals):
    the_condition_is(deployment_watcher, "CREATE_IN_PROGRESS")
    deployment_is(
        deployment_watcher,
        "Active",
        model=OLD_MODEL_ARN,
        updateDetails={"modelArn": MODEL_ARN, "updateStatus": "UpdateFailed"},
    )
    expect_poll_disabled(deployment_watcher)
    deployment_watcher.handler(event("served_model_wait_scheduled"), None)
    assert [signal["Reason"] for signal in signals] == [
        f"The custom model deployment {DEPLOYMENT_ARN} could not move to {MODEL_ARN}: Bedrock gave no reason. Deploy "
        "again to retry."
    ]


def test_a_deployment_still_moving_is_not_ready_though_it_names_the_model(deployment_watcher, signals):
    the_condition_is(deployment_watcher, "CREATE_IN_PROGRESS")
    deployment_is(deployment_watcher, "Active", updateDetails={"modelArn": MODEL_ARN, "updateStatus": "Updating"})
    assert deployment_watcher.handler(event("served_model_wait_scheduled"), None) == "Active"
    assert signals == []


def test_a_deployment_whose_move_completed_signals_success(deployment_watcher, signals):
    the_condition_is(deployment_watcher, "CREATE_IN_PROGRESS")
    deployment_is(
        deployment_watcher, "Active", updateDetails={"modelArn": MODEL_ARN, "updateStatus": "UpdateCompleted"}
    )
    expect_poll_disabled(deployment_watcher)
    assert deployment_watcher.handler(event("served_model_wait_scheduled"), None) == "Active"
    assert [signal["Status"] for signal in signals] == ["SUCCESS"]
