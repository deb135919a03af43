"""The AWS clients the handlers call through, with a retry budget that fits inside their functions' timeouts.

Shipped, as every module here, in a Lambda layer (on the runtime's path as /opt/python), so that every handler
imports the one copy; a module here holds only what more than one handler needs.
"""

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

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


def remaining_seconds(context):
    """Seconds left before Lambda ends this invocation: a handler that retries or waits keeps two calls'
    CALL_BUDGET_SECONDS of them for itself."""
    return context.get_remaining_time_in_millis() / 1000


def unless_gone(call, *, gone=("ResourceNotFoundException",), **arguments):
    """``call(**arguments)``, or None when the service no longer knows the resource: one of the error codes ``gone``
    (Bedrock's ResourceNotFoundException by default; SSM says ParameterNotFound)."""
    try:
        return call(**arguments)
    except ClientError as error:
        if error.response["Error"]["Code"] in gone:
            return None
        raise


def pages(call, key, **arguments):
    """Every item under ``key`` of a paginated Bedrock list call (nextToken)."""
    while True:
        page = call(**arguments)
        yield from page[key]
        if not page.get("nextToken"):
            return
        arguments["nextToken"] = page["nextToken"]
