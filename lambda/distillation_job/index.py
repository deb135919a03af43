"""Custom resource handler: a Bedrock model distillation job, started by CloudFormation and left to run.

A job runs for hours and a custom resource may wait one hour at most, so Create returns as soon as Bedrock has
accepted the job; the serving stack waits for its model. The job's name (JobName, derived by the stack from
everything that defines the job) is its identity:

- Create and Update first look the job up by that name and adopt it when it exists. A retried request, a rollback
  (CloudFormation's second Update with the previous properties) and a redeployed stack therefore get back the job
  they describe instead of starting and paying for another; only a name Bedrock does not know starts a new job. A
  job of that name is adopted only if it carries the stage's tag (stage_ownership.require_stage): another team's job
  fails the request and runs on untouched.
- A new name on Update is a new job (a new physical id); CloudFormation then deletes the old one in its cleanup,
  which stops it if it still runs. Tags do not define the job and are applied in place.
- Delete stops a running job. A completed job's custom model is kept unless RetainModelOnDelete is "false"; then it
  is deleted, or, while a Provisioned Throughput still serves it, tagged so that the serving stack deletes it once
  it has moved off it.

Two waits fit inside the function's timeout: right after a role or policy is created, Bedrock may not yet see the
permissions ("Could not validate GetObject permissions..."), and a Create whose answer is lost leaves its outcome
unknown. Both are retried until a call budget before the timeout; a lost answer is resolved by looking the job up by
name.
"""

import json
import logging
import time

import aws_clients
import lost_answers
import model_release
import request_log
import resource_identity
import stack_rollback
import stage_ownership
from botocore.exceptions import BotoCoreError, ClientError

LOG = logging.getLogger()

bedrock = aws_clients.client("bedrock")
ssm = aws_clients.LazyClient("ssm")
cloudformation = aws_clients.LazyClient("cloudformation")

# Bedrock's answer while IAM has not propagated the service role's new permissions (user guide, "Troubleshooting
# model customization issues", read 2026-11-30: "Could not validate GetObject permissions to access Amazon S3
# bucket"). IAM changes are eventually consistent and usually visible within seconds to a minute.
PROPAGATION_MESSAGES = ("could not validate", "not authorized to perform", "is not authorized")
FIRST_RETRY_DELAY = 5
MAX_RETRY_DELAY = 60
# Statuses of a job that will not produce a model.
ENDED_WITHOUT_MODEL = ("Failed", "Stopped", "Stopping")
# What to do when a job of the stage's name is not the stage's: a job can be neither deleted nor renamed.
NOT_THE_STAGES_REMEDY = (
    "A job's name stays taken once the job has ended, and a job cannot be deleted or renamed: raise "
    "distillation.revision in cdk.json, so that the stage derives another name for its job"
)


@request_log.cloudformation_request
def on_event(event, context):
    """Provider framework entry point: Create, Update and Delete each get one function."""
    LOG.info("%s %s (%s)", event["RequestType"], event["LogicalResourceId"], event.get("PhysicalResourceId", ""))
    if event["RequestType"] == "Delete":
        answered = delete(event, context)
        properties = event["ResourceProperties"]
        model_release.release_stage_models(
            bedrock, cloudformation, event, properties["JobName"], stage_ownership.stage_of(properties.get("JobTags"))
        )
        return answered
    answered = create(event, context) if event["RequestType"] == "Create" else update(event, context)
    publish(event["ResourceProperties"], answered["PhysicalResourceId"])
    return answered


def publish(properties, job_arn):
    """The stage's current job, for `distill status`, in the SSM parameter JobArnParameterName. The handler writes it
    rather than a stack resource, so that nothing in the training stack can fail after the job started: a stack
    rollback would stop the paid job for a reason that has nothing to do with it."""
    try:
        ssm.put_parameter(
            Name=properties["JobArnParameterName"],
            Value=job_arn,
            Type="String",
            Overwrite=True,
            Description="ARN of the stage's current distillation job",
        )
    except (ClientError, BotoCoreError) as error:
        # Failing here would fail the Create of a job Bedrock has started, and the Provider framework sends no
        # Delete after a failed Create: the paid job would run with nothing holding it.
        LOG.warning(
            "Could not publish the job %s in %s (%s); `distill status` cannot find it until a deploy publishes it",
            job_arn,
            properties["JobArnParameterName"],
            error,
        )


def unpublish(properties, job_arn):
    """Forget the published job only if it is this one: a replaced job's Delete comes after its successor's Create."""
    name = properties.get("JobArnParameterName")
    if not name:
        return
    published = aws_clients.unless_gone(ssm.get_parameter, gone=("ParameterNotFound",), Name=name)
    if published is not None and published["Parameter"]["Value"] == job_arn:
        aws_clients.unless_gone(ssm.delete_parameter, gone=("ParameterNotFound",), Name=name)


def create(event, context):
    properties = event["ResourceProperties"]
    job = find_job(properties["JobName"])
    if job is None:
        return answer(start_job(properties, context))
    require_stage(properties, job)
    refuse_if_unusable(job)
    LOG.info("Adopting the distillation job %s (%s), which already exists", job["jobName"], job["status"])
    resource_identity.retag(bedrock, job["jobArn"], properties.get("JobTags"), None)
    reclaim(job)
    return answer(job)


def reclaim(job):
    """A completed job adopted again owns its model again: it is no longer to be deleted once unserved."""
    if job.get("outputModelArn"):
        model_release.untag_for_deletion(bedrock, job["outputModelArn"])


def update(event, context):
    properties, old = event["ResourceProperties"], event["OldResourceProperties"]
    job = find_job(properties["JobName"])
    if job is None:
        return answer(start_job(properties, context))
    if job["jobArn"] != event["PhysicalResourceId"]:
        # A rollback, or a return to settings that already ran: the job they describe exists, so it is kept as it
        # is. A job of those settings that cannot produce a model is adopted only by a rollback, which must restore
        # what was; an update asked for by the user is refused, before its cleanup stops the job that runs now.
        require_stage(properties, job)
        if not stack_rollback.rolling_back(cloudformation, event["StackId"]):
            refuse_if_unusable(job)
        LOG.info("Adopting the distillation job %s (%s), which already exists", job["jobName"], job["status"])
        reclaim(job)
    stop_stray(event, job["jobArn"])
    resource_identity.retag(bedrock, job["jobArn"], properties.get("JobTags"), old.get("JobTags"))
    if job.get("outputModelArn"):
        resource_identity.retag(
            bedrock, job["outputModelArn"], properties.get("CustomModelTags"), old.get("CustomModelTags")
        )
    return answer(job)


def stop_stray(event, kept):
    """A job the failed forward Update started that the stack never learnt of (its answer lost past the handler's
    time) would run unowned after the rollback: the job named by the OldResourceProperties is stopped when it runs,
    is neither the one the stack holds nor the one kept, and carries the stage's tag."""
    old_name = event["OldResourceProperties"].get("JobName")
    if not old_name or old_name == event["ResourceProperties"]["JobName"]:
        return
    stray = find_job(old_name)
    if stray is None or stray["status"] != "InProgress" or stray["jobArn"] in (event["PhysicalResourceId"], kept):
        return
    try:
        require_stage(event["OldResourceProperties"], stray)
    except stage_ownership.NotTheStages as refusal:
        # Failing here would fail the request (in a rollback, leaving the stack in UPDATE_ROLLBACK_FAILED) for a
        # job that is not the stage's; it is only not stopped.
        LOG.warning("Not stopping the distillation job named %s: %s", old_name, refusal)
        return
    bedrock.stop_model_customization_job(jobIdentifier=stray["jobArn"])
    LOG.info("Stopped the distillation job %s, which a failed update started and nothing holds", stray["jobArn"])


def find_job(name):
    """Bedrock's description of the job named ``name``, or None when there is none."""
    return aws_clients.unless_gone(bedrock.get_model_customization_job, jobIdentifier=name)


def require_stage(properties, job):
    """stage_ownership.require_stage for a job found by name, against the stage of the properties' JobTags."""
    stage = stage_ownership.stage_of(properties.get("JobTags"))
    stage_ownership.require_stage(
        bedrock, "distillation job", job["jobName"], job["jobArn"], stage, NOT_THE_STAGES_REMEDY
    )


def refuse_if_unusable(job):
    """A new stack resource may adopt a job that runs or completed with its model; one that ended without a model (or
    whose model was deleted) cannot be restarted, and a name is used once, so the settings need a new revision."""
    reason = None
    if job["status"] in ENDED_WITHOUT_MODEL:
        reason = f"ended {job['status']}" + (f" ({job['failureMessage']})" if job.get("failureMessage") else "")
    elif job["status"] == "Completed" and not model_exists(job["outputModelArn"]):
        reason = "completed, but its custom model has since been deleted"
    if reason:
        raise RuntimeError(
            f"The distillation job {job['jobName']} for these settings {reason}. A job cannot be restarted: raise "
            f"distillation.revision in cdk.json (it names a new job with the same settings) and deploy again."
        )


def model_exists(model_arn):
    return aws_clients.unless_gone(bedrock.get_custom_model, modelIdentifier=model_arn) is not None


def start_job(properties, context):
    """Start the job, retrying while IAM propagates; an unknown outcome is settled by looking the job up by name."""
    name = properties["JobName"]
    request = job_request(properties)
    delay = FIRST_RETRY_DELAY
    while True:
        try:
            job_arn = bedrock.create_model_customization_job(**request)["jobArn"]
        except ClientError as error:
            code, message = error.response["Error"]["Code"], error.response["Error"].get("Message", "")
            existing = find_job(name) if code == "ConflictException" else None
            if existing is not None:
                require_stage(properties, existing)
                return existing
            propagating = code == "ValidationException" and any(m in message.lower() for m in PROPAGATION_MESSAGES)
            if not propagating or aws_clients.remaining_seconds(context) < delay + 2 * aws_clients.CALL_BUDGET_SECONDS:
                raise RuntimeError(refusal(name, code, message, propagating)) from error
            LOG.info("Bedrock cannot see the permissions yet (%s); retrying in %d s", message, delay)
            time.sleep(delay)
            delay = min(2 * delay, MAX_RETRY_DELAY)
            continue
        except BotoCoreError as error:
            found = lost_answers.settle_by_name(
                find_job, "distillation job", name, error, context, interval=FIRST_RETRY_DELAY
            )
            require_stage(properties, found)
            return found
        LOG.info("Bedrock accepted the distillation job %s (%s)", name, job_arn)
        return {"jobArn": job_arn, "jobName": name, "outputModelName": name, "status": "InProgress"}


def refusal(name, code, message, propagating):
    if propagating:
        return (
            f"Bedrock refused the distillation job {name}: {message} ({code}), still after waiting for the role's "
            "permissions to propagate. Check that the service role may read the training data and write the output "
            "location, that its trust policy allows bedrock.amazonaws.com, and that the KMS key allows the role."
        )
    return f"Bedrock refused the distillation job {name}: {message} ({code})."


def job_request(properties):
    name = properties["JobName"]
    request = {
        "jobName": name,
        "customModelName": name,
        # Names are used once, so the name alone identifies this request to Bedrock's idempotency.
        "clientRequestToken": resource_identity.token(name),
        "roleArn": properties["RoleArn"],
        "baseModelIdentifier": properties["StudentModelIdentifier"],
        "customizationType": "DISTILLATION",
        "customizationConfig": {
            "distillationConfig": {
                "teacherModelConfig": {
                    "teacherModelIdentifier": properties["TeacherModelIdentifier"],
                    "maxResponseLengthForInference": int(properties["MaxResponseLengthForInference"]),
                }
            }
        },
        "trainingDataConfig": json.loads(properties["TrainingDataConfig"]),
        "outputDataConfig": {"s3Uri": properties["OutputS3Uri"]},
        "customModelKmsKeyId": properties["CustomModelKmsKeyId"],
        "jobTags": resource_identity.tag_list(properties.get("JobTags")),
        "customModelTags": resource_identity.tag_list(properties.get("CustomModelTags")),
    }
    if properties.get("VpcConfig"):
        request["vpcConfig"] = json.loads(properties["VpcConfig"])
    return request


def answer(job):
    return {
        "PhysicalResourceId": job["jobArn"],
        "Data": {
            "JobArn": job["jobArn"],
            "JobName": job["jobName"],
            "CustomModelName": job["outputModelName"],
            "Status": job["status"],
        },
    }


def delete(event, context):
    job_arn = event["PhysicalResourceId"]
    if not resource_identity.is_arn(job_arn):
        return {"PhysicalResourceId": job_arn}
    job = aws_clients.unless_gone(bedrock.get_model_customization_job, jobIdentifier=job_arn)
    if job is None:
        LOG.info("The distillation job %s is already gone", job_arn)
        unpublish(event["ResourceProperties"], job_arn)
        return {"PhysicalResourceId": job_arn}
    retain_model = str(event["ResourceProperties"].get("RetainModelOnDelete", "true")).lower() != "false"
    if job["status"] == "InProgress":
        try:
            bedrock.stop_model_customization_job(jobIdentifier=job_arn)
        except ClientError as error:
            # It may have ended between the two calls; only a job still in progress is a problem.
            again = find_job(job["jobName"])
            if again is not None and again["status"] == "InProgress":
                raise RuntimeError(f"Could not stop the distillation job {job_arn}: {error}") from error
        LOG.info("Stopped the distillation job %s", job_arn)
    elif job["status"] == "Completed" and not retain_model:
        outcome = model_release.delete_model_unless_served(bedrock, job["outputModelArn"], context)
        LOG.info("The custom model %s of %s: %s", job["outputModelArn"], job["jobName"], outcome)
    else:
        LOG.info("The distillation job %s is %s; nothing to stop or delete", job_arn, job["status"])
    unpublish(event["ResourceProperties"], job_arn)
    return {"PhysicalResourceId": job_arn}
