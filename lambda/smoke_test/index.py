"""Custom resource handler: a smoke test that the served model answers, run on every deploy of the serving stack.

Create and Update send each prompt in ``Prompts`` to ``ModelId`` through the Converse API. A call that fails or an
answer without text fails the request, and with it the deploy, so a model that cannot serve is caught before anyone
relies on it. Delete has nothing to undo. The physical id never changes, so an Update never replaces the resource
and CloudFormation never sends a Delete during an update.
"""

import json
import logging

import custom_resource
from botocore.exceptions import BotoCoreError, ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

runtime = custom_resource.client("bedrock-runtime")

PHYSICAL_ID = "smoke-test"
# A smoke test, not an evaluation: a handful of calls keeps the deploy quick and the handler well inside its timeout.
MAX_PROMPTS = 5


def on_event(event, _context):
    """Provider framework entry point: Create and Update check the model; Delete does nothing."""
    LOG.info("%s %s", event["RequestType"], event["LogicalResourceId"])
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": PHYSICAL_ID}
    properties = event["ResourceProperties"]
    prompts = read_prompts(properties)
    max_tokens = read_max_tokens(properties)
    for number, prompt in enumerate(prompts, 1):
        check(properties["ModelId"], prompt, max_tokens, f"prompt {number} of {len(prompts)}")
    return {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Checked": len(prompts)}}


def read_prompts(properties):
    """The ``Prompts`` property: a JSON list of 1 to 5 non-empty strings."""
    try:
        prompts = json.loads(properties.get("Prompts", ""))
    except ValueError:
        prompts = None
    if (
        not isinstance(prompts, list)
        or not 1 <= len(prompts) <= MAX_PROMPTS
        or not all(isinstance(prompt, str) and prompt.strip() for prompt in prompts)
    ):
        raise ValueError(
            f"The smoke test's Prompts property is {properties.get('Prompts')!r}; it must be a JSON list of 1 to "
            f"{MAX_PROMPTS} non-empty strings."
        )
    return prompts


def read_max_tokens(properties):
    value = str(properties.get("MaxTokens", ""))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"The smoke test's MaxTokens property is {value!r}; it must be a whole number, at least 1.")
    return int(value)


def check(model_id, prompt, max_tokens, which):
    """Raises a RuntimeError naming the prompt and Bedrock's error unless the model answers with text."""
    try:
        response = runtime.converse(
            modelId=model_id,
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            inferenceConfig={"maxTokens": max_tokens},
        )
    except ClientError as error:
        details = error.response["Error"]
        raise RuntimeError(
            f"Smoke test {which} failed: the served model {model_id} did not answer ({details.get('Code')}: "
            f"{details.get('Message')}). Check the model's status in Bedrock, then deploy again to retry."
        ) from error
    except BotoCoreError as error:
        raise RuntimeError(
            f"Smoke test {which} failed: the served model {model_id} did not answer ({error}). Check the model's "
            "status in Bedrock, then deploy again to retry."
        ) from error
    text = "".join(block.get("text", "") for block in response["output"]["message"]["content"])
    if not text.strip():
        raise RuntimeError(
            f"Smoke test {which} failed: the served model {model_id} answered with no text (stopReason "
            f"{response['stopReason']}). Raise MaxTokens if it was max_tokens; otherwise check the prompt and the "
            "model."
        )
    LOG.info("Smoke test %s: %d characters, stopReason %s", which, len(text), response["stopReason"])
