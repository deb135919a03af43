"""Every line a handler logs while it serves a request carries the request's ids, as the Lambda runtime's JSON log
format writes them; a line logged after the request carries none, also when the handler raised."""

from __future__ import annotations

import json
import logging
import sys
import urllib.request

import pytest
import request_log

from tests.handlers.conftest import LAMBDA_ROOT, customization_job, event, load_handler, other_stage_stack, own_stack_is

# What the runtime's JsonFormatter writes of a record (aws-lambda-python-runtime-interface-client,
# awslambdaric/lambda_runtime_log_utils.py, read 2026-12-02): its own keys, then every other attribute of the record
# except the standard LogRecord ones and its own bookkeeping, skipping an attribute that has the name of one of its
# keys, and leaving out what is None.
RUNTIME_KEYS = (
    "timestamp",
    "level",
    "message",
    "logger",
    "stackTrace",
    "errorType",
    "errorMessage",
    "requestId",
    "location",
    "tenantId",
)
RUNTIME_OMITS = frozenset(
    {
        "name",
        "msg",
        "args",
        "levelname",
        "levelno",
        "pathname",
        "filename",
        "module",
        "exc_info",
        "exc_text",
        "stack_info",
        "lineno",
        "funcName",
        "created",
        "msecs",
        "relativeCreated",
        "thread",
        "threadName",
        "processName",
        "process",
        "aws_request_id",
        "tenant_id",
        "_frame_type",
    }
)
# Lambda's id of the invocation, which the runtime's own filter sets on every record (bootstrap.py
# LambdaLoggerFilter); CloudFormation's RequestId is another.
LAMBDA_REQUEST_ID = "3f9c1a7e-5b2d-4e8f-a6c0-9d1e2b3c4a5f"
MODEL_ARN = "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/m4o8d2e6l0a3"
RETRAINED_MODEL_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/r3t2a1n4e5d6"
)
THROUGHPUT_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
JOB_NAME = "sandbox-distill-3aa7f4218eee"
# The job's ARN as the API gives it; its state change events carry a shorter form.
API_JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)
WAIT_CONDITION = "ModelWait3aa7f4218eeeWaitConditionD09B6687"
SERVING_STACK_ID = (
    "arn:aws:cloudformation:us-west-2:123456789012:stack/sandbox-distillation-support-assistant-serving/"
    "c4d7e0f3-cd44-11f0-b1a4-0a7d3e9f1c25"
)
POLL_RULE = "sandbox-serving-2f462a79fa34-ready-1c58063fc1ae"
CFN_KEYS = ("requestType", "logicalResourceId", "cfnRequestId", "stackId", "physicalResourceId")
WATCHED_JOB = ("eventId", "jobName", "jobArn")


class RuntimeJsonLog(logging.Handler):
    """The root logger's handler as the Lambda runtime sets it up with the JSON log format, before any handler is
    imported: each record becomes one JSON object (``lines``), with the invocation's Lambda request id."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []
        self.addFilter(self.lambda_request_id)

    @staticmethod
    def lambda_request_id(record: logging.LogRecord) -> bool:
        record.aws_request_id = LAMBDA_REQUEST_ID
        return True

    def emit(self, record: logging.LogRecord) -> None:
        own = {
            "timestamp": record.created,
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None),
        }
        extra = {k: v for k, v in record.__dict__.items() if k not in RUNTIME_OMITS and k not in RUNTIME_KEYS}
        line = {key: value for key, value in {**own, **extra}.items() if value is not None}
        # The runtime encodes with the standard JSON encoder, which refuses what is not JSON.
        self.lines.append(json.loads(json.dumps(line, ensure_ascii=False)))


@pytest.fixture
def runtime_log():
    handler = RuntimeJsonLog()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def cloudformation_ids_of(request: dict) -> dict:
    ids = {
        "requestType": request["RequestType"],
        "logicalResourceId": request["LogicalResourceId"],
        "cfnRequestId": request["RequestId"],
        "stackId": request["StackId"],
    }
    if request.get("PhysicalResourceId"):
        ids["physicalResourceId"] = request["PhysicalResourceId"]
    return ids


def carried(line: dict, keys) -> dict:
    return {key: line[key] for key in keys if key in line}


def messages(runtime_log: RuntimeJsonLog) -> list[str]:
    return [line["message"] for line in runtime_log.lines]


@pytest.fixture
def distilled_model(stub):
    module = load_handler("distilled_model")
    module.stub = stub(module.bedrock)
    module.cloudformation_stub = stub(module.cloudformation)
    return module


def test_every_line_of_a_cloudformation_request_carries_its_ids_whichever_module_logs_it(
    distilled_model, context, runtime_log
):
    """The lookup's Delete deletes its tagged, unserved model (the handler logs it), then finds the training stack
    rolling back (stack_rollback logs it) and so releases nothing else (model_release logs it)."""
    request = event("distilled_model_delete")
    bedrock, cloudformation = distilled_model.stub, distilled_model.cloudformation_stub
    tags = [{"key": "bedrock-distillation:delete-when-unserved", "value": "true"}]
    bedrock.add_response("list_tags_for_resource", {"tags": tags}, {"resourceARN": MODEL_ARN})
    bedrock.add_response("list_provisioned_model_throughputs", {"provisionedModelSummaries": []}, {})
    bedrock.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []}, {})
    bedrock.add_response("delete_custom_model", {}, {"modelIdentifier": MODEL_ARN})
    own_stack_is(cloudformation, request["StackId"], "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    other_stage_stack(cloudformation, "sandbox-distillation-support-assistant-training", "UPDATE_ROLLBACK_IN_PROGRESS")

    assert distilled_model.on_event(request, context) == {"PhysicalResourceId": MODEL_ARN}

    assert messages(runtime_log) == [
        f"The custom model {MODEL_ARN}, no longer wanted by its job's stack: deleted",
        "The stack sandbox-distillation-support-assistant-training is UPDATE_ROLLBACK_IN_PROGRESS",
        "Not releasing the stage's unserved models while a stack of the stage rolls back",
    ]
    for line in runtime_log.lines:
        assert carried(line, CFN_KEYS) == {
            "requestType": "Delete",
            "logicalResourceId": "DistilledModelLookup3E2330F8",
            "cfnRequestId": "8f1b4e7a-0d3c-4f6b-99e2-5a8d1f4b7e0c",
            "stackId": request["StackId"],
            "physicalResourceId": MODEL_ARN,
        }
        assert line["requestId"] == LAMBDA_REQUEST_ID


@pytest.fixture
def training_data(stub):
    module = load_handler("training_data")
    module.stub = stub(module.s3)
    return module


def expect_a_copy(training_data, *, refused: bool = False) -> dict:
    """The Create's HeadObject (the destination is missing) and CopyObject, which S3 refuses when ``refused``."""
    request = event("training_data_create")
    properties = request["ResourceProperties"]
    destination = {"Bucket": properties["DestinationBucket"], "Key": properties["DestinationKey"]}
    training_data.stub.add_client_error("head_object", "404", "Not Found", 404, destination)
    copy = {
        "CopySource": {"Bucket": properties["SourceBucket"], "Key": properties["SourceKey"]},
        **destination,
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": properties["KmsKeyArn"],
        "ContentType": "application/jsonl",
        "MetadataDirective": "REPLACE",
    }
    if refused:
        training_data.stub.add_client_error("copy_object", "AccessDenied", "Access Denied", 403, copy)
    else:
        training_data.stub.add_response("copy_object", {}, copy)
    return request


def test_a_create_has_no_physical_resource_id_on_its_lines_until_it_has_one(training_data, runtime_log):
    request = expect_a_copy(training_data)
    training_data.on_event(request, None)
    [line] = runtime_log.lines
    assert line["message"] == "Create TrainingData3FDB6D34"
    assert carried(line, CFN_KEYS) == cloudformation_ids_of(request)
    assert "physicalResourceId" not in line


@pytest.fixture
def provisioned_throughput(stub):
    module = load_handler("provisioned_throughput")
    module.stub = stub(module.bedrock)
    return module


def test_is_complete_lines_carry_the_physical_resource_id_on_event_answered(
    provisioned_throughput, context, runtime_log
):
    """The Provider framework polls isComplete with the Create's request and what onEvent answered: here a move the
    throughput was too busy for, which is_complete makes now."""
    create = event("provisioned_throughput_create")
    model = create["ResourceProperties"]["ModelArn"]
    polled = {
        **create,
        "PhysicalResourceId": THROUGHPUT_ARN,
        "Data": {"Arn": THROUGHPUT_ARN, "ModelArn": model, "MovePending": "true", "StartedAt": "1796083200"},
    }
    ready = {
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "provisionedModelName": create["ResourceProperties"]["Name"],
        "provisionedModelArn": THROUGHPUT_ARN,
        "modelArn": RETRAINED_MODEL_ARN,
        "desiredModelArn": RETRAINED_MODEL_ARN,
        "foundationModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "status": "InService",
        "creationTime": "2026-11-28T14:10:00Z",
        "lastModifiedTime": "2026-11-28T15:10:00Z",
    }
    provisioned_throughput.stub.add_response(
        "get_provisioned_model_throughput", ready, {"provisionedModelId": THROUGHPUT_ARN}
    )
    provisioned_throughput.stub.add_response(
        "update_provisioned_model_throughput", {}, {"provisionedModelId": THROUGHPUT_ARN, "desiredModelId": model}
    )
    assert provisioned_throughput.is_complete(polled, context) == {"IsComplete": False}
    [line] = runtime_log.lines
    assert line["message"] == f"Moving the Provisioned Throughput {THROUGHPUT_ARN} to {model}"
    assert carried(line, CFN_KEYS) == {**cloudformation_ids_of(create), "physicalResourceId": THROUGHPUT_ARN}


def test_no_line_after_a_request_carries_its_ids_also_when_the_handler_raised(training_data, runtime_log):
    """A warm function serves its next request with none of the previous one's ids, raised or not."""
    refused = expect_a_copy(training_data, refused=True)
    with pytest.raises(training_data.s3.exceptions.ClientError, match="AccessDenied"):
        training_data.on_event(refused, None)
    logging.getLogger().warning("between two requests")
    after_success = event("training_data_delete")
    training_data.on_event(after_success, None)
    logging.getLogger().warning("after the last request")

    first, between, second, last = runtime_log.lines
    assert carried(first, CFN_KEYS) == cloudformation_ids_of(refused)
    assert carried(between, CFN_KEYS) == {}
    assert carried(second, CFN_KEYS) == cloudformation_ids_of(after_success)
    assert carried(last, CFN_KEYS) == {}
    assert runtime_log.filters == [RuntimeJsonLog.lambda_request_id]


def test_lines_from_a_library_logger_carry_the_ids_too(runtime_log):
    """botocore logs through loggers of its own, whose records reach the root logger's handlers."""

    def retried(_event, _context):
        logging.getLogger("botocore.retries.standard").warning("Retry needed, retrying request after delay")

    request = event("training_data_delete")
    request_log.cloudformation_request(retried)(request, None)
    [line] = runtime_log.lines
    assert line["logger"] == "botocore.retries.standard"
    assert carried(line, CFN_KEYS) == cloudformation_ids_of(request)


def the_condition_waits(cloudformation) -> None:
    detail = {
        "LogicalResourceId": WAIT_CONDITION,
        "ResourceType": "AWS::CloudFormation::WaitCondition",
        "LastUpdatedTimestamp": "2026-11-28T14:10:00Z",
        "ResourceStatus": "CREATE_IN_PROGRESS",
    }
    cloudformation.add_response(
        "describe_stack_resource",
        {"StackResourceDetail": detail},
        {"StackName": SERVING_STACK_ID, "LogicalResourceId": WAIT_CONDITION},
    )


@pytest.fixture
def watcher_environment(monkeypatch):
    """What both watchers' functions are given, with a fresh wait_signal (its clients created anew)."""
    monkeypatch.setenv("STACK_ID", SERVING_STACK_ID)
    monkeypatch.setenv("WAIT_CONDITION", WAIT_CONDITION)
    monkeypatch.setenv("WAIT_HANDLE_URL", "https://cloudformation-waitcondition-us-west-2.s3.amazonaws.com/handle")
    monkeypatch.setenv("POLL_RULE_NAME", POLL_RULE)
    monkeypatch.delitem(sys.modules, "wait_signal", raising=False)


def test_a_watchers_lines_carry_the_events_id_and_what_it_watches(monkeypatch, stub, watcher_environment, runtime_log):
    model = MODEL_ARN
    monkeypatch.setenv("KIND", "Provisioned Throughput")
    monkeypatch.setenv("RESOURCE_ARN", THROUGHPUT_ARN)
    monkeypatch.setenv("MODEL_ARN", model)
    watcher = load_handler("served_model_wait")
    the_condition_waits(stub(watcher.wait_signal.cloudformation))
    creating = {
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "provisionedModelName": "sandbox-serving-2f462a79fa34",
        "provisionedModelArn": THROUGHPUT_ARN,
        "modelArn": model,
        "desiredModelArn": model,
        "foundationModelArn": "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k",
        "status": "Creating",
        "creationTime": "2026-11-28T14:10:00Z",
        "lastModifiedTime": "2026-11-28T14:40:00Z",
    }
    stub(watcher.bedrock).add_response(
        "get_provisioned_model_throughput", creating, {"provisionedModelId": THROUGHPUT_ARN}
    )
    poll = event("served_model_wait_scheduled")

    assert watcher.handler(poll, None) == "Creating"

    [line] = runtime_log.lines
    assert line["message"].startswith(f"The Provisioned Throughput {THROUGHPUT_ARN} is Creating")
    assert carried(line, ("eventId", "resourceArn", "modelArn")) == {
        "eventId": poll["id"],
        "resourceArn": THROUGHPUT_ARN,
        "modelArn": model,
    }
    assert not set(CFN_KEYS) & set(line)


class Accepted:
    """urlopen's answer to a signal the wait condition takes."""

    status = 200

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False


def test_the_job_watchers_lines_name_the_job_and_its_arn_when_the_event_has_it(
    monkeypatch, stub, watcher_environment, runtime_log
):
    """A scheduled poll while the job runs, then the job's state change: the signal is logged by wait_signal."""
    monkeypatch.setenv("JOB_NAME", JOB_NAME)
    monkeypatch.setattr(urllib.request, "urlopen", lambda request, timeout: Accepted())
    watcher = load_handler("distilled_model_wait")
    cloudformation, bedrock = stub(watcher.wait_signal.cloudformation), stub(watcher.bedrock)
    poll, changed = event("distilled_model_wait_scheduled"), event("job_state_change_completed")
    the_condition_waits(cloudformation)
    running = customization_job(API_JOB_ARN, "InProgress")
    bedrock.add_response("get_model_customization_job", running, {"jobIdentifier": JOB_NAME})
    the_condition_waits(cloudformation)
    completed = customization_job(API_JOB_ARN, "Completed", outputModelArn=MODEL_ARN)
    bedrock.add_response("get_model_customization_job", completed, {"jobIdentifier": JOB_NAME})
    stub(watcher.wait_signal.events).add_response("disable_rule", {}, {"Name": POLL_RULE})

    assert watcher.handler(poll, None) == "InProgress"
    assert watcher.handler(changed, None) == "Completed"

    polled, signalled = runtime_log.lines
    assert polled["message"] == f"The distillation job {JOB_NAME} is InProgress; waiting"
    assert carried(polled, WATCHED_JOB) == {"eventId": poll["id"], "jobName": JOB_NAME}
    assert signalled["message"].startswith("Signalled SUCCESS to the wait condition (HTTP 200)")
    assert signalled["logger"] == "root"
    assert carried(signalled, WATCHED_JOB) == {
        "eventId": changed["id"],
        "jobName": JOB_NAME,
        "jobArn": changed["detail"]["jobArn"],
    }


def test_the_metrics_publishers_lines_name_the_job_whose_state_changed(monkeypatch, stub, runtime_log):
    monkeypatch.setenv("STAGE", "sandbox")
    monkeypatch.setenv("NAMESPACE", "BedrockDistillation")
    monkeypatch.setenv("OUTPUT_S3_URI", "s3://sandbox-distillation-fou-storageoutput-7g8h9i0j1k2l/distillation-output/")
    publisher = load_handler("training_metrics_publisher")
    changed = event("job_state_change_completed")
    stub(publisher.bedrock).add_response(
        "get_model_customization_job", customization_job(API_JOB_ARN, "Completed"), {"jobIdentifier": JOB_NAME}
    )
    stub(publisher.s3).add_client_error("get_object", "NoSuchKey", "The specified key does not exist.", 404)
    stub(publisher.cloudwatch).add_response("put_metric_data", {}, None)

    assert publisher.handler(changed, None) == 1

    [line] = runtime_log.lines
    assert line["message"].startswith("No training metrics at s3://")
    assert carried(line, WATCHED_JOB) == {
        "eventId": changed["id"],
        "jobArn": changed["detail"]["jobArn"],
        "jobName": JOB_NAME,
    }


# Which entry points the functions call (distill/constructs: index.on_event and index.is_complete for the Provider
# framework, index.handler for EventBridge), and the wrapper each must be.
CLOUDFORMATION_ENTRY = request_log.cloudformation_request(lambda _event, _context: None).__code__
EVENTBRIDGE_ENTRY = request_log.eventbridge_event(dict)(lambda _event, _context: None).__code__
ENTRY_POINTS = {"on_event": CLOUDFORMATION_ENTRY, "is_complete": CLOUDFORMATION_ENTRY, "handler": EVENTBRIDGE_ENTRY}


@pytest.mark.parametrize("folder", sorted(path.parent.name for path in LAMBDA_ROOT.glob("*/index.py")))
def test_every_entry_point_of_every_handler_logs_with_its_requests_ids(folder):
    module = load_handler(folder)
    entries = {name: getattr(module, name) for name in ENTRY_POINTS if hasattr(module, name)}
    assert entries, f"lambda/{folder}/index.py has none of {', '.join(ENTRY_POINTS)}"
    unwrapped = [name for name, entry in entries.items() if entry.__code__ is not ENTRY_POINTS[name]]
    assert unwrapped == []


def logged_keys(monkeypatch) -> set[str]:
    """Every key request_log and the watchers add to a line, for the requests the fixtures hold."""
    for name, value in {"JOB_NAME": JOB_NAME, "RESOURCE_ARN": THROUGHPUT_ARN, "MODEL_ARN": MODEL_ARN}.items():
        monkeypatch.setenv(name, value)
    keys = set(request_log.cloudformation_ids(event("distillation_job_update"))) | {"eventId"}
    for folder, watcher, fixture in [
        ("distilled_model_wait", "watched", "job_state_change_completed"),
        ("served_model_wait", "watched", "served_model_wait_scheduled"),
        ("training_metrics_publisher", "job_of", "job_state_change_completed"),
    ]:
        keys |= set(getattr(load_handler(folder), watcher)(event(fixture)))
    return keys


def test_no_key_of_the_requests_ids_is_one_the_runtime_writes_or_drops(monkeypatch):
    """A key the runtime writes itself would be dropped (its requestId is Lambda's invocation id), and one it omits
    never reaches the log."""
    keys = logged_keys(monkeypatch)
    assert keys == {
        *CFN_KEYS,
        "eventId",
        "jobName",
        "jobArn",
        "resourceArn",
        "modelArn",
    }
    standard = set(logging.LogRecord("root", logging.INFO, __file__, 1, "message", None, None).__dict__)
    assert keys.isdisjoint({*RUNTIME_KEYS, *RUNTIME_OMITS, *standard, "message", "asctime"})
