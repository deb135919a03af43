"""Where a distillation job's output lands in S3: the one home of that layout, for the stacks, the metrics
publisher's permissions and the `distill` commands (no CDK imports, so the commands start fast).

Bedrock writes a job's output under the job's OutputDataConfig s3Uri, in a folder named
``model-customization-job-<job id>/`` (the id is the job ARN's last part), with the step-wise training metrics at
``training_artifacts/step_wise_training_metrics.csv`` inside it (Bedrock user guide, model-customization-analyze.html,
"Analyze the results of a model customization job", https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-analyze.html,
read 2026-12-02). lambda/training_metrics_publisher cannot import this package and repeats the layout; a handler
test checks that the two agree.
"""

from __future__ import annotations

# The jobs' output goes under this prefix of the output bucket.
OUTPUT_PREFIX = "distillation-output/"
JOB_FOLDER_PREFIX = "model-customization-job-"
TRAINING_METRICS_PATH = "training_artifacts/step_wise_training_metrics.csv"


def job_id(job_arn: str) -> str:
    """The id Bedrock gave a job: its ARN's last part (an id is returned unchanged)."""
    return job_arn.rsplit("/", 1)[-1]


def job_output_folder(job_arn_or_id: str) -> str:
    """``model-customization-job-<id>/``: a job's folder under the output prefix."""
    return f"{JOB_FOLDER_PREFIX}{job_id(job_arn_or_id)}/"


def metrics_location(output_s3_uri: str, job_id: str) -> str:
    """The step-wise training metrics of the job ``job_id`` (a literal or a CloudFormation token) under
    ``output_s3_uri`` (the job's output URI, ending with a slash)."""
    return f"{output_s3_uri}{JOB_FOLDER_PREFIX}{job_id}/{TRAINING_METRICS_PATH}"
