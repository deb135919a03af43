"""Read-only checks of a stage's account before a deploy: what would stop the deploy or fail a paid job hours later.

The checks of each model (its teacher and student, model access, inference profile, training data) run for every
model of the stage or the one named; the stage's own (credentials, bootstrap, invocation logging, the job slots its
jobs take, and the model units all its Provisioned Throughputs need together) run once.

Every check reads with the caller's credentials and changes nothing. Each gives a ``Finding``: what was checked,
what was found, and the fix. A finding ``blocks`` when the deploy or the job would fail; it is ``unknown`` when the
account could not tell (a call was refused or failed), and ``warn`` when it works but deserves a look. The command
exits 0 when nothing blocks and everything was known, 1 when something blocks, 2 when it cannot tell.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from distill.config import catalog
from distill.config.serving import model_unit_needs
from distill.config.stages import ModelConfig, StageConfig
from distill.constructs.names import stack_name
from distill.operations.aws_errors import fix_for, unreachable
from distill.operations.status import Clients

OK, WARN, BLOCKS, UNKNOWN = "ok", "warn", "blocks", "unknown"
STATUSES = (OK, WARN, BLOCKS, UNKNOWN)

# The default synthesizer's templates refuse bootstrap versions 1 to 5 (their CheckBootstrapVersion rule; a test
# reads it from the synthesized templates), so the bootstrap stack must be at least this version.
MIN_BOOTSTRAP_VERSION = 6
BOOTSTRAP_STACK = "CDKToolkit"
_ARN_REGION = re.compile(r"arn:aws[a-z-]*:bedrock:([a-z0-9-]+):")


@dataclass(frozen=True)
class Finding:
    """One line of the preflight: ``check`` says what was checked, ``finding`` what the account answered."""

    check: str
    status: str
    finding: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.status:<8} {self.check}: {self.finding}" + (f"; fix: {self.fix}" if self.fix else "")


class PreflightClients(Clients):
    """The clients the preflight reads with, each created on first use."""

    @cached_property
    def sts(self) -> Any:
        return self._client("sts")

    @cached_property
    def service_quotas(self) -> Any:
        return self._client("service-quotas")


def exit_code(findings: Iterable[Finding]) -> int:
    statuses = {finding.status for finding in findings}
    return 1 if BLOCKS in statuses else 2 if UNKNOWN in statuses else 0


def run_checks(
    stage: StageConfig, clients: PreflightClients, models: tuple[ModelConfig, ...] | None = None
) -> list[Finding]:
    """Every check for the stage, in the order a deploy meets them, for ``models`` (default: every model of the
    stage); stops after the credentials if there are none."""
    models = tuple(stage.models.values()) if models is None else models
    identity, account = check_identity(stage, clients)
    if account is None:
        return [identity]
    findings = [identity, *_guarded("the CDK bootstrap stack", lambda: [check_bootstrap(clients, account)])]
    findings += _guarded("invocation logging", lambda: [check_invocation_logging(stage, clients)])
    distilled = [model for model in models if model.distillation is not None]
    if distilled:
        findings += _guarded("the models", lambda: list(check_models(distilled, clients)))
        findings += _guarded("model access", lambda: list(check_access(distilled, clients)))
        for model in distilled:
            if model.distillation is not None and model.distillation.teacher_profile is not None:
                findings += _guarded(
                    f"the inference profile of {model.name}", lambda model=model: [check_profile(stage, model, clients)]
                )
        findings.append(check_job_slots(stage, distilled))
        findings += _guarded("running customization jobs", lambda: [check_jobs(stage, distilled, clients)])
        for model in distilled:
            findings += _guarded(
                f"the training data of {model.name}", lambda model=model: list(check_data(model, clients))
            )
    if any(model.serving is not None for model in stage.models.values()):
        findings += _guarded("model units", lambda: list(check_model_units(stage, clients)))
    return findings


def _guarded(check: str, run: Callable[[], list[Finding]]) -> list[Finding]:
    """Run one check; a call the account refuses or that fails makes it unknown, with the error, not a crash."""
    try:
        return run()
    except (ClientError, BotoCoreError) as error:
        return [Finding(check, UNKNOWN, f"could not be read: {error}", fix_for(error))]


def check_identity(stage: StageConfig, clients: PreflightClients) -> tuple[Finding, str | None]:
    """Whose credentials these are, and the account they are for (None when there are none to use)."""
    try:
        identity = clients.sts.get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        if unreachable(error):
            return Finding("credentials", UNKNOWN, f"could not be checked: {error}", fix_for(error)), None
        return Finding("credentials", UNKNOWN, f"none usable: {error}", fix_for(error)), None
    account = identity["Account"]
    if stage.account is not None and account != stage.account:
        finding = Finding(
            "credentials",
            BLOCKS,
            f"account {account} ({identity['Arn']}), but the stage is account {stage.account}",
            f"use credentials for account {stage.account}",
        )
        return finding, account
    return Finding("credentials", OK, f"account {account} ({identity['Arn']})"), account


def check_bootstrap(clients: PreflightClients, account: str) -> Finding:
    check = f"CDK bootstrap stack {BOOTSTRAP_STACK} in {clients.region}"
    fix = f".venv/bin/npx cdk bootstrap aws://{account}/{clients.region}"
    try:
        (stack,) = clients.cloudformation.describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return Finding(check, BLOCKS, "not found: the account and Region are not bootstrapped", fix)
        raise
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    version = outputs.get("BootstrapVersion", "")
    if not version.isdigit() or int(version) < MIN_BOOTSTRAP_VERSION:
        return Finding(
            check, BLOCKS, f"version {version or '(none)'}; the stacks need {MIN_BOOTSTRAP_VERSION} or later", fix
        )
    return Finding(check, OK, f"version {version} ({stack['StackStatus']})")


def check_invocation_logging(stage: StageConfig, clients: PreflightClients) -> Finding:
    check = f"model invocation logging of {clients.region}"
    if not stage.invocation_logging.enabled:
        return Finding(check, OK, "left alone (invocationLogging.enabled is false)")
    current = clients.bedrock.get_model_invocation_logging_configuration().get("loggingConfig")
    if not current:
        return Finding(check, OK, "none configured; the foundation stack creates the stage's own")
    s3_config = current.get("s3Config") or {}
    where = f"s3://{s3_config['bucketName']}/{s3_config.get('keyPrefix', '')}" if s3_config else "CloudWatch Logs only"
    if _is_stages_own(stage, clients, s3_config):
        return Finding(check, OK, f"the stage's own ({where})")
    if stage.invocation_logging.take_over:
        return Finding(
            check,
            WARN,
            f"another configuration ({where}) will be replaced (takeOver), and put back when the stack is deleted",
        )
    return Finding(
        check,
        BLOCKS,
        f"a configuration the stack did not create ({where}); the foundation stack refuses to overwrite it",
        f"set context.stages.{stage.name}.invocationLogging.takeOver to true (it is saved and restored on delete), "
        "or invocationLogging.enabled to false to keep it and give trainingData.invocationLogs.s3Uri",
    )


def _is_stages_own(stage: StageConfig, clients: PreflightClients, s3_config: dict) -> bool:
    """Whether the configuration writes where the stage's foundation stack does (as the stack's handler judges it)."""
    try:
        (stack,) = clients.cloudformation.describe_stacks(StackName=stack_name(stage.name, "foundation"))["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return False
        raise
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    return (
        s3_config.get("bucketName") == outputs.get("InvocationLogsBucketName")
        and s3_config.get("keyPrefix", "") == stage.invocation_logging.key_prefix
    )


def _roles(models: list[ModelConfig]) -> dict[tuple[str, str], list[str]]:
    """(role, model id) -> the names of the stage's models that use it as teacher or student, each pair once."""
    uses: dict[tuple[str, str], list[str]] = {}
    for model in models:
        distillation = model.distillation
        assert distillation is not None  # the caller passes the models the stage distils
        for role, model_id in (("teacher", distillation.teacher_model), ("student", distillation.student)):
            uses.setdefault((role, model_id), []).append(model.name)
    return uses


def _for(names: list[str]) -> str:
    return f" (for {', '.join(names)})"


def check_models(models: list[ModelConfig], clients: PreflightClients) -> Iterator[Finding]:
    """Each teacher and student exists in the Region and is ACTIVE; each student is offered for distillation."""
    offered = {
        summary["modelId"]
        for summary in clients.bedrock.list_foundation_models(byCustomizationType="DISTILLATION")["modelSummaries"]
    }
    for (role, model_id), names in _roles(models).items():
        check = f"{role} {model_id} in {clients.region}{_for(names)}"
        try:
            details = clients.bedrock.get_foundation_model(modelIdentifier=model_id)["modelDetails"]
        except clients.bedrock.exceptions.ResourceNotFoundException:
            yield Finding(
                check,
                BLOCKS,
                "Bedrock does not offer it in this Region",
                "choose a model the Region offers (aws bedrock list-foundation-models --by-customization-type "
                "DISTILLATION)",
            )
            continue
        status = details.get("modelLifecycle", {}).get("status", "(none)")
        if role == "student" and model_id not in offered:
            yield Finding(
                check,
                BLOCKS,
                f"{status}, but not among the models Bedrock offers for distillation here",
                "choose a student from aws bedrock list-foundation-models --by-customization-type DISTILLATION",
            )
        elif status == catalog.LIFECYCLE_ACTIVE:
            yield Finding(check, OK, "ACTIVE" + (", offered for distillation" if role == "student" else ""))
        elif role == "student":
            yield Finding(
                check,
                BLOCKS,
                f"{status}: Bedrock takes no new customization jobs or Provisioned Throughput for it",
                "choose an ACTIVE student (distill config lists the catalog's)",
            )
        else:
            yield Finding(
                check,
                WARN,
                f"{status}: new customers cannot use it, and existing ones lose access after 15 days without use",
                "choose an ACTIVE teacher before the model's end of life",
            )


def check_access(models: list[ModelConfig], clients: PreflightClients) -> Iterator[Finding]:
    """Model access: the account is authorized, entitled and has accepted the model's agreement, in this Region."""
    for (role, model_id), names in _roles(models).items():
        check = f"access to the {role} {model_id}{_for(names)}"
        answer = clients.bedrock.get_foundation_model_availability(modelId=catalog.base_model_id(model_id))
        missing = []
        if answer["authorizationStatus"] != "AUTHORIZED":
            missing.append(f"authorization {answer['authorizationStatus']}")
        if answer["entitlementAvailability"] != "AVAILABLE":
            missing.append(f"entitlement {answer['entitlementAvailability']}")
        if answer["regionAvailability"] != "AVAILABLE":
            missing.append(f"Region availability {answer['regionAvailability']}")
        agreement = answer["agreementAvailability"]
        if agreement["status"] != "AVAILABLE":
            detail = f" ({agreement['errorMessage']})" if agreement.get("errorMessage") else ""
            missing.append(f"agreement {agreement['status']}{detail}")
        if missing:
            yield Finding(
                check,
                BLOCKS,
                "not granted: " + ", ".join(missing),
                f"request access to the model in the Bedrock console of {clients.region} (Model access) and accept "
                "its terms; a pending agreement takes minutes",
            )
        else:
            yield Finding(check, OK, "granted")


def check_profile(stage: StageConfig, model: ModelConfig, clients: PreflightClients) -> Finding:
    """Every Region the model's teacher's inference profile routes to is one the service role may invoke it in."""
    distillation = model.distillation
    assert distillation is not None and distillation.teacher_profile is not None
    check = f"Regions of the inference profile {distillation.teacher_profile} (for {model.name})"
    profile = clients.bedrock.get_inference_profile(inferenceProfileIdentifier=distillation.teacher_profile)
    arns = [model.get("modelArn", "") for model in profile["models"]]
    routed = list(dict.fromkeys(match[1] for arn in arns if (match := _ARN_REGION.match(arn))))
    missing = [region for region in routed if region not in distillation.teacher_regions]
    if missing:
        return Finding(
            check,
            BLOCKS,
            f"it routes to {', '.join(routed)}; the service role may invoke the model in "
            f"{', '.join(distillation.teacher_regions)} only, so calls routed to {', '.join(missing)} would be denied",
            f"list every Region in context.stages.{stage.name}.models.{model.name}.distillation.teacherRegions: "
            + json.dumps(routed),
        )
    return Finding(check, OK, f"routes to {', '.join(routed)}, all granted to the service role")


def first_wave(stage: StageConfig, distilled: list[ModelConfig]) -> int:
    """How many of the ``distilled`` models' jobs the stacks start at once: at most ``concurrentJobs``, the others
    each as a job ends."""
    return min(len(distilled), stage.concurrent_jobs)


def check_job_slots(stage: StageConfig, distilled: list[ModelConfig]) -> Finding:
    """How the models' jobs take the account's job slots (information: the stacks start them in turn)."""
    count, wave = len(distilled), first_wave(stage, distilled)
    check = f"job slots (concurrentJobs {stage.concurrent_jobs})"
    if count == 1:
        return Finding(check, OK, "1 model distils: its job starts at once")
    if count <= wave:
        return Finding(check, OK, f"{count} models distil: all {count} jobs start at once")
    return Finding(
        check,
        OK,
        f"{count} models distil: the stacks start {wave} jobs at once and the other {count - wave} in turn as jobs "
        "end (a job waits for a slot; the deploy does not fail on the quota)",
    )


def check_jobs(stage: StageConfig, distilled: list[ModelConfig], clients: PreflightClients) -> Finding:
    """Jobs already running in the account take slots the stage's first jobs need: no slot left blocks, fewer than
    the stage's first wave warns (those it starts beyond the quota are refused by Bedrock)."""
    check = f"customization jobs in progress in {clients.region}"
    running = 0
    request: dict[str, Any] = {"statusEquals": "InProgress", "maxResults": 100}
    while True:
        page = clients.bedrock.list_model_customization_jobs(**request)
        running += len(page.get("modelCustomizationJobSummaries", []))
        if not page.get("nextToken"):
            break
        request["nextToken"] = page["nextToken"]
    slots, wave = stage.concurrent_jobs, first_wave(stage, distilled)
    limit = f"concurrentJobs {slots}; AWS's default of 2 is unconfirmed"
    stop = "wait for a job to end or stop one (aws bedrock stop-model-customization-job)"
    if running >= slots:
        return Finding(
            check,
            BLOCKS,
            f"{running}, at the {slots} the account may run at once ({limit}): no slot for the stage's first job",
            f"{stop}, or have AWS support raise the quota and set context.stages.{stage.name}.concurrentJobs",
        )
    if running + wave > slots:
        return Finding(
            check,
            WARN,
            f"{running}, and the stage starts {wave} at once: {running + wave} would run, more than the {slots} the "
            f"account may run ({limit}); Bedrock refuses the jobs beyond it",
            f"{stop}, or set context.stages.{stage.name}.concurrentJobs to {slots - running} while they run",
        )
    return Finding(check, OK, f"{running}, leaving {slots - running} of {slots} slots for the stage's {wave} at once")


def _s3_location(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def check_data(model: ModelConfig, clients: PreflightClients) -> Iterator[Finding]:
    """An ``s3Uri`` dataset of the model exists and is readable; an ``s3Uri`` log location holds objects."""
    data = model.distillation.training_data if model.distillation else None
    if data is None:
        return
    if data.s3_uri is not None:
        bucket, key = _s3_location(data.s3_uri)
        check = f"training data {data.s3_uri} (for {model.name})"
        if not key or key.endswith("/"):
            yield _prefix_finding(check, clients, bucket, key, "a dataset")
            return
        try:
            head = clients.s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            yield _s3_error(check, error)
            return
        yield Finding(check, OK, f"{head['ContentLength']} bytes")
    if data.logs_s3_uri is not None:
        bucket, key = _s3_location(data.logs_s3_uri)
        yield _prefix_finding(
            f"invocation logs {data.logs_s3_uri} (for {model.name})", clients, bucket, key, "invocation logs"
        )


def _prefix_finding(check: str, clients: PreflightClients, bucket: str, prefix: str, what: str) -> Finding:
    try:
        page = clients.s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except ClientError as error:
        return _s3_error(check, error)
    if not page.get("KeyCount"):
        return Finding(check, BLOCKS, "no objects under it", f"give the prefix that holds the {what}")
    return Finding(check, OK, "holds objects")


def _s3_error(check: str, error: ClientError) -> Finding:
    code = error.response.get("Error", {}).get("Code", "")
    if code in ("404", "NoSuchKey", "NoSuchBucket"):
        return Finding(check, BLOCKS, f"does not exist ({code})", "check the bucket and key in cdk.json")
    return Finding(
        check,
        UNKNOWN,
        f"your credentials cannot read it ({code or error})",
        "read it with credentials that may (the stack grants the service role read access to it on deploy)",
    )


def check_model_units(stage: StageConfig, clients: PreflightClients) -> Iterator[Finding]:
    """The Service Quotas the stage's Provisioned Throughputs draw model units from hold at least what they ask
    together (``serving.model_unit_needs``): every throughput of the stage, whichever model a deploy names, as each
    holds its units once deployed."""
    servings = {name: model.serving for name, model in stage.models.items() if model.serving is not None}
    needs = model_unit_needs(servings)
    if not needs:
        modes = ", ".join(f'"{mode}"' for mode in sorted({serving.mode for serving in servings.values()}))
        yield Finding("model units", OK, f"none needed (serving mode {modes})")
        return
    values = {}
    request: dict[str, Any] = {"ServiceCode": "bedrock"}
    while True:
        page = clients.service_quotas.list_service_quotas(**request)
        values.update({quota["QuotaName"]: quota.get("Value", 0) for quota in page.get("Quotas", [])})
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    for need in needs:
        check = f'Service Quota "{need.quota}" in {clients.region}'
        # One throughput's request is its own, as for a stage of one model; several are asked for together.
        if len(need.by_model) == 1:
            request_text, asked = servings[next(iter(need.by_model))].model_unit_request(), f"{need.units}"
        else:
            shares = ", ".join(f"{name} {units}" for name, units in need.by_model.items())
            request_text, asked = need.request(), f"{need.units} together ({shares})"
        if need.quota not in values:
            yield Finding(
                check,
                UNKNOWN,
                "no quota of that name in Service Quotas for Amazon Bedrock",
                "find the model-unit quotas for the model in the Service Quotas console; " + request_text,
            )
        elif values[need.quota] < need.units:
            yield Finding(
                check,
                BLOCKS,
                f"{values[need.quota]:g}, and the stage asks for {asked}",
                f"open a case with AWS support before deploying: {request_text}",
            )
        else:
            yield Finding(check, OK, f"{values[need.quota]:g}, enough for {asked} (other throughputs share it)")
