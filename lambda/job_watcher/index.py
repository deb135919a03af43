"""EventBridge target: tells the serving stack's wait condition how the distillation job ended.

A job outlives any custom resource, so the serving stack waits on a CloudFormation wait condition (up to 12 hours)
that this function signals. Bedrock's job state-change events trigger it, and a slow scheduled poll too, because
event delivery is best effort. Events can also arrive late or out of order, so whatever the trigger it reads the
job's state from Bedrock and acts on that alone: once the job has ended it signals SUCCESS with the custom model's
ARN, or FAILURE with Bedrock's reason, and then disables the poll, which has nothing left to watch.
"""

import json
import logging
import os
import urllib.error
import urllib.request

import custom_resource

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

bedrock = custom_resource.client("bedrock")
events = custom_resource.client("events")

# The wait condition's Data attribute maps each signal's UniqueId to its Data; one signal, one id.
UNIQUE_ID = "distilled-model"
# A signal goes where a custom-resource response goes (a presigned S3 URL, read by CloudFormation), whose body may
# hold 4096 bytes. Bedrock's failureMessage can be 2048 characters: up to 700 of them (at most 4 bytes each in UTF-8)
# leave room for the sentence around them and the rest of the body.
MAX_FAILURE_MESSAGE_LENGTH = 700
WHEN_BEDROCK_SAYS_NOTHING = {
    "Failed": "Bedrock gave no failure message; the job's page in the Bedrock console may say more",
    "Stopped": "it was stopped before it completed",
}


def handler(event, _context):
    """Signals the wait condition once the job has ended; returns the job's status, or None for another job's event."""
    job_arn = os.environ["JOB_ARN"]
    reported_job = event.get("detail", {}).get("jobArn")
    if reported_job and reported_job != job_arn:
        LOG.info("Ignoring an event about another job, %s", reported_job)
        return None
    job = bedrock.get_model_customization_job(jobIdentifier=job_arn)
    status = job["status"]
    if status == "Completed":
        signal("SUCCESS", f"The distillation job {job['jobName']} completed.", job["outputModelArn"])
    elif status in WHEN_BEDROCK_SAYS_NOTHING:
        signal("FAILURE", failure_reason(job), "")
    else:
        LOG.info("The distillation job %s is %s; waiting", job["jobName"], status)
        return status
    events.disable_rule(Name=os.environ["POLL_RULE_NAME"])
    return status


def failure_reason(job):
    message = job.get("failureMessage") or WHEN_BEDROCK_SAYS_NOTHING[job["status"]]
    if len(message) > MAX_FAILURE_MESSAGE_LENGTH:
        message = message[: MAX_FAILURE_MESSAGE_LENGTH - 1] + "…"
    return (
        f"The distillation job {job['jobName']} ended {job['status']}: {message}. Start a new job from the training "
        f"stack, then deploy this stack again."
    )


def signal(status, reason, data):
    """PUTs the signal to the wait condition handle, a presigned S3 URL.

    Its signature covers the Content-Type header, signed empty: sending any other (urllib would add a form type)
    makes S3 refuse the signal.
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
            f"stale or expired. Deploy the serving stack again to get a new one."
        ) from error
