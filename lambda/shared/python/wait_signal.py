"""Ending a CloudFormation wait condition from a watcher function: one signal, sent while the condition waits.

A wait condition (up to 12 hours) stands in for a custom resource wherever Bedrock takes longer than CloudFormation
lets a custom resource wait (one hour): a distillation job, a Provisioned Throughput becoming InService. A watcher,
invoked by events and a scheduled poll, reads the resource's state and signals the condition's handle, a presigned
S3 URL (AWS CloudFormation user guide, "Create wait conditions in a CloudFormation template", read 2026-11-30).

The poll disables itself once the condition no longer waits. CloudFormation puts a rule back to the state its
template gives on any update of the rule, so a poll can come back after the wait is over; the watcher then asks
CloudFormation whether its condition still waits, and disables the poll again instead of signalling a decided
condition.
"""

import json
import logging
import os
import urllib.error
import urllib.request

import aws_clients
from botocore.exceptions import ClientError

LOG = logging.getLogger()

cloudformation = aws_clients.LazyClient("cloudformation")
events = aws_clients.LazyClient("events")

# The wait condition's Data attribute maps each signal's UniqueId to its Data; one signal, one id.
UNIQUE_ID = "signal"
# A signal goes where a custom-resource response goes, whose body may hold 4096 bytes. Bedrock's failureMessage can
# be 2048 characters: up to 700 of them (at most 4 bytes each in UTF-8) leave room for the rest of the body.
MAX_REASON_LENGTH = 700


def still_waiting():
    """Whether the stack's wait condition still waits for a signal. A condition that does not exist yet (its rules
    fire before CloudFormation creates it) counts as waiting: signals sent to its handle before it exists count."""
    try:
        detail = cloudformation.describe_stack_resource(
            StackName=os.environ["STACK_ID"], LogicalResourceId=os.environ["WAIT_CONDITION"]
        )["StackResourceDetail"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationError":
            return True
        raise
    return detail["ResourceStatus"] == "CREATE_IN_PROGRESS"


def shorten(text):
    return text if len(text) <= MAX_REASON_LENGTH else text[: MAX_REASON_LENGTH - 1] + "…"


def signal(status, reason, data=""):
    """PUT the signal to the wait condition handle, then disable the poll, which has nothing left to watch.

    The presigned URL's signature covers the Content-Type header, signed empty: sending any other (urllib would add
    a form type) makes S3 refuse the signal.
    """
    body = {"Status": status, "Reason": reason, "UniqueId": UNIQUE_ID, "Data": data}
    request = urllib.request.Request(
        os.environ["WAIT_HANDLE_URL"],
        data=json.dumps(body, ensure_ascii=False).encode(),
        method="PUT",
        headers={"Content-Type": ""},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            LOG.info("Signalled %s to the wait condition (HTTP %s): %s", status, response.status, reason)
    except urllib.error.HTTPError as error:
        raise RuntimeError(
            f"The wait condition refused the {status} signal (HTTP {error.code} {error.reason}): its handle URL is "
            f"stale or expired. Deploy the stack again to get a new one."
        ) from error
    stop_polling()


def stop_polling():
    events.disable_rule(Name=os.environ["POLL_RULE_NAME"])
