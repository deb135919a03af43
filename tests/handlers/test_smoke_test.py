"""The smoke test: every prompt must get text from the served model, or the deploy fails with a readable reason."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from tests.handlers.conftest import event, load_handler

MODEL = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/p7t3h9r2u5s1"
EARLIER_MODEL_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/e4r1i2e3r4l5"
)
PROMPTS = [
    "What was Uber's total revenue in 2022, according to its 10-K?",
    "Summarize the main risk factors in one sentence.",
]


@pytest.fixture
def handler(stub):
    module = load_handler("smoke_test")
    module.stub = stub(module.runtime)
    return module


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


@pytest.mark.parametrize("fixture", ["smoke_test_create", "smoke_test_update"])
def test_create_and_update_send_every_prompt(handler, fixture):
    expect_converse(handler.stub, PROMPTS[0], answer("Uber's total revenue for 2022 was $31.9 billion."))
    expect_converse(handler.stub, PROMPTS[1], answer("Regulation, competition and safety incidents."))
    assert handler.on_event(event(fixture), None) == {
        "PhysicalResourceId": "smoke-test",
        "Data": {"Checked": 2},
    }


def test_an_update_for_a_new_model_alone_checks_the_served_model_again(handler):
    """ModelArn (the custom model served) only makes CloudFormation send an Update when serving moves to another
    model; the prompts still go to ModelId, what serves it."""
    request = event("smoke_test_update")
    request["OldResourceProperties"] = {
        **request["ResourceProperties"],
        "ModelArn": EARLIER_MODEL_ARN,
    }
    expect_converse(handler.stub, PROMPTS[0], answer("Uber's total revenue for 2022 was $31.9 billion."))
    expect_converse(handler.stub, PROMPTS[1], answer("Regulation, competition and safety incidents."))
    assert handler.on_event(request, None) == {"PhysicalResourceId": "smoke-test", "Data": {"Checked": 2}}


def test_delete_does_nothing(handler):
    assert handler.on_event(event("smoke_test_delete"), None) == {"PhysicalResourceId": "smoke-test"}


def test_a_refused_call_fails_the_deploy_naming_the_prompt_and_bedrocks_error(handler):
    expect_converse(handler.stub, PROMPTS[0], answer("Uber's total revenue for 2022 was $31.9 billion."))
    handler.stub.add_client_error(
        "converse", "ModelNotReadyException", "The model is not ready to serve inference requests.", 429
    )
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("smoke_test_create"), None)
    assert str(raised.value) == (
        f"Smoke test prompt 2 of 2 failed: the served model {MODEL} did not answer (ModelNotReadyException: The "
        "model is not ready to serve inference requests.). Check the model's status in Bedrock, then deploy again "
        "to retry."
    )


def test_an_answer_without_text_fails_the_deploy(handler):
    expect_converse(handler.stub, PROMPTS[0], answer("", stop_reason="max_tokens"))
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("smoke_test_create"), None)
    assert str(raised.value) == (
        f"Smoke test prompt 1 of 2 failed: the served model {MODEL} answered with no text (stopReason max_tokens). "
        "Raise MaxTokens if it was max_tokens; otherwise check the prompt and the model."
    )


@pytest.mark.parametrize(
    "prompts",
    ["not json", json.dumps([]), json.dumps(["a", "b", "c", "d", "e", "f"]), json.dumps(["fine", "  "]), '"one"'],
)
def test_prompts_must_be_a_json_list_of_1_to_5_strings(handler, prompts):
    request = event("smoke_test_create")
    request["ResourceProperties"]["Prompts"] = prompts
    with pytest.raises(ValueError) as raised:
        handler.on_event(request, None)
    assert str(raised.value) == (
        f"The smoke test's Prompts property is {prompts!r}; it must be a JSON list of 1 to 5 non-empty strings."
    )


@pytest.mark.parametrize("max_tokens", ["0", "many", "-5", ""])
def test_max_tokens_must_be_a_positive_whole_number(handler, max_tokens):
    request = event("smoke_test_create")
    request["ResourceProperties"]["MaxTokens"] = max_tokens
    with pytest.raises(ValueError) as raised:
        handler.on_event(request, None)
    assert str(raised.value) == (
        f"The smoke test's MaxTokens property is {max_tokens!r}; it must be a whole number, at least 1."
    )


def test_a_timeout_fails_the_deploy_too(handler, monkeypatch):
    def time_out(**_request):
        raise ReadTimeoutError(
            endpoint_url="https://bedrock-runtime.us-west-2.amazonaws.com/model/p7t3h9r2u5s1/converse"
        )

    monkeypatch.setattr(handler.runtime, "converse", time_out)
    with pytest.raises(RuntimeError) as raised:
        handler.on_event(event("smoke_test_create"), None)
    assert str(raised.value) == (
        f"Smoke test prompt 1 of 2 failed: the served model {MODEL} did not answer (Read timeout on endpoint URL: "
        '"https://bedrock-runtime.us-west-2.amazonaws.com/model/p7t3h9r2u5s1/converse"). Check the model\'s status '
        "in Bedrock, then deploy again to retry."
    )


def test_the_client_retries_throttling_in_standard_mode(handler):
    assert handler.runtime.meta.config.retries["mode"] == "standard"
