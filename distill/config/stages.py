"""The app's configuration: the stages in cdk.json context, parsed once into frozen dataclasses.

app.py calls ``load_app`` with the CDK context; everything below it receives typed, validated settings as
keyword arguments and never reads context or the environment itself.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from distill.config import catalog
from distill.config.distillation import DistillationConfig, parse_distillation
from distill.config.promotion import (
    ModelSource,
    PipelineConfig,
    PromotionStage,
    check_model_source,
    parse_model_source,
    parse_pipeline,
)
from distill.config.reader import ConfigError, Reader, show
from distill.config.serving import (
    CommittedServing,
    ServingConfig,
    check_commitment_budget,
    check_stage_commitments,
    parse_serving,
)
from distill.constructs.names import (
    COMPLIANCE_PACKS,
    MAX_MODEL_PREFIX,
    MODEL_TAG_RESERVED,
    STAGE_TAG_RESERVED,
    model_prefix,
)

# The CDK context key that holds the stages.
STAGES_KEY = "stages"


REMOVAL_POLICIES = ("retain", "destroy")


@cache
def bedrock_regions() -> tuple[str, ...]:
    """The Regions of the aws partition where Bedrock has an endpoint, from the pinned botocore's endpoint data.

    Read from the data file itself, offline and without importing boto3 (a session costs a third of a second, which
    every `distill` command would pay); the list is the one ``Session().get_available_regions("bedrock")`` returns,
    and it moves with the botocore pin.
    """
    botocore = importlib.util.find_spec("botocore")
    assert botocore is not None and botocore.origin is not None  # a pinned runtime dependency
    endpoints = json.loads((Path(botocore.origin).parent / "data" / "endpoints.json").read_text())
    aws = next(partition for partition in endpoints["partitions"] if partition["partition"] == "aws")
    return tuple(name for name in aws["services"]["bedrock"]["endpoints"] if name in aws["regions"])


def __getattr__(name: str) -> Any:
    # BEDROCK_REGIONS is read on first use, so importing this module reads no endpoint data.
    if name == "BEDROCK_REGIONS":
        return bedrock_regions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Stage names prefix stack, job and model names; Bedrock's name patterns allow no doubled or trailing hyphen.
STAGE_NAME_PATTERN = r"(?=.{1,24}$)[A-Za-z](-?[A-Za-z0-9])*"
# Model names (context.stages.<stage>.models.<name>) go into the same names after the stage's, and into the
# distillation-model tag and stack names: lower case, so that a name is one name in every one of them.
MODEL_NAME_PATTERN = r"(?=.{1,24}$)[a-z](-?[a-z0-9])*"
# What a stage held for its one model before it held several, refused with the models form.
MODEL_KEYS = ("distillation", "modelSource", "serving")

# Customization jobs an account may run at once unless AWS support raised its quota, and so how many of a stage's
# jobs its stacks start together by default. Unconfirmed: the quota table of the General Reference
# (https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock, read 2026-12-01) could not be read,
# and the user guide's quota page (https://docs.aws.amazon.com/bedrock/latest/userguide/quotas.html, read
# 2026-12-02) names no figure; 2 is taken, as starting no more jobs than the account may run is the safe reading: a
# job over the quota is refused, not queued (CreateModelCustomizationJob raises ServiceQuotaExceededException,
# botocore's Bedrock service model).
DEFAULT_CONCURRENT_JOBS = 2
# Above the number of models a stage distils the value changes nothing; 100 catches a stray digit, as AWS names no
# maximum for the quota.
MAX_CONCURRENT_JOBS = 100

# The monthly AWS Budgets amount of a stage that names none (production stages must name theirs).
DEFAULT_MONTHLY_BUDGET_USD = 1000


# How long an invocation log stays in the stage's invocation-logs bucket before S3 expires it, in days. A log holds
# the full prompt and response of a model invocation anywhere in the account and Region (Bedrock user guide,
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html, read 2026-12-02). A quarter is
# long enough to gather the records of a distillation and run it again after a failure, and short enough that the
# account's prompts do not pile up forever in a bucket nobody reads.
DEFAULT_LOG_RETENTION_DAYS = 90
# S3 lifecycle expiration takes "a non-zero positive integer" of days (S3 API reference, LifecycleExpiration,
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleExpiration.html, read 2026-12-02); the page names no
# maximum, and botocore's model types the field as a 32-bit integer, so that bound is the one taken.
MAX_LOG_RETENTION_DAYS = 2**31 - 1


@dataclass(frozen=True)
class InvocationLoggingConfig:
    """The account and Region's model invocation logging, owned by the foundation stack.

    ``enabled`` defaults to whether the stage trains from its own invocation logs (``_parse_invocation_logging``).
    """

    enabled: bool = False
    # Replace a configuration this stack did not create; the old one is put back when the stack is deleted.
    take_over: bool = False
    # Where Bedrock writes the logs inside the invocation-logs bucket.
    key_prefix: str = "invocation-logs"
    # Days after which S3 expires a log object (current versions; a noncurrent one goes soon after).
    retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    # A destroy stage that turns logging on deletes the whole account's logs with its bucket only when this says so.
    allow_destroying_logs: bool = False


@dataclass(frozen=True)
class ModelConfig:
    """One distilled model of a stage: context.stages.<stage>.models.<name>.

    Exactly one of ``distillation`` (the stage runs the customization job) and ``model_source`` (it copies a model
    another stage distilled and shares); ``serving`` is how the model is then served (a Provisioned Throughput of
    1 model unit unless the model says otherwise).
    """

    name: str
    distillation: DistillationConfig | None = None
    model_source: ModelSource | None = None
    serving: ServingConfig | None = None

    @property
    def student(self) -> str | None:
        """The base model being served: the distillation's student, or the copied model's base."""
        if self.distillation is not None:
            return self.distillation.student
        return self.model_source.base_model if self.model_source is not None else None

    @property
    def trains_from_own_logs(self) -> bool:
        """Whether the job reads the invocation logs Bedrock delivers to the stage's own invocation-logs bucket."""
        return self.distillation is not None and _trains_from_own_logs(self.distillation)

    @property
    def retains_custom_model(self) -> bool:
        """Whether a custom model encrypted with the stage's key outlives the model's stacks: a model kept by
        ``retainModel``, or one a committed (hence retained) Provisioned Throughput serves."""
        kept_model = self.distillation is not None and self.distillation.retain_model
        committed = self.serving is not None and self.serving.commitment != "none"
        return kept_model or committed


@dataclass(frozen=True)
class StageConfig:
    """One deployment environment (an account and a Region), what its models share, and its models."""

    name: str
    region: str
    account: str | None = None
    # A production stage must name its account and keep its data, and a pipeline approves before deploying it.
    production: bool = False
    removal_policy: str = "retain"
    invocation_logging: InvocationLoggingConfig = field(default_factory=InvocationLoggingConfig)
    compliance_packs: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    # Job state changes and serving failures are published to the stage's topic; this address is subscribed.
    notification_email: str | None = None
    # The AWS Budgets budget on the stage's cost-allocation tag, in USD per month.
    budget_monthly_usd: float = DEFAULT_MONTHLY_BUDGET_USD
    # The stage's models by name, in cdk.json's order; without any the stage deploys only its foundation (to
    # collect invocation logs first, for example).
    models: Mapping[str, ModelConfig] = field(default_factory=dict)
    # Customization jobs the account may run at once: the stacks start the stage's jobs in turn, this many at once.
    concurrent_jobs: int = DEFAULT_CONCURRENT_JOBS

    @property
    def destroy_on_delete(self) -> bool:
        return self.removal_policy == "destroy"

    @property
    def trains_from_own_logs(self) -> bool:
        """Whether any model's job reads the invocation logs Bedrock delivers to the stage's invocation-logs bucket."""
        return any(model.trains_from_own_logs for model in self.models.values())

    @property
    def retains_custom_models(self) -> bool:
        """Whether any custom model encrypted with the stage's key outlives the stacks (``retains_custom_model``)."""
        return any(model.retains_custom_model for model in self.models.values())

    @property
    def distilling_models(self) -> tuple[ModelConfig, ...]:
        """The models whose customization job the stage runs itself, in cdk.json's order."""
        return tuple(model for model in self.models.values() if model.distillation is not None)


def _trains_from_own_logs(distillation: DistillationConfig) -> bool:
    data = distillation.training_data
    return data.invocation_logs and data.logs_s3_uri is None


@dataclass(frozen=True)
class AppConfig:
    stages: Mapping[str, StageConfig]
    pipeline: PipelineConfig | None = None


def load_app(context: Mapping[str, Any], base_dir: Path | None = None) -> AppConfig:
    """Parse the stages and the optional pipeline from the CDK context; raise ``ConfigError`` on any problem.

    ``base_dir`` is as for ``load_stages``.
    """
    stages = load_stages(context.get(STAGES_KEY), base_dir)
    problems: list[str] = []
    pipeline = parse_pipeline(context.get("pipeline", {}), _promotion_stages(stages), problems)
    if problems:
        raise ConfigError(problems)
    return AppConfig(stages=stages, pipeline=pipeline)


def load_stages(stages: Any, base_dir: Path | None = None, *, only: str | None = None) -> dict[str, StageConfig]:
    """Parse the ``stages`` context value; raise ``ConfigError`` listing every problem found.

    A relative path in a stage (a ``file`` dataset) is read against ``base_dir``, the folder of the cdk.json that
    holds the stages; without it, against the current directory. That is the folder of cdk.json when the CDK CLI runs
    the app: the CLI reads ``cdk.json`` from its working directory and starts the app command there. The CDK
    developer guide says only that cdk.json tells the CLI how to run the app
    (https://docs.aws.amazon.com/cdk/v2/guide/projects.html, read 2026-12-02); the working directory is read from
    the pinned CLI (aws-cdk 2.1148.1, lib/cli/user-configuration.js and lib/cxapp/exec.js, read 2026-12-02). The
    package's own folder is no guide: installed from a wheel, it is in site-packages.

    With ``only`` (a command that works on one stage), the result holds that stage alone, or nothing when there is
    no such stage, and only its problems are raised: another stage's broken dataset is no concern of this one.
    Every stage is still parsed, as a stage that copies a model is checked against the stage it copies from.
    """
    base_dir = Path.cwd() if base_dir is None else base_dir.resolve()
    if stages is None:
        raise ConfigError([f'cdk.json context has no "{STAGES_KEY}" entry; add at least one stage'])
    if not isinstance(stages, Mapping):
        raise ConfigError([f"context.{STAGES_KEY} is {show(stages)}; it must be an object of named entries"])
    if not stages:
        raise ConfigError([f"context.{STAGES_KEY} is empty; add at least one stage"])
    # Each stage collects its own problems, so that a command on one stage reports that stage's alone.
    problems: dict[str, list[str]] = {name: [] for name in stages}
    parsed = {
        name: _parse_stage(Reader(entry, f"context.{STAGES_KEY}.{name}", problems[name]), name, base_dir)
        for name, entry in stages.items()
    }
    promotion_stages = _promotion_stages(parsed)
    for name, stage in parsed.items():
        for model in stage.models.values():
            if model.model_source is not None:
                check_model_source(name, model.name, model.model_source, promotion_stages, problems[name])
    chosen = list(parsed) if only is None else [name for name in parsed if name == only]
    reported = [problem for name in chosen for problem in problems[name]]
    if reported:
        raise ConfigError(reported)
    return {name: parsed[name] for name in chosen}


def _promotion_stages(stages: Mapping[str, StageConfig]) -> dict[str, PromotionStage]:
    """What the cross-stage checks of ``promotion`` read of each stage."""
    return {
        name: PromotionStage(
            account=stage.account,
            region=stage.region,
            production=stage.production,
            distilled={
                model.name: model.distillation.share_with for model in stage.models.values() if model.distillation
            },
        )
        for name, stage in stages.items()
    }


def _parse_stage(reader: Reader, name: str, base_dir: Path) -> StageConfig:
    if not re.fullmatch(STAGE_NAME_PATTERN, name):
        reader.problem(
            f'{reader.path}: stage name "{name}" must start with a letter and hold at most 24 letters, digits '
            "and single hyphens, not ending with one (it prefixes stack, job and model names)"
        )
    _refuse_single_model_keys(reader)
    region = _parse_region(reader)
    logging_reader = reader.child("invocationLogging")
    account = reader.string("account", pattern=r"\d{12}", allowed="an AWS account id of 12 digits")
    production = reader.boolean("production", False)
    removal_policy = reader.choice("removalPolicy", "retain", REMOVAL_POLICIES)
    budget_monthly_usd = _parse_budget(reader.child("budget"), production=production)
    models = _parse_models(
        reader,
        stage=name,
        region=region,
        base_dir=base_dir,
        # Logging is on unless the stage switches it off: a stage reading its own logs turns it on by default.
        logs_enabled=logging_reader.raw("enabled") is not False,
        monthly_usd=budget_monthly_usd,
    )
    invocation_logging = _parse_invocation_logging(
        logging_reader, trains_from_own_logs=any(model.trains_from_own_logs for model in models.values())
    )
    if production and removal_policy == "destroy":
        reader.problem(
            f'{reader.where("removalPolicy")} is "destroy", but the stage is a production stage ("production": '
            'true), whose buckets, key and logs must outlive the stack; use "retain"'
        )
    if removal_policy == "destroy" and invocation_logging.enabled and not invocation_logging.allow_destroying_logs:
        reader.problem(
            f'{reader.where("removalPolicy")} is "destroy", and the stage turns on model invocation logging, which '
            "delivers the prompts and responses of every model invocation in the account and Region, not only the "
            "stage's, to its invocation-logs bucket; destroy would delete them with the bucket. Set "
            f'{logging_reader.where("allowDestroyingLogs")} to true to accept that, or use "retain"'
        )
    if production and account is None:
        reader.problem(f"{reader.where('account')} is missing; a production stage must name its 12-digit account")
    notifications = reader.child("notifications")
    email = notifications.string(
        "email", pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+", allowed="an e-mail address to subscribe to the stage's topic"
    )
    notifications.reject_unknown()
    stage = StageConfig(
        name=name,
        region=region or _stand_in_region(reader, _first_teacher(reader.raw("models")))[0],
        account=account,
        production=production,
        removal_policy=removal_policy,
        invocation_logging=invocation_logging,
        compliance_packs=_parse_compliance_packs(reader),
        tags=reader.string_map(
            "tags",
            key_limit=128,
            value_limit=256,
            what="cost-allocation tags",
            reserved=(STAGE_TAG_RESERVED, MODEL_TAG_RESERVED),
        ),
        notification_email=email,
        budget_monthly_usd=budget_monthly_usd,
        models=models,
        concurrent_jobs=_parse_concurrent_jobs(reader),
    )
    reader.reject_unknown()
    return stage


def _refuse_single_model_keys(reader: Reader) -> None:
    """The keys a stage held for its one model now belong to a model: refuse each with the form that replaces it."""
    for key in MODEL_KEYS:
        if reader.has(key):
            reader.allow(key)
            reader.problem(
                f'{reader.where(key)}: a stage holds its models under "models"; move it to '
                f'{reader.where("models")}.<name>.{key}, e.g. "models": {{"assistant": {{"distillation": {{...}}, '
                '"serving": {...}}}'
            )


def _parse_models(
    reader: Reader, *, stage: str, region: str | None, base_dir: Path, logs_enabled: bool, monthly_usd: float
) -> dict[str, ModelConfig]:
    """The stage's models by name, in cdk.json's order; none (a missing or empty ``models``) is a foundation-only
    stage."""
    entries = reader.raw("models", {})
    if not isinstance(entries, Mapping):
        reader.problem(
            f"{reader.where('models')} is {show(entries)}; it must be an object of named models, e.g. "
            '"models": {"assistant": {"distillation": {...}, "serving": {...}}}'
        )
        return {}
    models: dict[str, ModelConfig] = {}
    for name, entry in entries.items():
        model_reader = Reader(entry, f"{reader.where('models')}.{name}", reader.problems)
        _check_model_name(model_reader, stage, name)
        _check_prefixes_apart(model_reader, name, list(entries))
        models[name] = _parse_model(
            model_reader,
            name,
            stage_reader=reader,
            region=region,
            base_dir=base_dir,
            logs_enabled=logs_enabled,
            monthly_usd=monthly_usd,
        )
    check_stage_commitments(
        reader.where("models"),
        {
            model.name: CommittedServing(
                serving=model.serving,
                student=model.student or "",
                acknowledged=_raw_serving(entries[model.name]).get("acknowledgeCommitment") is True,
            )
            for model in models.values()
            if model.serving is not None
        },
        region=region,
        monthly_usd=monthly_usd,
        budget_key=reader.where("budget.monthlyUsd"),
        problems=reader.problems,
    )
    return models


def _raw_serving(entry: object) -> Mapping[str, Any]:
    serving = entry.get("serving") if isinstance(entry, Mapping) else None
    return serving if isinstance(serving, Mapping) else {}


def _check_model_name(reader: Reader, stage: str, name: str) -> None:
    if not re.fullmatch(MODEL_NAME_PATTERN, name):
        reader.problem(
            f'{reader.path}: model name "{name}" must start with a lower-case letter and hold at most 24 lower-case '
            "letters, digits and single hyphens, not ending with one (it goes into Bedrock resource names, stack "
            "names and the distillation-model tag)"
        )
        return
    prefix = model_prefix(stage, name)
    if len(prefix) > MAX_MODEL_PREFIX:
        reader.problem(
            f'{reader.path}: the name prefix "{prefix}" of the model\'s resources is {len(prefix)} characters (stage '
            f"name {len(stage)}, model name {len(name)}, and a hyphen); it must be at most {MAX_MODEL_PREFIX}, as "
            'the longest Bedrock name built from it ("<prefix>-distill-<12 hex>" for the job, "<prefix>-serving-<12 '
            "hex>\" for the served model) must fit in Bedrock's 63 characters; shorten the model name to at most "
            f"{MAX_MODEL_PREFIX - len(stage) - 1} characters, or the stage name"
        )


def _check_prefixes_apart(reader: Reader, name: str, names: list[str]) -> None:
    """A model whose name is another's followed by a hyphen (``chat`` and ``chat-copy``) would share the start of
    its resource names (``dev-chat-copy-...``): the handlers find a model's jobs, custom models and copies by their
    name prefix, so each model's names must begin differently."""
    for other in names:
        if other != name and name.startswith(f"{other}-"):
            reader.problem(
                f'{reader.path}: model name "{name}" begins with the name of the stage\'s model "{other}" and a '
                f'hyphen, so the names of its resources ("<stage>-{name}-...") would begin like those of "{other}", '
                "by which the handlers find a model's jobs and custom models; give it a name that does not begin "
                f'with "{other}-"'
            )


def _parse_model(
    reader: Reader,
    name: str,
    *,
    stage_reader: Reader,
    region: str | None,
    base_dir: Path,
    logs_enabled: bool,
    monthly_usd: float,
) -> ModelConfig:
    # With the Region wrong or missing, the model pair is still checked, against a stand-in Region, so that a pair
    # offered nowhere is reported now rather than after the Region is fixed; each message that names the stand-in
    # says it is one. The checks whose advice would rest on the guess (on-demand serving, a commitment's price)
    # wait until the Region is fixed.
    reader.allow(*MODEL_KEYS)
    stand_in, stand_in_reason = (
        (region, "") if region else _stand_in_region(stage_reader, _teacher(reader.raw("distillation")))
    )
    checked_region = region or stand_in
    distillation = None
    if reader.has("distillation"):
        distillation_problems: list[str] = []
        distillation = parse_distillation(
            Reader(reader.raw("distillation"), reader.where("distillation"), distillation_problems),
            region=checked_region,
            base_dir=base_dir,
            logs_enabled=logs_enabled,
        )
        for problem in distillation_problems:
            if not region and stand_in and re.search(rf"\b{re.escape(stand_in)}\b", problem):
                problem += (
                    f" (checked against {stand_in}, {stand_in_reason}, until {stage_reader.where('region')} is fixed)"
                )
            reader.problem(problem)
    model_source = None
    if reader.has("modelSource"):
        if distillation is not None:
            reader.problem(
                f"{reader.path} has both distillation and modelSource; a model is either distilled in the stage or "
                "copied from another"
            )
        model_source = parse_model_source(reader.child("modelSource"))
    elif distillation is None:
        reader.problem(
            f"{reader.path} has neither distillation nor modelSource; a model is either distilled in the stage "
            '(give it "distillation") or copied from another stage ("modelSource")'
        )
    student = distillation.student if distillation else model_source.base_model if model_source else None
    serving = None
    if reader.has("serving"):
        serving = parse_serving(reader.child("serving"), student=student or "", region=region)
        check_commitment_budget(
            reader.child("serving"),
            serving,
            student=student or "",
            region=region,
            monthly_usd=monthly_usd,
            budget_key=stage_reader.where("budget.monthlyUsd"),
        )
    elif student is not None:
        serving = ServingConfig()
    model = ModelConfig(name=name, distillation=distillation, model_source=model_source, serving=serving)
    reader.reject_unknown()
    return model


def _parse_concurrent_jobs(reader: Reader) -> int:
    value = reader.raw("concurrentJobs", DEFAULT_CONCURRENT_JOBS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENT_JOBS:
        reader.problem(
            f"{reader.where('concurrentJobs')} is {show(value)}; it must be a whole number from 1 to "
            f"{MAX_CONCURRENT_JOBS}: the customization jobs the account may run at once (its Amazon Bedrock quota, "
            f"{DEFAULT_CONCURRENT_JOBS} unless AWS support raised it), which the stacks start the stage's jobs within"
        )
        return DEFAULT_CONCURRENT_JOBS
    return value


def _parse_budget(reader: Reader, *, production: bool) -> float:
    value = reader.raw("monthlyUsd")
    reader.reject_unknown()
    if value is None:
        if production:
            reader.problem(
                f"{reader.where('monthlyUsd')} is missing; a production stage must name its monthly budget in USD "
                "(the AWS Budgets budget on its distillation-stage tag)"
            )
        return DEFAULT_MONTHLY_BUDGET_USD
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        reader.problem(f"{reader.where('monthlyUsd')} is {show(value)}; it must be a number of US dollars above 0")
        return DEFAULT_MONTHLY_BUDGET_USD
    return value


def _parse_region(reader: Reader) -> str | None:
    """The stage's Region, or None after reporting it missing or unknown (with the closest known Region)."""
    regions = bedrock_regions()
    allowed = "a Region where Amazon Bedrock is available: " + ", ".join(regions)
    region = reader.string("region", required=True, allowed=allowed)
    if region is None or region in regions:
        return region
    close = _closest_region(region)
    hint = f' (did you mean "{close}"?)' if close else ""
    reader.problem(f"{reader.where('region')} is {show(region)}{hint}; it must be {allowed}")
    return None


def _closest_region(written: object) -> str | None:
    close = difflib.get_close_matches(written, bedrock_regions(), n=1) if isinstance(written, str) else []
    return close[0] if close else None


def _stand_in_region(reader: Reader, teacher_id: str | None) -> tuple[str, str]:
    """A Region for the model pair's checks when the stage's own is unusable, and why it was taken: the Region
    suggested for what was written, else the first Region the catalog offers the teacher in ("" when neither)."""
    close = _closest_region(reader.raw("region"))
    if close:
        return close, f"the Region suggested for {show(reader.raw('region'))}"
    teacher = catalog.teacher(teacher_id) if teacher_id is not None else None
    return (teacher.regions[0], "the first Region the catalog offers the teacher in") if teacher else ("", "")


def _teacher(distillation: object) -> str | None:
    """The teacher a raw distillation entry names, if it names one as a string."""
    teacher = distillation.get("teacher") if isinstance(distillation, Mapping) else None
    return teacher if isinstance(teacher, str) else None


def _first_teacher(models: object) -> str | None:
    """The teacher of the first raw model entry that names one (for the stage's own stand-in Region)."""
    entries = models.values() if isinstance(models, Mapping) else ()
    return next(
        (
            teacher
            for entry in entries
            if isinstance(entry, Mapping) and (teacher := _teacher(entry.get("distillation")))
        ),
        None,
    )


def _parse_invocation_logging(reader: Reader, *, trains_from_own_logs: bool) -> InvocationLoggingConfig:
    """The logging settings; ``enabled`` defaults to whether the stage trains from its own invocation logs, since
    logging captures every model invocation of the account and Region, far more than the stage needs otherwise."""
    defaults = InvocationLoggingConfig()
    parsed = InvocationLoggingConfig(
        enabled=reader.boolean("enabled", trains_from_own_logs),
        take_over=reader.boolean("takeOver", defaults.take_over),
        key_prefix=reader.string(
            "keyPrefix",
            defaults.key_prefix,
            pattern=r"[A-Za-z0-9][A-Za-z0-9!_.*'()/-]{0,127}",
            allowed="an S3 key prefix of 1 to 128 characters (letters, digits, / and !_.*'()-), not starting with /",
        )
        or defaults.key_prefix,
        retention_days=_parse_retention_days(reader, defaults.retention_days),
        allow_destroying_logs=reader.boolean("allowDestroyingLogs", defaults.allow_destroying_logs),
    )
    reader.reject_unknown()
    return parsed


def _parse_retention_days(reader: Reader, default: int) -> int:
    value = reader.raw("retentionDays", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LOG_RETENTION_DAYS:
        reader.problem(
            f"{reader.where('retentionDays')} is {show(value)}; it must be a whole number of days from 1 to "
            f"{MAX_LOG_RETENTION_DAYS}, after which S3 expires each invocation log (an S3 lifecycle expiration takes "
            "a positive number of days)"
        )
        return default
    return value


def _parse_compliance_packs(reader: Reader) -> tuple[str, ...]:
    packs = reader.raw("compliancePacks", [])
    if not isinstance(packs, list) or any(pack not in COMPLIANCE_PACKS for pack in packs):
        reader.problem(
            f"{reader.where('compliancePacks')} is {show(packs)}; it must be a list of cdk-nag packs from "
            + ", ".join(f'"{pack}"' for pack in COMPLIANCE_PACKS)
            + " (AwsSolutions always runs)"
        )
        return ()
    return tuple(dict.fromkeys(packs))
