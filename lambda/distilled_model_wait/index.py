"""EventBridge target: tells the serving stack's wait condition how the distillation job ended.

A job outlives any custom resource, so the serving stack waits on a CloudFormation wait condition (up to 12 hours)
that this function signals. Bedrock's job state-change events for the job's name trigger it, and a slow scheduled
poll too, because event delivery is best effort. Events can also arrive late or out of order, so whatever the
trigger it reads the job's state from Bedrock and acts on that alone: once the job has ended it signals SUCCESS with
the custom model's ARN, or FAILURE with Bedrock's reason (see wait_signal).
"""

import logging
import os

import aws_clients
import request_log
import wait_signal

LOG = logging.getLogger()

bedrock = aws_clients.client("bedrock")

WHEN_BEDROCK_SAYS_NOTHING = {
    "Failed": "Bedrock gave no failure message; the job's page in the Bedrock console may say more",
    "Stopped": "it was stopped before it completed",
}


def watched(event):
    """The ids on the log lines besides the event's: the job's name, and its ARN when the event is its state change
    (a scheduled poll carries none)."""
    return {"jobName": os.environ["JOB_NAME"], "jobArn": (event.get("detail") or {}).get("jobArn")}


@request_log.eventbridge_event(watched)
def handler(event, _context):
    """Signals the wait condition once the job has ended; returns the job's status, or what it did instead."""
    name = os.environ["JOB_NAME"]
    if not wait_signal.still_waiting():
        LOG.info("The wait for %s is over; disabling the poll", name)
        wait_signal.stop_polling()
        return "not waiting"
    job = aws_clients.unless_gone(bedrock.get_model_customization_job, jobIdentifier=name)
    if job is None:
        wait_signal.signal(
            "FAILURE",
            f"No distillation job named {name} exists in this account and Region: deploy the training stack first "
            f"(cdk deploy '<stage>/*' deploys both, in order).",
        )
        return "missing"
    status = job["status"]
    if status == "Completed":
        wait_signal.signal("SUCCESS", f"The distillation job {name} completed.", job["outputModelArn"])
    elif status in WHEN_BEDROCK_SAYS_NOTHING:
        wait_signal.signal("FAILURE", failure_reason(job))
    else:
        LOG.info("The distillation job %s is %s; waiting", name, status)
    return status


def failure_reason(job):
    message = wait_signal.shorten(job.get("failureMessage") or WHEN_BEDROCK_SAYS_NOTHING[job["status"]])
    return (
        f"The distillation job {job['jobName']} ended {job['status']}: {message}. A job cannot be restarted: fix the "
        f"cause, raise distillation.revision in cdk.json (a new job with the same settings), and deploy again."
    )
