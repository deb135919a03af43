"""The smoke test: prompts read at run time from the stage's dataset (never from the template, never logged), each
of which must get text from the served model, or the deploy fails with a readable reason."""

from __future__ import annotations

import io
import json

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from tests.handlers.conftest import event, load_handler

MODEL = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
EARLIER_MODEL_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/e4r1i2e3r4l5"
)
DATASET_URI = event("smoke_test_create")["ResourceProperties"]["TrainingDataUri"]
BUCKET, _, KEY = DATASET_URI.removeprefix("s3://").partition("/")
RANGE = "bytes=0-1048575"
PROMPTS = [
    "What was Uber's total revenue in 2022, according to its 10-K?",
    "Summarize the main risk factors in one sentence.",
    "Which segment grew fastest?",
    "A fourth prompt the check never sends.",
]
ANSWERS = ["Uber's total revenue for 2022 was $31.9 billion.", "Regulation and competition.", "Delivery."]


def record(prompt: str, *, role: str = "user") -> bytes:
    """A line of a dataset in the Bedrock conversation schema (bedrock-conversation-2024)."""
    return json.dumps(
        {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": "You answer questions about SEC filings."}],
            "messages": [{"role": role, "content": [{"text": prompt}]}],
        }
    ).encode()


def dataset(*prompts: str) -> bytes:
    return b"\n".join(record(prompt) for prompt in prompts) + b"\n"


@pytest.fixture
def handler(stub):
    module = load_handler("smoke_test")
    module.stub = stub(module.runtime)
    module.s3_stub = stub(module.s3)
    module.cfn_stub = stub(module.cloudformation)
    module.bedrock_stub = stub(module.bedrock)
    return module


def logging_is(handler, configuration: dict | None) -> None:
    """GetModelInvocationLoggingConfiguration's answer: the check sends dataset prompts only with logging off."""
    handler.bedrock_stub.add_response(
        "get_model_invocation_logging_configuration", {"loggingConfig": configuration} if configuration else {}, {}
    )


def stack_is(handler, status: str, request: dict) -> None:
    """The stack's status as DescribeStacks answers the Update's check of whether it is a rollback."""
    stack = {
        "StackName": "sandbox-distillation-support-assistant-serving",
        "CreationTime": "2026-11-28T06:00:00Z",
        "StackStatus": status,
    }
    handler.cfn_stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": request["StackId"]})


def expect_dataset(handler, body: bytes) -> None:
    logging_is(handler, None)
    handler.s3_stub.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentLength": len(body)},
        {"Bucket": BUCKET, "Key": KEY, "Range": RANGE},
    )


def answer(text: str, stop_reason: str = "end_turn") -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}] if text else []}},
        "stopReason": stop_reason,
        "usage": {"inputTokens": 21, "outputTokens": 14, "totalTokens": 35},
        "metrics": {"latencyMs": 380},
    }


def expect_converse(stub: Stubber, prompt: str, response: dict, max_tokens: int = 256) -> None:
    stub.add_response(
        "converse",
        response,
        {
            "modelId": MODEL,
            "messages": [{"role": "user", "content": [{"text": prompt}]}],
            "inferenceConfig": {"maxTokens": max_tokens},
        },
    )


def expect_answers(handler, prompts=PROMPTS[:3]) -> None:
    for prompt, text in zip(prompts, ANSWERS, strict=False):
        expect_converse(handler.stub, prompt, answer(text))


@pytest.mark.parametrize("fixture", ["smoke_test_create", "smoke_test_update"])
def test_create_and_update_send_the_first_prompts_of_the_dataset_and_log_none_of_them(handler, fixture, caplog):
    request = event(fixture)
    if request["RequestType"] == "Update":
        stack_is(handler, "UPDATE_IN_PROGRESS", request)
    expect_dataset(handler, dataset(*PROMPTS))
    expect_answers(handler)
    assert handler.on_event(request, None) == {"PhysicalResourceId": "smoke-test", "Data": {"Checked": 3}}
    logged = "\n".join(caplog.messages)
    assert not any(text in logged for text in [*PROMPTS, *ANSWERS, "SEC filings"])
    assert "Smoke test prompt 3 of 3: 9 characters, stopReason end_turn" in caplog.messages


def test_the_template_holds_no_prompt_only_where_to_read_them():
    properties = event("smoke_test_create")["ResourceProperties"]
    assert set(properties) == {
        "ServiceToken",
        "ModelId",
        "ModelArn",
        "PromptCount",
        "MaxPromptCharacters",
        "MaxTokens",
        "TrainingDataUri",
    }


def test_an_update_for_a_new_model_alone_checks_the_served_model_again(handler):
    """ModelArn (the custom model served) only makes CloudFormation send an Update when serving moves to another
    model; the prompts still go to ModelId, what serves it."""
    request = event("smoke_test_update")
    request["OldResourceProperties"] = {**request["ResourceProperties"], "ModelArn": EARLIER_MODEL_ARN}
    stack_is(handler, "UPDATE_IN_PROGRESS", request)
    expect_dataset(handler, dataset(*PROMPTS))
    expect_answers(handler)
    assert handler.on_event(request, None) == {"PhysicalResourceId": "smoke-test", "Data": {"Checked": 3}}


def test_a_rollback_sends_nothing(handler, caplog):
    """A check that failed while the stack rolls back would stop the rollback (UPDATE_ROLLBACK_FAILED)."""
    request = event("smoke_test_update")
    stack_is(handler, "UPDATE_ROLLBACK_IN_PROGRESS", request)
    assert handler.on_event(request, None) == {"PhysicalResourceId": "smoke-test", "Data": {"Checked": 0}}
    assert "The stack rolls back: the smoke test is not run" in caplog.messages


def test_an_update_whose_stack_cannot_be_read_is_checked(handler, caplog):
    request = event("smoke_test_update")
    handler.cfn_stub.add_client_error(
        "describe_stacks", "Throttling", "Rate exceeded", 400, expected_params={"StackName": request["StackId"]}
    )
    expect_dataset(handler, dataset(*PROMPTS))
    expect_answers(handler)
    assert handler.on_event(request, None)["Data"] == {"Checked": 3}
    assert any(m.startswith("Could not read the stack's status (") for m in caplog.messages)


def test_a_stage_without_a_dataset_of_its_own_sends_the_synthetic_prompt(handler):
    """A stage that trains from invocation logs (the whole account's prompts) or serves a copy names no dataset."""
    request = event("smoke_test_create")
    del request["ResourceProperties"]["TrainingDataUri"]
    expect_converse(handler.stub, "Reply with the single word OK.", answer("OK"))
    assert handler.on_event(request, None) == {"PhysicalResourceId": "smoke-test", "Data": {"Checked": 1}}


def test_an_account_that_logs_invocations_gets_the_synthetic_prompt_not_the_dataset(handler, caplog):
    """Dataset prompts sent while logging is on would be copied into those logs, under another key and retention."""
    logging_is(handler, {"s3Config": {"bucketName": "another-teams-logs", "keyPrefix": "bedrock"}})
    expect_converse(handler.stub, "Reply with the single word OK.", answer("OK"))
    assert handler.on_event(event("smoke_test_create"), None)["Data"] == {"Checked": 1}
    assert "Model invocation logging is on in this account and Region; sending the synthetic prompt" in caplog.messages


def test_a_logging_configuration_that_cannot_be_read_counts_as_on(handler, caplog):
    handler.bedrock_stub.add_client_error(
        "get_model_invocation_logging_configuration", "AccessDeniedException", "Not authorized", 403
    )
    expect_converse(handler.stub, "Reply with the single word OK.", answer("OK"))
    assert handler.on_event(event("smoke_test_create"), None)["Data"] == {"Checked": 1}
    assert any(m.startswith("Could not read the invocation logging configuration (") for m in caplog.messages)


def test_a_dataset_s3_refuses_is_named_with_s3s_code_and_the_synthetic_prompt_is_sent(handler, caplog):
    logging_is(handler, None)
    handler.s3_stub.add_client_error(
        "get_object",
        "AccessDenied",
        "Access Denied",
        403,
        expected_params={"Bucket": BUCKET, "Key": KEY, "Range": RANGE},
    )
    expect_converse(handler.stub, "Reply with the single word OK.", answer("OK"))
    assert handler.on_event(event("smoke_test_create"), None)["Data"] == {"Checked": 1}
    assert f"Could not read the training data {DATASET_URI} (AccessDenied); sending the synthetic prompt" in (
        caplog.messages
    )


def test_a_dataset_out_of_reach_sends_the_synthetic_prompt(handler, monkeypatch, caplog):
    def unreachable(**_request):
        raise EndpointConnectionError(endpoint_url=f"https://{BUCKET}.s3.us-west-2.amazonaws.com/{KEY}")

    logging_is(handler, None)
    monkeypatch.setattr(handler.s3, "get_object", unreachable)
    expect_converse(handler.stub, "Reply with the single word OK.", answer("OK"))
    assert handler.on_event(event("smoke_test_create"), None)["Data"] == {"Checked": 1}
    assert (
        f"Could not read the training data {DATASET_URI} (EndpointConnectionError); sending the synthetic prompt"
        in caplog.messages
    )


def test_records_without_a_user_turn_first_are_passed_over_and_prompts_are_cut(handler):
    request = event("smoke_test_create")
    request["ResourceProperties"].update(PromptCount="2", MaxPromptCharacters="12")
    body = b"\n".join([b"not json", record("an answer first", role="assistant"), b"{}", record(PROMPTS[0])]) + b"\n"
    expect_dataset(handler, body + dataset(PROMPTS[1]))
    expect_converse(handler.stub, PROMPTS[0][:12], answer(ANSWERS[0]))
    expect_converse(handler.stub, PROMPTS[1][:12], answer(ANSWERS[1]))
    assert handler.on_event(request, None)["Data"] == {"Checked": 2}


def test_a_record_the_range_cuts_is_not_sent(handler):
    """A ranged read of the first MiB may end inside a record: the last, partial line is not a prompt."""
    first = record(PROMPTS[0]) + b"\n"
    cut = record("x" * (1 << 20))[: (1 << 20) - len(first)]
    request = event("smoke_test_create")
    request["ResourceProperties"]["PromptCount"] = "5"
    expect_dataset(handler, first + cut)
    expect_converse(handler.stub, PROMPTS[0], answer(ANSWERS[0]))
    assert handler.on_event(request, None)["Data"] == {"Checked": 1}


def test_a_dataset_without_a_readable_user_turn_sends_the_synthetic_prompt(handler, caplog):
    expect_dataset(handler, b"not json\n\n")
    expect_converse(handler.stub, "Reply with the single word OK.", answer("OK"))
    assert handler.on_event(event("smoke_test_create"), None)["Data"] == {"Checked": 1}
    assert (
        f"The training data {DATASET_URI} begins with no readable user turn; sending the synthetic prompt"
        in caplog.messages
    )


def test_delete_does_nothing(handler):
    assert handler.on_event(event("smoke_test_delete"), None) == {"PhysicalResourceId": "smoke-test"}


def test_a_refused_call_fails_the_deploy_naming_the_prompt_and_bedrocks_error(handler):
    expect_dataset(handler, dataset(*PROMPTS))
    expect_converse(handler.stub, PROMPTS[0], answer(ANSWERS[0]))
    handler.stub.add_client_error(
        "converse", "ModelNotReadyException", "The model is not ready to serve inference requests.", 429
    )
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("smoke_test_create"), None)
    assert str(raised.value) == (
        f"Smoke test prompt 2 of 3 failed: the served model {MODEL} did not answer (ModelNotReadyException: The "
        "model is not ready to serve inference requests.). Check the model's status in Bedrock, then deploy again "
        "to retry."
    )


def test_an_answer_without_text_fails_the_deploy(handler):
    expect_dataset(handler, dataset(*PROMPTS))
    expect_converse(handler.stub, PROMPTS[0], answer("", stop_reason="max_tokens"))
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("smoke_test_create"), None)
    assert str(raised.value) == (
        f"Smoke test prompt 1 of 3 failed: the served model {MODEL} answered with no text (stopReason max_tokens). "
        "Raise MaxTokens if it was max_tokens; otherwise check the prompt and the model."
    )


@pytest.mark.parametrize("count", ["0", "6", "three", ""])
def test_the_prompt_count_must_be_1_to_5(handler, count):
    request = event("smoke_test_create")
    request["ResourceProperties"]["PromptCount"] = count
    with pytest.raises(ValueError) as raised:
        handler.on_event(request, None)
    assert str(raised.value) == (
        f"The smoke test's PromptCount property is {count!r}; it must be a whole number from 1 to 5."
    )


@pytest.mark.parametrize("name", ["MaxTokens", "MaxPromptCharacters"])
@pytest.mark.parametrize("value", ["0", "many", "-5", ""])
def test_sizes_must_be_positive_whole_numbers(handler, name, value):
    request = event("smoke_test_create")
    request["ResourceProperties"][name] = value
    with pytest.raises(ValueError) as raised:
        handler.on_event(request, None)
    assert str(raised.value) == f"The smoke test's {name} property is {value!r}; it must be a whole number, at least 1."


def test_a_timeout_fails_the_deploy_too(handler, monkeypatch):
    def time_out(**_request):
        raise ReadTimeoutError(
            endpoint_url="https://bedrock-runtime.us-west-2.amazonaws.com/model/p7t3h9r2u5s1/converse"
        )

    expect_dataset(handler, dataset(*PROMPTS))
    monkeypatch.setattr(handler.runtime, "converse", time_out)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("smoke_test_create"), None)
    assert str(raised.value) == (
        f"Smoke test prompt 1 of 3 failed: the served model {MODEL} did not answer (Read timeout on endpoint URL: "
        '"https://bedrock-runtime.us-west-2.amazonaws.com/model/p7t3h9r2u5s1/converse"). Check the model\'s status '
        "in Bedrock, then deploy again to retry."
    )


def test_the_client_retries_throttling_in_standard_mode(handler):
    assert handler.runtime.meta.config.retries["mode"] == "standard"
