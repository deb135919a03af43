"""A stage's distillation settings: teacher, student and training data of the customization job.

Everything that would make a paid job fail is checked here, at synth: the model pair, its Regions and lifecycles
against the catalog, a local dataset against the validator, and invocation-log filters against the API's rules
(how the model is then served is ``serving``'s). Teacher and student are read in every form the API takes and
normalised here, once, so that the job, the IAM policy and the commands all see the same model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from distill.config import catalog
from distill.config.promotion import parse_share_with
from distill.config.reader import Reader, show
from distill.constructs.names import MODEL_TAG_RESERVED, STAGE_TAG_RESERVED
from distill.data_checks import dataset
from distill.data_checks.log_filters import FilterError, RequestMetadataFilter, parse_filter

S3_URI_PATTERN = r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?"
# An AWS Region code; which Regions a profile really routes to is the catalog's or the stage's word, not a pattern's.
REGION_PATTERN = r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d"


@dataclass(frozen=True)
class TrainingData:
    """Where the job's prompts come from: exactly one of a local file, an S3 URI or the invocation logs."""

    file: Path | None = None
    s3_uri: str | None = None
    invocation_logs: bool = False
    # For invocation logs: the filter, whether to train on the logged responses, and an optional log location
    # other than the stage's own invocation-logs bucket.
    filters: RequestMetadataFilter | None = None
    use_prompt_response: bool = False
    logs_s3_uri: str | None = None


@dataclass(frozen=True)
class DistillationConfig:
    """The distillation job: teacher, student and data; any change to these starts a new job.

    ``teacher`` and ``student`` are the normalised identifiers (a model id or system inference profile id, never an
    ARN); ``teacher_model`` is the foundation model behind the teacher, ``teacher_profile`` the inference profile
    when the teacher is one, and ``teacher_regions`` every Region whose foundation model the service role may
    invoke (the stage's Region, or each Region the profile routes to).
    """

    teacher: str
    student: str
    training_data: TrainingData
    teacher_model: str = ""
    teacher_profile: str | None = None
    teacher_regions: tuple[str, ...] = ()
    max_response_length: int = 1000
    allow_unlisted_pair: bool = False
    retain_model: bool = True
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    job_tags: Mapping[str, str] = field(default_factory=dict)
    pair_warning: str | None = None
    # Legacy teacher or student, or a lifecycle the catalog could not confirm: warned at synth.
    model_warnings: tuple[str, ...] = ()
    # Accounts the distilled model is shared with through AWS RAM, for stages that copy it (modelSource).
    share_with: tuple[str, ...] = ()
    # Part of the job's name: a new revision is a new job with the same settings (a job cannot be restarted).
    revision: int = 1


def parse_distillation(reader: Reader, *, region: str, base_dir: Path, logs_enabled: bool) -> DistillationConfig:
    teacher_ref = _model_reference(reader, "teacher", "a Bedrock model id, inference profile id or ARN")
    student_ref = _model_reference(reader, "student", "a Bedrock customizable model id or foundation-model ARN")
    listed_regions = _region_list(reader, "teacherRegions")
    allow_unlisted = reader.boolean("allowUnlistedPair", False)
    if student_ref is not None and student_ref.kind != "model":
        reader.problem(
            f'{reader.where("student")} is "{student_ref.given}"; a student is a foundation model with its context '
            'suffix, like "amazon.nova-lite-v1:0:300k", not an inference profile'
        )
        student_ref = None
    elif student_ref is not None and student_ref.arn_region not in (None, region):
        reader.problem(
            f"{reader.where('student')} is an ARN in {student_ref.arn_region}, but the stage is in {region}; use "
            f'"{student_ref.identifier}"'
        )
    regions: tuple[str, ...] = ()
    if teacher_ref is not None:
        try:
            regions = catalog.teacher_regions(teacher_ref, region, listed_regions)
        except catalog.CatalogError as error:
            reader.problem(f"{reader.path}: {error}")
            teacher_ref = None if teacher_ref.kind == "applicationProfile" else teacher_ref
    pair = None
    if teacher_ref is not None and student_ref is not None:
        try:
            pair = catalog.check_pair(teacher_ref, student_ref, region, allow_unlisted=allow_unlisted)
        except catalog.CatalogError as error:
            reader.problem(f"{reader.path}: {error}")
    teacher = teacher_ref.identifier if teacher_ref else None
    student = student_ref.identifier if student_ref else None
    multi_turn = dataset.multi_turn_allowed_for(teacher, student)
    training_data = _parse_training_data(
        reader.child("trainingData"), base_dir=base_dir, multi_turn=multi_turn, logs_enabled=logs_enabled
    )
    vpc = reader.child("vpc")
    subnets = _id_list(vpc, "subnetIds", r"subnet-[0-9a-f]{8,17}", 16)
    groups = _id_list(vpc, "securityGroupIds", r"sg-[0-9a-f]{8,17}", 5)
    if vpc.has("subnetIds") != vpc.has("securityGroupIds"):
        vpc.problem(f"{vpc.path} needs both subnetIds and securityGroupIds, or neither")
    vpc.reject_unknown()
    parsed = DistillationConfig(
        teacher=teacher or "",
        student=student or "",
        training_data=training_data,
        teacher_model=(teacher_ref.model_id or "") if teacher_ref else "",
        teacher_profile=teacher_ref.identifier if teacher_ref and teacher_ref.is_profile else None,
        teacher_regions=regions,
        max_response_length=reader.integer("maxResponseLength", 1000, minimum=1, maximum=32768) or 1000,
        allow_unlisted_pair=allow_unlisted,
        retain_model=reader.boolean("retainModel", True),
        subnet_ids=subnets,
        security_group_ids=groups,
        job_tags=reader.string_map(
            "jobTags",
            key_limit=128,
            value_limit=256,
            what="tags for the job and model",
            reserved=(STAGE_TAG_RESERVED, MODEL_TAG_RESERVED),
        ),
        pair_warning=pair.warning if pair else None,
        model_warnings=pair.model_warnings if pair else (),
        share_with=parse_share_with(reader),
        revision=reader.integer("revision", 1, minimum=1, maximum=9999) or 1,
    )
    reader.reject_unknown()
    return parsed


def _model_reference(reader: Reader, key: str, allowed: str) -> catalog.ModelReference | None:
    text = reader.string(key, required=True, allowed=allowed)
    if text is None:
        return None
    try:
        return catalog.parse_model(text)
    except catalog.CatalogError as error:
        reader.problem(f"{reader.where(key)}: {error}")
        return None


def _region_list(reader: Reader, key: str) -> tuple[str, ...]:
    value = reader.raw(key, [])
    if not isinstance(value, list) or not all(
        isinstance(item, str) and re.fullmatch(REGION_PATTERN, item) for item in value
    ):
        reader.problem(
            f'{reader.where(key)} is {show(value)}; it must be a list of Region codes like ["us-east-1", "us-west-2"]'
        )
        return ()
    return tuple(dict.fromkeys(value))


def _id_list(reader: Reader, key: str, pattern: str, most: int) -> tuple[str, ...]:
    value = reader.raw(key, [])
    if (
        not isinstance(value, list)
        or len(value) > most
        or not all(isinstance(item, str) and re.fullmatch(pattern, item) for item in value)
    ):
        reader.problem(f"{reader.where(key)} is {show(value)}; it must be a list of at most {most} ids like {pattern}")
        return ()
    return tuple(value)


def _parse_training_data(reader: Reader, *, base_dir: Path, multi_turn: bool, logs_enabled: bool) -> TrainingData:
    sources = [key for key in ("file", "s3Uri", "invocationLogs") if reader.has(key)]
    if len(sources) != 1:
        reader.problem(
            f"{reader.path} names {', '.join(sources) if sources else 'no source'}; it must name exactly one of "
            '"file" (a local JSONL file), "s3Uri" or "invocationLogs"'
        )
        reader.allow("file", "s3Uri", "invocationLogs")
        reader.reject_unknown()
        return TrainingData()
    source = sources[0]
    if source == "file":
        parsed = _parse_file(reader, base_dir=base_dir, multi_turn=multi_turn)
    elif source == "s3Uri":
        uri = reader.string("s3Uri", pattern=S3_URI_PATTERN, allowed="an S3 URI like s3://bucket/prefix/data.jsonl")
        parsed = TrainingData(s3_uri=uri)
    else:
        parsed = _parse_invocation_logs(reader.child("invocationLogs"), logs_enabled=logs_enabled)
    reader.reject_unknown()
    return parsed


def _parse_file(reader: Reader, *, base_dir: Path, multi_turn: bool) -> TrainingData:
    name = reader.string("file", allowed="a path to a JSONL file, relative to cdk.json")
    if name is None:
        return TrainingData()
    path = (base_dir / name).resolve()
    try:
        report = dataset.validate_file(path, multi_turn_allowed=multi_turn)
    except OSError as error:
        where = f"{reader.where('file')} is {show(name)}"
        if not Path(name).is_absolute():
            where += f", read as {path} (a relative path is resolved against the folder of the cdk.json, {base_dir})"
        reader.problem(f"{where}; the file cannot be read: {error.strerror}")
        return TrainingData()
    for problem in report.problems:
        reader.problem(f"{reader.where('file')}: {problem}")
    if report.omitted:
        reader.problem(f"{reader.where('file')}: ... and {report.omitted} more problems (run `distill validate`)")
    return TrainingData(file=path)


def _parse_invocation_logs(reader: Reader, *, logs_enabled: bool) -> TrainingData:
    logs_uri = reader.string("s3Uri", pattern=S3_URI_PATTERN, allowed="an S3 URI of an AWSLogs/ prefix")
    if logs_uri is None and not logs_enabled:
        reader.problem(
            f"{reader.path} reads the stage's invocation logs, but invocationLogging.enabled is false; enable it "
            "or give the logs' location in s3Uri"
        )
    filters = None
    if reader.has("filters"):
        try:
            filters = parse_filter(reader.raw("filters"), reader.where("filters"))
        except FilterError as error:
            for problem in error.problems:
                reader.problem(problem)
    use_prompt_response = reader.boolean("usePromptResponse", False)
    reader.reject_unknown()
    return TrainingData(
        invocation_logs=True,
        filters=filters,
        use_prompt_response=use_prompt_response,
        logs_s3_uri=logs_uri,
    )
