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
from botocore.exceptions import BotoCoreError, ClientError

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
# The tag key the stack gives every Bedrock resource of a stage, with the stage's name as its value
# (distill/constructs/budget.py STAGE_TAG: the handlers cannot import the app's package).
STAGE_TAG = "distillation-stage"


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


def _pages(call, key, **arguments):
    """Every item under ``key`` of a paginated Bedrock list call (nextToken)."""
    while True:
        page = call(**arguments)
        yield from page[key]
        if not page.get("nextToken"):
            return
        arguments["nextToken"] = page["nextToken"]


def serving_state(bedrock, model_arn):
    """``(staying, leaving)``: the ARNs of the Provisioned Throughputs and deployments that serve ``model_arn``, split
    into those that serve it or are moving to it, and those moving from it to another model (which serve it until the
    move completes). Every throughput and deployment of the account and Region is looked at, as a list call filtered
    on the model matches only what serves it now (ListProvisionedModelThroughputs modelArnEquals), not what moves."""
    staying, leaving = [], []
    for throughput in _pages(bedrock.list_provisioned_model_throughputs, "provisionedModelSummaries"):
        if model_arn == throughput["desiredModelArn"]:
            staying.append(throughput["provisionedModelArn"])
        elif model_arn == throughput["modelArn"]:
            leaving.append(throughput["provisionedModelArn"])
    for summary in _pages(bedrock.list_custom_model_deployments, "modelDeploymentSummaries"):
        arn = summary["customModelDeploymentArn"]
        deployment = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
        move = deployment.get("updateDetails") or {}
        moving_to = move.get("modelArn") if move.get("updateStatus") == "Updating" else deployment["modelArn"]
        if model_arn == moving_to:
            staying.append(arn)
        elif model_arn == deployment["modelArn"]:
            leaving.append(arn)
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


def release_unserved_models(bedrock, prefix, stage):
    """Delete the stage ``stage``'s custom models (named ``prefix``... and tagged STAGE_TAG ``stage``) that were tagged
    to be deleted once unserved and that nothing serves any more; returns their ARNs. Whatever serves or trains for the
    stage calls it, so a model whose serving moved off it is not left behind for want of a later Delete.

    A name prefix is not a stage: stage names may hold hyphens, so ``dev-copy-`` (stage dev's copies) also begins the
    names of stage dev-copy's jobs (``dev-copy-distill-...``); only a model whose own STAGE_TAG is ``stage`` is the
    stage's. One that Bedrock still finds in use (ConflictException) is left for the next time; one whose tags or
    deletion Bedrock refuses otherwise is logged and passed over, so that it does not keep the others."""
    released = []
    for model in _pages(bedrock.list_custom_models, "modelSummaries", nameContains=prefix):
        model_arn = model["modelArn"]
        if not model["modelName"].startswith(prefix):
            continue
        try:
            if _release(bedrock, model_arn, stage):
                released.append(model_arn)
        except ClientError as error:
            LOG.warning("Could not release the custom model %s: %s", model_arn, error)
    return released


def _release(bedrock, model_arn, stage):
    """Whether the model ``model_arn`` was released: deleted, or gone already."""
    listed = unless_gone(bedrock.list_tags_for_resource, resourceARN=model_arn) or {"tags": []}
    tags = {t["key"]: t["value"] for t in listed["tags"]}
    if DELETE_WHEN_UNSERVED_TAG not in tags:
        return False
    if tags.get(STAGE_TAG) != stage:
        LOG.info(
            "Leaving the custom model %s alone: it is tagged %s=%s, not %s",
            model_arn,
            STAGE_TAG,
            tags.get(STAGE_TAG),
            stage,
        )
        return False
    if serving_state(bedrock, model_arn) != ([], []):
        return False
    try:
        unless_gone(bedrock.delete_custom_model, modelIdentifier=model_arn)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConflictException":
            raise
        return False
    return True


def rolling_back(cloudformation, stack_id):
    """Whether CloudFormation is rolling the stack ``stack_id`` back: its StackStatus (DescribeStacks) is one of the
    ``*ROLLBACK_IN_PROGRESS`` values of botocore's CloudFormation model (ROLLBACK_IN_PROGRESS after a failed creation,
    UPDATE_ROLLBACK_IN_PROGRESS after a failed update, IMPORT_ROLLBACK_IN_PROGRESS). The cleanup that follows a
    rollback's updates (UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS) is not. Raises what DescribeStacks raises."""
    stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
    return stack["StackStatus"].endswith("ROLLBACK_IN_PROGRESS")


def settle_by_name(look_up, kind, name, error, context, *, interval):
    """After a create whose answer was lost (``error``, a BotoCoreError): Bedrock may or may not have accepted it, so
    ``look_up(name)`` is asked, every ``interval`` seconds while it cannot be reached, as long as the function has
    time. Returns what it finds, which is this request's; raises a RuntimeError that says what to do otherwise."""
    while remaining_seconds(context) > 2 * CALL_BUDGET_SECONDS:
        try:
            found = look_up(name)
        except BotoCoreError:
            time.sleep(interval)
            continue
        if found is not None:
            LOG.info("Bedrock had accepted the %s %s", kind, name)
            return found
        raise RuntimeError(f"Bedrock did not accept the {kind} {name} ({error}); deploy again to retry.")
    raise RuntimeError(
        f"Bedrock could not be reached to create the {kind} {name} ({error}). Deploy again: the next deploy adopts it "
        "if Bedrock did create it, and creates it otherwise. A stack deleted instead never learns of it: then look for "
        f"the {kind} {name} in Bedrock, as it may exist and bill."
    )


def stage_stack_names(stage):
    """The stage's stacks whose resources release its models or serve them, named as distill/naming.py stack_name
    names them (a test checks the two agree)."""
    return [f"{stage}-distillation-{part}" for part in ("training", "serving")]


def stage_unsettled(cloudformation, stack_id, stage):
    """Whether the request's own stack (``stack_id``) rolls back (``rolling_back``), or another stack of the stage
    rolls back or is stuck in a failed rollback (``*ROLLBACK_FAILED``), which still needs the models it would move
    serving back to once someone continues it. A stage stack that does not exist is settled. Raises what
    DescribeStacks raises otherwise."""
    if rolling_back(cloudformation, stack_id):
        return True
    own = stack_id.split(":stack/", 1)[-1].split("/", 1)[0]
    for other in stage_stack_names(stage):
        if other == own:
            continue
        try:
            status = cloudformation.describe_stacks(StackName=other)["Stacks"][0]["StackStatus"]
        except ClientError as error:
            # A stack that does not exist is a ValidationError "Stack with id <name> does not exist"; the API
            # reference documents no error code for it (boto/boto3 issue 2807 shows the answer, read 2026-12-02).
            if error.response["Error"].get("Code") == "ValidationError" and "does not exist" in str(error):
                continue
            raise
        if status.endswith(("ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED")):
            LOG.info("The stack %s is %s", other, status)
            return True
    return False


def release_stage_models(bedrock, cloudformation, event, name, stage):
    """release_unserved_models for the stage ``stage`` of ``name`` (a job's or a copy's), as every handler that trains,
    copies or serves for the stage runs it after its own work. Returns the ARNs of the models deleted.

    Never while a stack of the stage rolls back or waits in a failed rollback (``stage_unsettled``): a rollback moves
    serving back to the model it served before,
    which may be one tagged to be deleted once unserved and, at that moment, served by nothing (the model lookup is
    rolled back before the throughput whose ModelArn it gives). When the stack's status cannot be read, or the request
    names no stage, nothing is released. A failure is logged, not raised: the models it deletes are not the request's
    own, so a refused or lost answer must not fail the request (the next request tries again)."""
    if not stage:
        LOG.warning("Not releasing the stage's unserved models: the resource's properties name no stage")
        return []
    try:
        if stage_unsettled(cloudformation, event["StackId"], stage):
            LOG.info("Not releasing the stage's unserved models while a stack of the stage rolls back")
            return []
    except (ClientError, BotoCoreError) as error:
        LOG.warning("Not releasing the stage's unserved models: could not read whether the stack rolls back: %s", error)
        return []
    try:
        released = release_unserved_models(bedrock, name_prefix(name), stage)
    except (ClientError, BotoCoreError) as error:
        LOG.warning("Could not release the stage's unserved models: %s", error)
        return []
    for model_arn in released:
        LOG.info("Deleted the custom model %s, which nothing serves any more", model_arn)
    return released


def stage_of(tags_json):
    """The stage that a resource's tags property (``Tags``, ``JobTags``: a ``{"key": "value"}`` map as a JSON string)
    names with STAGE_TAG, or None."""
    return json.loads(tags_json or "{}").get(STAGE_TAG)


class NotTheStages(RuntimeError):
    """A resource found by a name the stack derives that does not carry the stage's STAGE_TAG (``require_stage``)."""


def require_stage(bedrock, kind, name, arn, stage, remedy, *, tags=None):
    """Raise NotTheStages unless the ``kind`` ``arn``, found by the name ``name`` the stack derives for the stage's own
    rather than by the physical id the stack holds, carries STAGE_TAG ``stage``: the only sign that the stage made it.
    Every handler asks before it adopts, retags, moves, stops or deletes what it finds by name. IAM alone does not
    keep it from another team's resource: the handlers may tag a resource that carries no STAGE_TAG yet, as AWS does
    not say whether a create with tags also needs bedrock:TagResource (distill/constructs/bedrock_resource.py
    stage_created), so an untagged resource of that name would otherwise be tagged as the stage's and then be its to
    stop or delete.

    ``tags`` are the resource's tags as Bedrock lists them (``[{"key", "value"}]``) when the caller already has them;
    otherwise ListTagsForResource reads them. ``stage`` is the STAGE_TAG value of the request's tags property
    (``stage_of``). The message names the resource, whose it is by its tags, and what to do: ``remedy``, a sentence
    on freeing the name or making the stage derive another one. Raises what ListTagsForResource raises."""
    if tags is None:
        tags = bedrock.list_tags_for_resource(resourceARN=arn)["tags"]
    found = {tag["key"]: tag["value"] for tag in tags}.get(STAGE_TAG)
    if stage and found == stage:
        return
    owner = f"it is tagged {STAGE_TAG}={found}" if found is not None else f"it has no {STAGE_TAG} tag"
    wanted = (
        f"{STAGE_TAG}={stage}" if stage else f"the {STAGE_TAG} tag of a stage (the resource's properties name none)"
    )
    raise NotTheStages(
        f"The {kind} {arn} has the name {name} that this stage derives for its own, but {owner} rather than "
        f"{wanted}: it is not this stage's, so it is left as it is. {remedy}, then deploy again."
    )


def untag_for_deletion(bedrock, model_arn):
    """A model its job's stack owns again (adopted) is no longer to be deleted once unserved."""
    bedrock.untag_resource(resourceARN=model_arn, tagKeys=[DELETE_WHEN_UNSERVED_TAG])


def name_prefix(name):
    """The part of a name the stack derives (``<stage>-distill-<hash>``, ``<stage>-copy-<hash>``) that every name of
    its kind in the stage shares: all but the hash."""
    return name.rsplit("-", 1)[0] + "-"


def busy_message(kind, arn, status, model):
    return (
        f"The {kind} {arn} is {status} and cannot move to {model} until it is ready. Once Bedrock reports it ready, "
        "deploy again (or, if the stack is in UPDATE_ROLLBACK_FAILED, continue its rollback: aws cloudformation "
        "continue-update-rollback)."
    )


def remaining_seconds(context):
    """Seconds left before Lambda ends this invocation."""
    return context.get_remaining_time_in_millis() / 1000
