"""Custom resource handler: a smoke test that the served model answers, run on every deploy of the serving stack.

Create and Update send a few prompts to ``ModelId`` through the Converse API. A call that fails or an answer
without text fails the request, and with it the deploy, so a model that cannot serve is caught before anyone relies
on it. Delete has nothing to undo. The physical id never changes, so an Update never replaces the resource and
CloudFormation never sends a Delete during an update.

The prompts are read at run time from the start of the stage's training data (``TrainingDataUri``), so no prompt
text sits in the template, where GetTemplate, snapshots and the Provider framework's event log would show it; a
stage without a readable dataset, or whose account logs model invocations (the prompts would be copied into those
logs), gets one fixed, synthetic prompt. Neither prompts nor answers are logged by the handler.
"""

import json
import logging

import aws_clients
import request_log
import stack_rollback
from botocore.exceptions import BotoCoreError, ClientError

LOG = logging.getLogger()

runtime = aws_clients.client("bedrock-runtime")
bedrock = aws_clients.LazyClient("bedrock")
s3 = aws_clients.LazyClient("s3")
cloudformation = aws_clients.LazyClient("cloudformation")

PHYSICAL_ID = "smoke-test"
# A smoke test, not an evaluation: a handful of calls keeps the deploy quick and the handler well inside its timeout.
MAX_PROMPTS = 5
# How much of the dataset is read for its first records: a ranged GET of its first MiB, never the whole file.
READ_BYTES = 1 << 20
# Sent when the stage has no dataset of its own (invocation logs are the whole account's: their prompts are not
# this stage's to send) or its dataset cannot be read.
SYNTHETIC_PROMPT = "Reply with the single word OK."


@request_log.cloudformation_request
def on_event(event, _context):
    """Provider framework entry point: Create and Update check the model; Delete does nothing."""
    LOG.info("%s %s", event["RequestType"], event["LogicalResourceId"])
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": PHYSICAL_ID}
    if event["RequestType"] == "Update" and stack_rolls_back(event):
        # A rollback moves serving back to what answered before; a check that failed here would stop the rollback
        # (UPDATE_ROLLBACK_FAILED) and leave the stack unable to deploy. The next deploy that changes the served
        # model checks it again.
        LOG.info("The stack rolls back: the smoke test is not run")
        return {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Checked": 0}}
    properties = event["ResourceProperties"]
    count = read_whole_number(properties, "PromptCount", most=MAX_PROMPTS)
    max_tokens = read_whole_number(properties, "MaxTokens")
    characters = read_whole_number(properties, "MaxPromptCharacters")
    uri = properties.get("TrainingDataUri")
    prompts = (dataset_prompts(uri, count, characters) if uri and not invocations_logged() else []) or [
        SYNTHETIC_PROMPT
    ]
    for number, prompt in enumerate(prompts, 1):
        check(properties["ModelId"], prompt, max_tokens, f"prompt {number} of {len(prompts)}")
    return {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Checked": len(prompts)}}


def stack_rolls_back(event):
    """Whether this Update is CloudFormation's rollback; when the stack cannot be read, the check runs (a forward
    update must not lose its check to a refused DescribeStacks)."""
    try:
        return stack_rollback.rolling_back(cloudformation, event["StackId"])
    except (ClientError, BotoCoreError) as error:
        LOG.warning("Could not read the stack's status (%s); running the smoke test", error)
        return False


def read_whole_number(properties, name, most=None):
    value = str(properties.get(name, ""))
    if not value.isdigit() or int(value) < 1 or (most is not None and int(value) > most):
        limit = f" from 1 to {most}" if most is not None else ", at least 1"
        raise ValueError(f"The smoke test's {name} property is {value!r}; it must be a whole number{limit}.")
    return int(value)


def invocations_logged():
    """Whether model invocation logging is on in this account and Region (whoever configured it): then the check
    sends the synthetic prompt, so that no dataset text is copied into logs with another key, reader and retention.
    A configuration that cannot be read counts as on."""
    try:
        configuration = bedrock.get_model_invocation_logging_configuration().get("loggingConfig")
    except (ClientError, BotoCoreError) as error:
        LOG.warning("Could not read the invocation logging configuration (%s); sending the synthetic prompt", error)
        return True
    if configuration:
        LOG.info("Model invocation logging is on in this account and Region; sending the synthetic prompt")
    return bool(configuration)


def dataset_prompts(uri, count, characters):
    """The first user turn of each of the first ``count`` records of the dataset at ``uri`` (s3://bucket/key), each
    cut to ``characters``; [] when there is no dataset or it cannot be read (logged by its URI and S3's error code,
    never its content). Records are in the Bedrock conversation schema the stack validated at synth."""
    if not uri:
        return []
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{READ_BYTES - 1}")["Body"].read()
    except ClientError as error:
        LOG.warning(
            "Could not read the training data %s (%s); sending the synthetic prompt",
            uri,
            error.response["Error"].get("Code"),
        )
        return []
    except BotoCoreError as error:
        LOG.warning("Could not read the training data %s (%s); sending the synthetic prompt", uri, type(error).__name__)
        return []
    lines = body.split(b"\n")
    if len(body) == READ_BYTES:
        lines = lines[:-1]  # the range may end inside a record
    prompts = []
    for line in lines:
        text = first_user_text(line)
        if text:
            prompts.append(text[:characters])
        if len(prompts) == count:
            break
    if not prompts:
        LOG.warning("The training data %s begins with no readable user turn; sending the synthetic prompt", uri)
    return prompts


def first_user_text(line):
    try:
        record = json.loads(line)
        turn = record["messages"][0]
        return "".join(block.get("text", "") for block in turn["content"]).strip() if turn["role"] == "user" else ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""


def check(model_id, prompt, max_tokens, which):
    """Raises a RuntimeError naming the prompt's number and Bedrock's error unless the model answers with text."""
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
