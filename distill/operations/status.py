"""A stage's deployed models as the `distill` commands read them from AWS: each job, its loss, the served model.

Everything is fetched into a ``Snapshot`` (one model) or a ``StageSnapshot`` (every model of a stage, a line each)
first, and ``render_status`` / ``render_stage_status`` turn it into text without any I/O, so the rendering is tested
for every job state without a terminal or an account. ``Clients`` is the one place the commands create AWS clients,
so tests replace them with stubbed ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from distill.config.reader import ConfigError
from distill.config.stages import ModelConfig, StageConfig, load_stages
from distill.constructs.job_output import TRAINING_METRICS_PATH, job_output_folder
from distill.constructs.names import job_arn_parameter, model_stack_name
from distill.operations.training_metrics_csv import MetricsError, Summary, load_metrics

# Bedrock's control plane throttles at a few requests a second; standard mode retries with backoff.
CLIENT_RETRIES = {"mode": "standard", "max_attempts": 5}

# A distillation job's sub-tasks in the order they run, as GetModelCustomizationJob names them in statusDetails.
PHASES = (
    ("validationDetails", "validation"),
    ("dataProcessingDetails", "data processing"),
    ("trainingDetails", "training"),
)
JOB_ENDED = ("Completed", "Failed", "Stopped")
JOB_PROBLEMS = ("Failed", "Stopping", "Stopped")
# The serving stack's outputs that name the served model, and how Bedrock calls each kind.
SERVED_MODEL_OUTPUTS = {"ProvisionedModelArn": "Provisioned Throughput", "DeploymentArn": "on-demand deployment"}
BAR_SEGMENT = 12
BAR_FILL = {"Completed": "#", "InProgress": ">", "Failed": "x", "Stopping": "-", "Stopped": "-"}


class StageError(Exception):
    """What stops a command before it can show anything; ``exit_code`` is 2 for unusable input, 1 for something
    missing in AWS."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Clients:
    """The AWS clients of one Region, each created on first use, so a command creates only the clients it calls;
    tests wrap them in Stubbers."""

    def __init__(self, region: str | None) -> None:
        self.region = region

    def _client(self, service: str) -> Any:
        # boto3 is imported on the first client: it takes longer to import than the rest of the command.
        import boto3
        from botocore.config import Config

        return boto3.client(service, region_name=self.region, config=Config(retries=CLIENT_RETRIES))

    @cached_property
    def ssm(self) -> Any:
        return self._client("ssm")

    @cached_property
    def bedrock(self) -> Any:
        return self._client("bedrock")

    @cached_property
    def bedrock_runtime(self) -> Any:
        return self._client("bedrock-runtime")

    @cached_property
    def cloudformation(self) -> Any:
        return self._client("cloudformation")

    @cached_property
    def s3(self) -> Any:
        return self._client("s3")


@dataclass(frozen=True)
class Loss:
    """The job's training loss so far, or a note that says where the metrics are and why they cannot be shown."""

    summary: Summary | None = None
    note: str | None = None


@dataclass(frozen=True)
class Serving:
    """The serving stack and the model it serves; ``kind`` is None when the stack serves nothing (yet)."""

    stack: str
    stack_status: str | None = None
    kind: str | None = None
    arn: str | None = None
    status: str | None = None
    failure: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything ``render_status`` shows of one model, fetched at ``taken_at``; ``job`` is
    GetModelCustomizationJob's response."""

    stage: str
    model: str
    region: str
    job: Mapping[str, Any]
    loss: Loss
    serving: Serving
    taken_at: datetime

    @property
    def job_ended(self) -> bool:
        return self.job["status"] in JOB_ENDED

    @property
    def exit_code(self) -> int:
        """1 when the job or the served model has failed or stopped, else 0."""
        return int(self.job["status"] in JOB_PROBLEMS or self.serving.status == "Failed")


@dataclass(frozen=True)
class ModelLine:
    """One model in the stage's status: its job (GetModelCustomizationJob's response), or ``no_job`` saying why it
    has none, and its serving."""

    model: str
    job: Mapping[str, Any] | None
    no_job: str | None
    serving: Serving
    # Whether a missing job is a problem (a training stack not deployed) or the model's nature (a copy).
    job_missing: bool = False

    @property
    def problem(self) -> bool:
        failed = self.job is not None and self.job["status"] in JOB_PROBLEMS
        return failed or self.job_missing or self.serving.status == "Failed"


@dataclass(frozen=True)
class StageSnapshot:
    """Every model of a stage, a line each, fetched at ``taken_at`` (``render_stage_status`` shows it)."""

    stage: str
    region: str
    models: tuple[ModelLine, ...]
    taken_at: datetime

    @property
    def job_ended(self) -> bool:
        """Whether no job of the stage runs any more (a model without a job has nothing to wait for)."""
        return all(line.job is None or line.job["status"] in JOB_ENDED for line in self.models)

    @property
    def exit_code(self) -> int:
        """1 when a model's job has failed or stopped, has not been deployed, or its served model has failed."""
        return int(any(line.problem for line in self.models))


# --- reading --------------------------------------------------------------------------------------------------


def load_stage(cdk_json: Path, name: str) -> StageConfig:
    """The named stage of a cdk.json, parsed as synth parses it; raises ``StageError``."""
    try:
        context = json.loads(cdk_json.read_text())["context"]
    except (OSError, ValueError, KeyError) as error:
        raise StageError(f"cannot read the context of {cdk_json}: {error}") from None
    table = context.get("stages")
    try:
        stages = load_stages(table, base_dir=cdk_json.resolve().parent, only=name)
    except ConfigError as error:
        raise StageError(str(error)) from None
    # load_stages raised unless the table is a non-empty object of stages; the others are named, not parsed.
    if name not in stages:
        raise StageError(f"{cdk_json}: no stage {name!r}; stages: {', '.join(table)}")
    return stages[name]


def read_job_arn(clients: Clients, stage: StageConfig, model: ModelConfig) -> str:
    """The model's current job, as its training stack publishes it in SSM; raises ``StageError`` (exit 1)."""
    name = job_arn_parameter(stage.name, model.name)
    try:
        return clients.ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except clients.ssm.exceptions.ParameterNotFound:
        raise StageError(
            f"the SSM parameter {name} does not exist in {stage.region}: the training stack "
            f"{model_stack_name(stage.name, model.name, 'training')} has not been deployed to this account and "
            "Region. Deploy it, or use credentials for the account it was deployed to",
            exit_code=1,
        ) from None


def serving_stack_outputs(clients: Clients, stage_name: str, model_name: str) -> tuple[str, Mapping[str, str]] | None:
    """The model's serving stack's status and outputs, or None when the stack does not exist."""
    try:
        stack = clients.cloudformation.describe_stacks(StackName=model_stack_name(stage_name, model_name, "serving"))[
            "Stacks"
        ][0]
    except ClientError as error:
        if "does not exist" in error.response["Error"].get("Message", ""):
            return None
        raise
    return stack["StackStatus"], {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def served_model_id(outputs: Mapping[str, str]) -> tuple[str, str] | None:
    """(output name, ARN) of the model the serving stack serves, or None when it serves none."""
    return next(((key, outputs[key]) for key in SERVED_MODEL_OUTPUTS if key in outputs), None)


def served_model_arn(clients: Clients, stage_name: str, model_name: str) -> str:
    """The ARN to send inference to, from the model's serving stack's outputs; raises ``StageError``."""
    described = serving_stack_outputs(clients, stage_name, model_name)
    served = served_model_id(described[1]) if described else None
    if served is None:
        stack = model_stack_name(stage_name, model_name, "serving")
        state = (
            f"is {described[0]} and has no ProvisionedModelArn or DeploymentArn output"
            if described
            else "does not exist"
        )
        raise StageError(
            f"the serving stack {stack} {state}: no model is served; pass the model to use with --student-model"
        )
    return served[1]


def read_serving(clients: Clients, stage_name: str, model_name: str) -> Serving:
    stack = model_stack_name(stage_name, model_name, "serving")
    described = serving_stack_outputs(clients, stage_name, model_name)
    if described is None:
        return Serving(stack)
    stack_status, outputs = described
    served = served_model_id(outputs)
    if served is None:
        return Serving(stack, stack_status)
    output, arn = served
    if output == "ProvisionedModelArn":
        model = clients.bedrock.get_provisioned_model_throughput(provisionedModelId=arn)
    else:
        model = clients.bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
    return Serving(stack, stack_status, SERVED_MODEL_OUTPUTS[output], arn, model["status"], model.get("failureMessage"))


def metrics_uri(job: Mapping[str, Any]) -> str:
    """Where Bedrock writes the job's step-wise training metrics, under the job's output URI."""
    output = job["outputDataConfig"]["s3Uri"].rstrip("/")
    return f"{output}/{job_output_folder(job['jobArn'])}{TRAINING_METRICS_PATH}"


def read_loss(clients: Clients, job: Mapping[str, Any]) -> Loss:
    """The loss summary; a missing, unreadable or malformed file becomes a note, as the job matters more."""
    uri = metrics_uri(job)
    try:
        metrics = load_metrics(uri, clients)
    except FileNotFoundError:
        return Loss(note=f"no metrics yet (Bedrock writes them once training starts): {uri}")
    except (OSError, MetricsError) as error:
        return Loss(note=f"unreadable: {error}")
    return Loss(metrics.summary(), metrics.no_metrics_reason)


def fetch_snapshot(clients: Clients, stage: StageConfig, model: ModelConfig, now: datetime | None = None) -> Snapshot:
    """One model that the stage distils: its job, its loss and its serving; raises ``StageError``."""
    job = clients.bedrock.get_model_customization_job(jobIdentifier=read_job_arn(clients, stage, model))
    return Snapshot(
        stage=stage.name,
        model=model.name,
        region=stage.region,
        job=job,
        loss=read_loss(clients, job),
        serving=read_serving(clients, stage.name, model.name),
        taken_at=now or datetime.now(UTC),
    )


def fetch_stage_snapshot(
    clients: Clients, stage: StageConfig, models: Iterable[ModelConfig], now: datetime | None = None
) -> StageSnapshot:
    """A line for each of ``models`` of the stage: a model whose training stack is not deployed, or that the stage
    copies, is shown without a job rather than stopping the others."""
    lines = []
    for model in models:
        job, no_job, missing = None, None, False
        if model.model_source is not None:
            source = model.model_source
            no_job = f"none in this stage (a copy of model {source.model} of stage {source.copy_from_stage})"
        else:
            try:
                job = clients.bedrock.get_model_customization_job(jobIdentifier=read_job_arn(clients, stage, model))
            except StageError:
                missing = True
                no_job = f"not deployed (no training stack {model_stack_name(stage.name, model.name, 'training')})"
        lines.append(ModelLine(model.name, job, no_job, read_serving(clients, stage.name, model.name), missing))
    return StageSnapshot(stage.name, stage.region, tuple(lines), now or datetime.now(UTC))


# --- rendering ------------------------------------------------------------------------------------------------


def render_status(snapshot: Snapshot) -> str:
    """The snapshot as text for a terminal or a log; a pure function of the snapshot."""
    return "\n".join(
        [
            *_job_lines(snapshot.job, snapshot.taken_at, snapshot.stage, snapshot.model, snapshot.region),
            *_phase_lines(snapshot.job, snapshot.taken_at),
            _loss_line(snapshot.loss, snapshot.job["status"]),
            _serving_line(snapshot.serving),
        ]
    )


def render_stage_status(snapshot: StageSnapshot) -> str:
    """The stage's models, one line each (name, job state, serving state), as text; a pure function."""
    count = len(snapshot.models)
    head = f"stage {snapshot.stage} ({snapshot.region}): {count} model{'s' * (count != 1)}"
    if not snapshot.models:
        return head + "; it deploys its foundation only, with no job or served model"
    width = max(len(line.model) for line in snapshot.models)
    rows = [
        f"{line.model:<{width}}  job {_job_state(line)}; serving {_serving_text(line.serving)}"
        for line in snapshot.models
    ]
    return "\n".join([head, *rows])


def _job_state(line: ModelLine) -> str:
    if line.job is None:
        return line.no_job or "none"
    job = line.job
    details = job.get("statusDetails") or {}
    running = [label for key, label in PHASES if (details.get(key) or {}).get("status") == "InProgress"]
    phase = f" ({running[0]})" if job["status"] == "InProgress" and running else ""
    return f"{job['jobName']} {job['status']}{phase}"


def _job_lines(job: Mapping[str, Any], now: datetime, stage: str, model: str, region: str) -> Iterable[str]:
    yield f"stage      {stage} ({region}), model {model}"
    yield f"job        {job['jobName']}: {job['status']}"
    started = job["creationTime"]
    ended = job.get("endTime")
    if ended:
        yield f"ran        {_time(started)} to {_time(ended)} ({_duration(ended - started)})"
    else:
        yield f"running    since {_time(started)} ({_duration(now - started)} so far)"
    if job.get("failureMessage"):
        yield f"failure    {job['failureMessage']}"
    if job.get("outputModelArn"):
        yield f"model      {job['outputModelArn']}"


def _phase_lines(job: Mapping[str, Any], now: datetime) -> Iterable[str]:
    details = job.get("statusDetails") or {}
    if not details:
        yield "phases     not reported by Bedrock"
        return
    yield f"phases     {phase_bar(details)}"
    for key, label in PHASES:
        phase = details.get(key) or {}
        yield f"  {label:<16} {phase.get('status', 'NotStarted'):<11} {_phase_times(phase, now)}".rstrip()


def phase_bar(details: Mapping[str, Any]) -> str:
    """``[############|>>>>>>>>>>>>|            ] 1 of 3 phases done``: one segment a phase, filled by its status."""
    statuses = [(details.get(key) or {}).get("status", "NotStarted") for key, _ in PHASES]
    segments = "|".join(BAR_FILL.get(status, " ") * BAR_SEGMENT for status in statuses)
    done = statuses.count("Completed")
    return f"[{segments}] {done} of {len(PHASES)} phases done"


def _phase_times(phase: Mapping[str, Any], now: datetime) -> str:
    started = phase.get("creationTime")
    if started is None:
        return ""
    if phase.get("status") == "InProgress":
        return f"since {_time(started)} ({_duration(now - started)})"
    changed = phase.get("lastModifiedTime", started)
    return f"{_time(started)} to {_time(changed)} ({_duration(changed - started)})"


def _loss_line(loss: Loss, job_status: str) -> str:
    if loss.summary is None:
        return f"loss       {loss.note}"
    summary = loss.summary
    which = "final" if job_status == "Completed" else "latest"
    return (
        f"loss       {which} {summary.final_loss:.4f} at step {summary.last_step} (epoch {summary.last_epoch}); "
        f"first {summary.first_loss:.4f}, lowest {summary.min_loss:.4f} at step {summary.min_loss_step}"
    )


def _serving_line(serving: Serving) -> str:
    return f"serving    {_serving_text(serving)}"


def _serving_text(serving: Serving) -> str:
    if serving.stack_status is None:
        return f"not deployed (no stack {serving.stack})"
    if serving.kind is None:
        return f"no model served yet (stack {serving.stack} is {serving.stack_status})"
    failure = f": {serving.failure}" if serving.failure else ""
    return f"{serving.kind} {serving.status}{failure} ({serving.arn})"


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(span: timedelta) -> str:
    seconds = max(int(span.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return " ".join(f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if value) or "0s"
