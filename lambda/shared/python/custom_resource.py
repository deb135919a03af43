"""What the Bedrock distillation handlers share: request identity, names, the model to serve, and waiting for it.

Shipped as a Lambda layer (on the runtime's path as /opt/python) so that every handler imports the one copy. It
holds only what more than one handler needs; each handler keeps its own lifecycle.
"""

import hashlib
import json
import logging
import re
import time

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

LOG = logging.getLogger()

# Bedrock's control-plane APIs have low request-rate quotas, and CloudFormation runs several of these handlers at
# once. Standard mode retries throttling (and transient errors) with jittered exponential backoff capped at 20 s; if
# all 8 attempts are throttled, the waits add up to about 46 s on average and 71 s at most, within a handler's timeout.
CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 8})
# One session for all of a handler's clients: each session loads the endpoint data again.
SESSION = botocore.session.get_session()

# Every Bedrock name these handlers create (job, custom model, provisioned model, deployment) allows 63 characters.
NAME_MAX_LENGTH = 63
# Twelve hex digits of the request token: unique per request, and short enough to leave room for the prefix.
NAME_SUFFIX_LENGTH = 12
# Where Bedrock's job-name and model-name patterns meet: letters and digits joined by single hyphens.
NAME_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")


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


def request_token(event):
    """The clientRequestToken for whatever this CloudFormation request starts.

    CloudFormation retries a request with the same RequestId, so a retried Create yields the same token and Bedrock's
    idempotency hands back the job or throughput it already started instead of starting a second, paid one. Any new
    request (an Update that replaces, a Create after a delete) yields a new token. Hex digits fit the token pattern.
    """
    identity = "\n".join((event["StackId"], event["LogicalResourceId"], event["RequestId"]))
    return hashlib.sha256(identity.encode()).hexdigest()


def unique_name(prefix, token, max_length):
    """`<prefix>-<12 hex digits of token>`, cut to max_length: a valid name for a job, a custom model, a provisioned
    model and a deployment alike.

    Bedrock names must be unique in the account, so each request gets its own; deriving it from the request token
    gives a retried request the same name, as its token is the same too.
    """
    if not NAME_PREFIX_PATTERN.fullmatch(prefix):
        raise ValueError(
            f"The name prefix {prefix!r} is not usable in Bedrock names: use letters and digits joined by single "
            f"hyphens, for example 'support-assistant'."
        )
    suffix = token[:NAME_SUFFIX_LENGTH]
    return f"{prefix[: max_length - len(suffix) - 1].rstrip('-')}-{suffix}"


def is_arn(physical_id):
    """Whether a physical id names something Bedrock made; a Create that failed before it got one leaves a placeholder
    (the Provider framework's CREATE_FAILED marker), which there is nothing to delete for."""
    return physical_id.startswith("arn:")


def model_arn(bedrock, properties):
    """The custom model to serve: `ModelArn` when given, else the model that the job `JobArn` produced."""
    if properties.get("ModelArn"):
        return properties["ModelArn"]
    job = bedrock.get_model_customization_job(jobIdentifier=properties["JobArn"])
    if job["status"] == "Completed":
        return job["outputModelArn"]
    if job["status"] == "InProgress":
        next_step = "Deploy this stack again once the job has completed."
    else:
        reason = f" ({job['failureMessage']})" if job.get("failureMessage") else ""
        next_step = f"It will not produce one{reason}: start a new job from the training stack, then deploy again."
    raise RuntimeError(
        f"The distillation job {job['jobName']} is {job['status']}; its model does not exist yet. {next_step}"
    )


def tag_list(tags_json):
    """Bedrock's `[{"key", "value"}]` tags from the `{"key": "value"}` map a stack passes as a JSON string."""
    return [{"key": key, "value": value} for key, value in json.loads(tags_json or "{}").items()]


def started_at():
    """Now, in epoch seconds as CloudFormation carries values (a string): when waiting for a resource began."""
    return str(int(time.time()))


def wait_until_ready(event, *, kind, ready_status, arn_key, name_key, describe, delete):
    """The Provider framework's is_complete for a Bedrock resource that becomes ready, or goes away, in the background
    (a Provisioned Throughput, a custom model deployment).

    `describe(arn)` returns Bedrock's description of the resource, or None once it is gone; `delete(arn)` deletes it.
    Create and Update complete once the resource reaches `ready_status`, with Data {arn_key, ModelArn}. A resource
    that fails, or is not ready `GiveUpAfterSeconds` after `StartedAt`, fails the request; if this request created it,
    it is deleted first, as no Delete follows a failed Create and a failed replacement would be left behind billing.
    One that this request did not create (an Update that kept it) is never deleted here. Delete completes once Bedrock
    no longer knows the resource, so a stack deletion ends only when the billing has.
    """
    arn = event["PhysicalResourceId"]
    if event["RequestType"] == "Delete":
        return {"IsComplete": not is_arn(arn) or describe(arn) is None}
    resource = describe(arn)
    if resource is None:
        raise RuntimeError(f"The {kind} {arn} was deleted while it was being created. Deploy again to create it anew.")
    status = resource["status"]
    if status == ready_status:
        return {"IsComplete": True, "Data": {arn_key: arn, "ModelArn": resource["modelArn"]}}
    properties = event["ResourceProperties"]
    give_up_after = int(properties["GiveUpAfterSeconds"])
    if status == "Failed":
        problem = f"The {kind} {arn} failed: {resource.get('failureMessage') or 'Bedrock gave no reason'}"
    elif time.time() - int(event["Data"]["StartedAt"]) > give_up_after:
        problem = f"The {kind} {arn} did not reach {ready_status} within {give_up_after / 60:g} minutes"
    else:
        LOG.info("The %s %s is %s", kind, arn, status)
        return {"IsComplete": False}
    if resource[name_key] != unique_name(properties["NamePrefix"], request_token(event), NAME_MAX_LENGTH):
        raise RuntimeError(
            f"{problem}. This deployment did not create it, so it was left as it is; check it in Bedrock."
        )
    try:
        delete(arn)
    except ClientError as error:
        raise RuntimeError(
            f"{problem}. Deleting it failed too ({error}): delete it by hand so that it does not bill, then deploy "
            f"again to retry."
        ) from error
    raise RuntimeError(f"{problem}; it was deleted so that it does not bill; deploy again to retry.")


class ServingLifecycle:
    """on_event and is_complete for a resource that serves a model and bills while it exists (a Provisioned
    Throughput, a custom model deployment); a handler supplies only the Bedrock calls that differ.

    - ``create(event, model) -> arn`` starts the resource for this request.
    - ``describe(arn) -> dict | None`` is Bedrock's description, None once the resource is gone.
    - ``remove(arn)`` deletes it.
    - ``serves(current, properties, model) -> bool`` says whether the live resource already is what the properties
      ask for. Update compares with the live resource rather than the old properties: an Update that CloudFormation
      sends to roll back a failed one then keeps the resource that still serves, and one that failed or vanished is
      replaced (a new physical id, so CloudFormation deletes the old).
    """

    def __init__(self, bedrock, *, kind, ready_status, arn_key, name_key, create, describe, remove, serves):
        self.bedrock = bedrock
        self.kind = kind
        self.ready_status = ready_status
        self.arn_key = arn_key
        self.name_key = name_key
        self.create = create
        self.describe = describe
        self.remove = remove
        self.serves = serves

    def on_event(self, event, _context):
        """Provider framework entry point: Create, Update and Delete."""
        properties = event["ResourceProperties"]
        LOG.info("%s %s", event["RequestType"], json.dumps(properties))
        arn = event.get("PhysicalResourceId", "")
        if event["RequestType"] == "Delete":
            if is_arn(arn):
                self.remove(arn)
            return {"PhysicalResourceId": arn}
        model = model_arn(self.bedrock, properties)
        if event["RequestType"] == "Update":
            current = self.describe(arn)
            if current is not None and current["status"] != "Failed" and self.serves(current, properties, model):
                return self._waiting_for(arn, model)
        arn = self.create(event, model)
        LOG.info("Created the %s %s", self.kind, arn)
        return self._waiting_for(arn, model)

    def is_complete(self, event, _context):
        """Provider framework entry point: polled until the resource is ready, or gone after a Delete."""
        return wait_until_ready(
            event,
            kind=self.kind,
            ready_status=self.ready_status,
            arn_key=self.arn_key,
            name_key=self.name_key,
            describe=self.describe,
            delete=self.remove,
        )

    def _waiting_for(self, arn, model):
        return {"PhysicalResourceId": arn, "Data": {self.arn_key: arn, "ModelArn": model, "StartedAt": started_at()}}


def unless_gone(call, **arguments):
    """``call(**arguments)``, or None when Bedrock no longer knows the resource (ResourceNotFoundException)."""
    try:
        return call(**arguments)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
