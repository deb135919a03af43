"""What the Bedrock distillation handlers share: clients with a retry budget that fits, names, tags, lookups.

Shipped as a Lambda layer (on the runtime's path as /opt/python) so that every handler imports the one copy. It
holds only what more than one handler needs; each handler keeps its own lifecycle.

Every Bedrock resource these handlers make has a name the stack derives from what defines it (the construct passes
it as a property), so an Update can find the resource its properties describe before it creates anything. That is
what keeps CloudFormation's rollback (a second Update with the previous properties) from starting a second paid job,
copy or throughput: the previous one is found by name and adopted.
"""

import hashlib
import json
import logging
import time

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

LOG = logging.getLogger()

# Bedrock's control-plane APIs answer in about a second and have low request-rate quotas. Standard retry mode retries
# throttling, transient errors and timeouts with jittered exponential backoff: before retry i (from 0) it waits at
# most min(2**i, 20) s, and up to 5 s more when the answer carries x-amz-retry-after (botocore.retries.standard
# ExponentialBackoff, as pinned; Boto3 user guide "Retries", standard mode). The budget of one call at worst is
# MAX_ATTEMPTS x (CONNECT_TIMEOUT + READ_TIMEOUT) plus those waits: 102 s, so that a handler's timeout holds
# several calls and Lambda never ends a handler in the middle of its retries (botocore's defaults, 60 s to connect
# and 60 s to read, with 8 attempts, would exceed a 5-minute function).
MAX_ATTEMPTS = 4
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15
MAX_BACKOFF_TOTAL = sum(min(2**retry, 20) + 5 for retry in range(MAX_ATTEMPTS - 1))
CALL_BUDGET_SECONDS = MAX_ATTEMPTS * (CONNECT_TIMEOUT + READ_TIMEOUT) + MAX_BACKOFF_TOTAL
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT,
    read_timeout=READ_TIMEOUT,
)
# One session for all of a handler's clients: each session loads the endpoint data again.
SESSION = botocore.session.get_session()

# The tag a job's handler puts on a custom model it could not delete because a Provisioned Throughput or deployment
# still served it; whatever stops serving the model deletes it then (distilled_model's Delete).
DELETE_WHEN_UNSERVED_TAG = "bedrock-distillation:delete-when-unserved"


def client(service):
    """A client for `service` with CLIENT_CONFIG, for a handler to create once at import and reuse.

    botocore makes it, as it does behind boto3.client: going through boto3 would add about 30 ms to every cold start
    (importing boto3 and its session) and nothing that these handlers use.
    """
    return SESSION.create_client(service, config=CLIENT_CONFIG)


class LazyClient:
    """A client created on its first use, for calls that only some requests make.

    A cold start pays for every service model a handler loads (S3's alone costs about 40 ms), so a client that most
    invocations never need is not created at import. It behaves as the client it wraps, Stubber included.
    """

    def __init__(self, service):
        self._service = service
        self._client = None

    def __getattr__(self, name):
        if self._client is None:
            self._client = client(self._service)
        return getattr(self._client, name)


def token(*parts):
    """A clientRequestToken from what identifies a request: hex digits fit Bedrock's token pattern.

    A retried call (botocore's retries, or CloudFormation resending the same request) carries the same parts and so
    the same token, and Bedrock hands back what it already started instead of starting a second one.
    """
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def is_arn(physical_id):
    """Whether a physical id names something Bedrock made; a Create that failed before it got one leaves a placeholder
    (the Provider framework's CREATE_FAILED marker), which there is nothing to delete for."""
    return bool(physical_id) and physical_id.startswith("arn:")


def tag_list(tags_json):
    """Bedrock's `[{"key", "value"}]` tags from the `{"key": "value"}` map a stack passes as a JSON string."""
    return [{"key": key, "value": value} for key, value in json.loads(tags_json or "{}").items()]


def retag(bedrock, arn, new_tags_json, old_tags_json):
    """Apply a change of tags to a Bedrock resource in place: changed and new keys are tagged, removed keys untagged."""
    new = json.loads(new_tags_json or "{}")
    old = json.loads(old_tags_json or "{}")
    if new == old:
        return
    if new:
        bedrock.tag_resource(resourceARN=arn, tags=tag_list(new_tags_json))
    removed = sorted(set(old) - set(new))
    if removed:
        bedrock.untag_resource(resourceARN=arn, tagKeys=removed)


def unless_gone(call, *, gone=("ResourceNotFoundException",), **arguments):
    """``call(**arguments)``, or None when the service no longer knows the resource: one of the error codes ``gone``
    (Bedrock's ResourceNotFoundException by default; SSM says ParameterNotFound)."""
    try:
        return call(**arguments)
    except ClientError as error:
        if error.response["Error"]["Code"] in gone:
            return None
        raise


def serving_state(bedrock, model_arn):
    """``(staying, leaving)``: the ARNs of the Provisioned Throughputs and deployments that serve ``model_arn``, split
    into those that stay on it and those moving to another model (which serve it until the move completes)."""
    staying, leaving = [], []
    for throughput in bedrock.list_provisioned_model_throughputs(modelArnEquals=model_arn)["provisionedModelSummaries"]:
        moving = throughput["desiredModelArn"] != model_arn
        (leaving if moving else staying).append(throughput["provisionedModelArn"])
    for summary in bedrock.list_custom_model_deployments(modelArnEquals=model_arn)["modelDeploymentSummaries"]:
        arn = summary["customModelDeploymentArn"]
        details = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn).get("updateDetails") or {}
        moving = details.get("updateStatus") == "Updating" and details.get("modelArn") != model_arn
        (leaving if moving else staying).append(arn)
    return staying, leaving


def delete_model_unless_served(bedrock, model_arn, context=None):
    """Delete a custom model that nothing serves. One that a throughput or deployment is moving off is deleted once
    the move is over, if that comes within the function's time (``context``); one still served is tagged to be deleted
    once it is not (``release_unserved_models``), as Bedrock cannot delete a model that a Provisioned Throughput serves
    (user guide, prov-thru-delete.html, read 2026-11-30). Returns what happened, for the log."""
    staying, leaving = serving_state(bedrock, model_arn)
    while leaving and not staying and context is not None and remaining_seconds(context) > 30 + 2 * CALL_BUDGET_SECONDS:
        time.sleep(30)
        staying, leaving = serving_state(bedrock, model_arn)
    if not staying and not leaving:
        try:
            bedrock.delete_custom_model(modelIdentifier=model_arn)
            return "deleted"
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ResourceNotFoundException":
                return "already gone"
            if code != "ConflictException":  # something began serving it since the check
                raise
    bedrock.tag_resource(resourceARN=model_arn, tags=[{"key": DELETE_WHEN_UNSERVED_TAG, "value": "true"}])
    serving = ", ".join(staying + leaving) or "something"
    return f"kept while {serving} serves it, tagged to be deleted afterwards"


def release_unserved_models(bedrock, name_prefix):
    """Delete this stage's custom models (named ``name_prefix``...) that were tagged to be deleted once unserved and
    that nothing serves any more; returns their ARNs. Whatever serves or trains for the stage calls it, so a model
    whose serving moved off it is not left behind for want of a later Delete."""
    released = []
    arguments = {"nameContains": name_prefix}
    while True:
        page = bedrock.list_custom_models(**arguments)
        for model in page["modelSummaries"]:
            if not model["modelName"].startswith(name_prefix):
                continue
            tags = unless_gone(bedrock.list_tags_for_resource, resourceARN=model["modelArn"]) or {"tags": []}
            if any(t["key"] == DELETE_WHEN_UNSERVED_TAG for t in tags["tags"]) and serving_state(
                bedrock, model["modelArn"]
            ) == ([], []):
                unless_gone(bedrock.delete_custom_model, modelIdentifier=model["modelArn"])
                released.append(model["modelArn"])
        if not page.get("nextToken"):
            return released
        arguments["nextToken"] = page["nextToken"]


def job_name_prefix(job_name):
    """The part of a job's (and its model's) name that every job of the stage shares: ``<stage>-distill-``."""
    return job_name.rsplit("-", 1)[0] + "-"


def busy_message(kind, arn, status, model):
    return (
        f"The {kind} {arn} is {status} and cannot move to {model} until it is ready. Once Bedrock reports it ready, "
        "deploy again (or, if the stack is in UPDATE_ROLLBACK_FAILED, continue its rollback: aws cloudformation "
        "continue-update-rollback)."
    )


def remaining_seconds(context):
    """Seconds left before Lambda ends this invocation."""
    return context.get_remaining_time_in_millis() / 1000
