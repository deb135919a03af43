"""EventBridge target: Bedrock customization job state changes, and a completed job's training loss, as metrics.

Every "Model Customization Job State Change" event adds 1 to JobStateChanges (dimensions Stage and State, the job's
status). When a job has completed, its step-wise metrics CSV is read from the stage's job output prefix and each
step becomes a TrainingLoss datum (and a Perplexity datum when the file has that column), followed by one
FinalTrainingLoss datum, all with dimensions Stage and JobName.

CloudWatch needs a timestamp for every datum and the CSV has none, so the steps are spread evenly over the time the
job trained: from the training phase's start to its last change as GetModelCustomizationJob reports them in
statusDetails.trainingDetails, or over the whole job (creationTime to endTime) when it does not report them. A
distillation job spends hours having the teacher answer prompts before training starts, so the whole job would
squeeze the curve into its last part. The curve's x-axis is therefore training time, approximately: it assumes the
steps took equally long. CloudWatch keeps one value a minute for these metrics, so steps that fall within the same
minute show as their statistics (use Average).

A missing or unusable CSV is logged and only the state change is published: retrying would not bring the file.
The loss data go out before the state datum, so an invocation that fails part way and is retried (EventBridge
invokes Lambda asynchronously, which retries twice) repeats loss data, which leaves their averages as they were,
rather than counting one state change twice.
"""

import csv
import io
import logging
import math
import os

import aws_clients
import request_log

LOG = logging.getLogger()

bedrock = aws_clients.LazyClient("bedrock")
s3 = aws_clients.LazyClient("s3")
cloudwatch = aws_clients.client("cloudwatch")

# Where Bedrock writes the step-wise metrics inside a job's output folder (distill/constructs/job_output.py; a test
# checks the two agree).
TRAINING_METRICS_PATH = "training_artifacts/step_wise_training_metrics.csv"
# PutMetricData takes at most 1,000 metrics a call and 1 MB a request; 1,000 data of these names, two dimensions, a
# timestamp and a value come to about a third of that.
MAX_DATA_PER_CALL = 1000


def job_of(event):
    """The ids on the log lines besides the event's: the job whose state changed, by ARN and name."""
    detail = event.get("detail") or {}
    return {"jobArn": detail.get("jobArn"), "jobName": detail.get("jobName")}


@request_log.eventbridge_event(job_of)
def handler(event, _context):
    """Publishes the event's metrics; returns how many data went to CloudWatch."""
    detail = event["detail"]
    stage = os.environ["STAGE"]
    # The event's jobArn may be in a shorter form than the API takes (the documented sample event's is); the name is
    # the job's identity in both.
    data = training_data(detail["jobName"], stage) if detail["jobStatus"] == "Completed" else []
    data.append(datum("JobStateChanges", 1, {"Stage": stage, "State": detail["jobStatus"]}, unit="Count"))
    return put(data)


def training_data(job_name, stage):
    """The completed job's loss (and perplexity) per step and its final loss; empty when there is no usable CSV."""
    job = bedrock.get_model_customization_job(jobIdentifier=job_name)
    steps = read_steps(job["jobArn"])
    if not steps:
        return []
    start, end = training_window(job)
    dimensions = {"Stage": stage, "JobName": job["jobName"]}
    data = []
    for moment, (loss, perplexity) in zip(spread(start, end, len(steps)), steps, strict=True):
        data.append(datum("TrainingLoss", loss, dimensions, timestamp=moment))
        if perplexity is not None:
            data.append(datum("Perplexity", perplexity, dimensions, timestamp=moment))
    data.append(datum("FinalTrainingLoss", steps[-1][0], dimensions, timestamp=end))
    return data


def read_steps(job_arn):
    """(training_loss, perplexity or None) for each row of the job's metrics CSV, or None when it is missing or
    unusable (logged)."""
    bucket, _, prefix = os.environ["OUTPUT_S3_URI"].removeprefix("s3://").partition("/")
    job_id = job_arn.rsplit("/", 1)[-1]
    key = f"{prefix.rstrip('/')}/model-customization-job-{job_id}/{TRAINING_METRICS_PATH}".lstrip("/")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    except s3.exceptions.NoSuchKey:
        LOG.warning("No training metrics at s3://%s/%s; publishing the state change only", bucket, key)
        return None
    try:
        steps = parse_steps(body)
    except ValueError as error:
        LOG.warning("Cannot use s3://%s/%s (%s); publishing the state change only", bucket, key, error)
        return None
    if not steps:
        LOG.warning("s3://%s/%s holds no steps; publishing the state change only", bucket, key)
    return steps


def parse_steps(text):
    """The loss and optional perplexity of each row; raises ValueError naming the first row that has no loss."""
    reader = csv.DictReader(io.StringIO(text), skipinitialspace=True)
    steps = []
    for row in reader:
        try:
            loss = float(row["training_loss"])
            perplexity = float(row["perplexity"]) if row.get("perplexity") else None
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                f"line {reader.line_num} is {row}; expected a number under training_loss (and under perplexity, "
                "when the file has that column)"
            ) from None
        steps.append((loss, perplexity))
    return steps


def training_window(job):
    """When the job trained: the training phase's start and last change, else the whole job."""
    training = (job.get("statusDetails") or {}).get("trainingDetails") or {}
    start, end = training.get("creationTime"), training.get("lastModifiedTime")
    if start and end and end > start:
        return start, end
    return job["creationTime"], job.get("endTime") or job["lastModifiedTime"]


def spread(start, end, count):
    """``count`` moments evenly from start to end, both included; one step is placed at the end."""
    if count == 1:
        return [end]
    return [start + (end - start) * index / (count - 1) for index in range(count)]


def datum(name, value, dimensions, *, timestamp=None, unit="None"):
    entry = {
        "MetricName": name,
        "Dimensions": [{"Name": key, "Value": dimension} for key, dimension in dimensions.items()],
        "Value": value,
        "Unit": unit,
    }
    if timestamp is not None:
        entry["Timestamp"] = timestamp
    return entry


def put(data):
    """Publishes the data in as few calls as PutMetricData allows; returns how many were published."""
    # CloudWatch refuses NaN and infinities, which a diverging training run can log; one would fail the whole call.
    finite = [entry for entry in data if math.isfinite(entry["Value"])]
    for first in range(0, len(finite), MAX_DATA_PER_CALL):
        batch = finite[first : first + MAX_DATA_PER_CALL]
        cloudwatch.put_metric_data(Namespace=os.environ["NAMESPACE"], MetricData=batch)
    return len(finite)
