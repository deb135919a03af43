"""The distillation and serving keys of a stage: each is checked at synth, before anything is deployed or billed."""

from __future__ import annotations

from pathlib import Path

import pytest

from distill.config import load_stages
from distill.config_reader import ConfigError
from tests.conftest import REFERENCE_DATA

DATASET = str(REFERENCE_DATA / "uber10k-conversation.jsonl")
LLAMA = {
    "teacher": "meta.llama3-1-405b-instruct-v1:0",
    "student": "meta.llama3-1-8b-instruct-v1:0:128k",
    "trainingData": {"s3Uri": "s3://datasets/train.jsonl"},
}


def stage_with(distillation: dict | None = None, serving: dict | None = None, **stage) -> dict:
    settings = {"region": "us-west-2", **stage}
    if distillation is not None:
        settings["distillation"] = distillation
    if serving is not None:
        settings["serving"] = serving
    return settings


def parse(settings: dict):
    return load_stages({"dev": settings})["dev"]


def problems(settings: dict) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse(settings)
    return raised.value.problems


def only_problem(settings: dict) -> str:
    (problem,) = problems(settings)
    return problem


def test_a_listed_pair_with_an_s3_dataset_parses_with_default_serving():
    stage = parse(stage_with(LLAMA))
    assert stage.distillation.training_data.s3_uri == "s3://datasets/train.jsonl"
    assert stage.distillation.max_response_length == 1000
    assert stage.distillation.retain_model is True
    assert stage.serving.mode == "provisioned"
    assert stage.serving.commitment == "none"
    assert stage.serving.poll_minutes == 10


def test_unsupported_pair_lists_the_teachers_students():
    message = only_problem(stage_with({**LLAMA, "student": "meta.llama3-2-3b-instruct-v1:0:128k"}))
    assert message == (
        'context.stages.dev.distillation: student "meta.llama3-2-3b-instruct-v1:0:128k" is not offered for teacher '
        '"meta.llama3-1-405b-instruct-v1:0"; its students are: meta.llama3-1-8b-instruct-v1:0:128k, '
        "meta.llama3-1-70b-instruct-v1:0:128k, meta.llama3-2-1b-instruct-v1:0:128k, "
        "meta.llama3-3-70b-instruct-v1:0:128k (catalog checked 2026-11-01; set allowUnlistedPair to true to use a "
        "pair AWS added since)"
    )


def test_pair_in_a_region_without_it():
    message = only_problem(stage_with(LLAMA, region="us-east-1"))
    assert message == (
        'context.stages.dev.distillation: teacher "meta.llama3-1-405b-instruct-v1:0" is not available for '
        "distillation in us-east-1; its Regions are: us-west-2 (catalog checked 2026-11-01; set allowUnlistedPair "
        "to true to use a pair AWS added since)"
    )


def test_unknown_teacher_lists_the_teachers():
    message = only_problem(stage_with({**LLAMA, "teacher": "meta.llama4-maverick-17b-instruct-v1:0"}))
    assert message.startswith(
        'context.stages.dev.distillation: teacher "meta.llama4-maverick-17b-instruct-v1:0" is not a distillation '
        "teacher in the catalog; teachers: amazon.nova-pro-v1:0, amazon.nova-premier-v1:0,"
    )


def test_teacher_and_student_from_different_providers():
    assert only_problem(stage_with({**LLAMA, "student": "amazon.nova-lite-v1:0:300k"})) == (
        'context.stages.dev.distillation: teacher "meta.llama3-1-405b-instruct-v1:0" and student '
        '"amazon.nova-lite-v1:0:300k" come from different providers; Bedrock distils only within one provider'
    )


def test_the_escape_hatch_allows_an_unlisted_pair_with_a_warning():
    stage = parse(stage_with({**LLAMA, "student": "meta.llama3-2-3b-instruct-v1:0:128k", "allowUnlistedPair": True}))
    assert stage.distillation.pair_warning.endswith("; allowed by allowUnlistedPair")


@pytest.mark.parametrize("key", ["teacher", "student"])
def test_teacher_and_student_are_required(key):
    settings = {k: v for k, v in LLAMA.items() if k != key}
    assert f"context.stages.dev.distillation.{key} is missing" in only_problem(stage_with(settings))


def test_training_data_must_name_exactly_one_source():
    message = only_problem(stage_with({**LLAMA, "trainingData": {"s3Uri": "s3://a/b", "file": DATASET}}))
    assert message == (
        "context.stages.dev.distillation.trainingData names file, s3Uri; it must name exactly one of "
        '"file" (a local JSONL file), "s3Uri" or "invocationLogs"'
    )
    assert only_problem(stage_with({**LLAMA, "trainingData": {}})).startswith(
        "context.stages.dev.distillation.trainingData names no source;"
    )


def test_a_valid_local_dataset_parses_and_is_fingerprinted():
    stage = parse(stage_with({**LLAMA, "trainingData": {"file": DATASET}}))
    assert stage.distillation.training_data.file == Path(DATASET).resolve()
    assert len(stage.distillation.training_data.digest) == 64


def test_a_local_dataset_with_problems_stops_the_synth_with_the_validators_messages():
    path = str(REFERENCE_DATA / "uber10k-prompt-completion.jsonl")
    found = problems(stage_with({**LLAMA, "trainingData": {"file": path}}))
    assert found[0] == (
        f"context.stages.dev.distillation.trainingData.file: {path}:1: (record): this is the prompt/completion "
        'format ({"prompt", "completion"}), not bedrock-conversation-2024; `distill convert` converts it'
    )


def test_a_missing_local_dataset():
    assert only_problem(stage_with({**LLAMA, "trainingData": {"file": "nowhere.jsonl"}})) == (
        'context.stages.dev.distillation.trainingData.file is "nowhere.jsonl"; the file cannot be read: No such '
        "file or directory"
    )


def test_s3_uri_must_look_like_one():
    assert only_problem(stage_with({**LLAMA, "trainingData": {"s3Uri": "https://bucket/x"}})) == (
        'context.stages.dev.distillation.trainingData.s3Uri is "https://bucket/x"; it must be an S3 URI like '
        "s3://bucket/prefix/data.jsonl"
    )


def test_invocation_logs_with_a_filter():
    stage = parse(
        stage_with(
            {
                **LLAMA,
                "trainingData": {
                    "invocationLogs": {"filters": {"equals": {"project": "x"}}, "usePromptResponse": True}
                },
            }
        )
    )
    data = stage.distillation.training_data
    assert data.invocation_logs and data.use_prompt_response
    assert data.filters.to_api() == {"equals": {"project": "x"}}


def test_invocation_logs_need_logging_or_a_location():
    settings = stage_with({**LLAMA, "trainingData": {"invocationLogs": {}}}, invocationLogging={"enabled": False})
    assert only_problem(settings) == (
        "context.stages.dev.distillation.trainingData.invocationLogs reads the stage's invocation logs, but "
        "invocationLogging.enabled is false; enable it or give the logs' location in s3Uri"
    )


def test_a_bad_filter_is_reported_where_it_is():
    settings = stage_with(
        {**LLAMA, "trainingData": {"invocationLogs": {"filters": {"andAll": [{"equals": {"a": "1"}}] * 17}}}}
    )
    assert only_problem(settings) == (
        "context.stages.dev.distillation.trainingData.invocationLogs.filters.andAll has 17 items; it must hold 1 to 16"
    )


def test_max_response_length():
    assert only_problem(stage_with({**LLAMA, "maxResponseLength": 0})) == (
        "context.stages.dev.distillation.maxResponseLength is 0; it must be a whole number from 1 to 32768"
    )


def test_vpc_needs_subnets_and_security_groups():
    assert only_problem(stage_with({**LLAMA, "vpc": {"subnetIds": ["subnet-0123456789abcdef0"]}})) == (
        "context.stages.dev.distillation.vpc needs both subnetIds and securityGroupIds, or neither"
    )
    assert only_problem(
        stage_with({**LLAMA, "vpc": {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-01234567"]}})
    ) == (
        'context.stages.dev.distillation.vpc.subnetIds is ["subnet-1"]; it must be a list of at most 16 ids like '
        "subnet-[0-9a-f]{8,17}"
    )


@pytest.mark.parametrize("key", ["retainModel", "allowUnlistedPair"])
def test_distillation_flags_are_booleans(key):
    assert only_problem(stage_with({**LLAMA, key: "no"})) == (
        f'context.stages.dev.distillation.{key} is "no"; it must be true or false'
    )


def test_unknown_distillation_key():
    assert only_problem(stage_with({**LLAMA, "teacherModel": "x"})).startswith(
        'context.stages.dev.distillation.teacherModel is not a known key (did you mean "teacher"?)'
    )


def test_serving_without_distillation():
    assert only_problem(stage_with(serving={"mode": "none"})) == (
        "context.stages.dev.serving is set, but there is no distillation or modelSource to serve"
    )


def test_serving_mode():
    assert only_problem(stage_with(LLAMA, serving={"mode": "serverless"})) == (
        'context.stages.dev.serving.mode is "serverless"; it must be one of "provisioned", "onDemand", "none"'
    )


def test_on_demand_only_for_students_that_support_it():
    assert only_problem(stage_with(LLAMA, serving={"mode": "onDemand"})) == (
        'context.stages.dev.serving.mode is "onDemand", but on-demand custom model deployment is not offered for '
        '"meta.llama3-1-8b-instruct-v1:0:128k" in us-west-2; it is offered for amazon.nova-lite-v1:0, '
        'amazon.nova-micro-v1:0, amazon.nova-pro-v1:0 in us-east-1, us-west-2; use "provisioned"'
    )


def test_a_commitment_needs_its_acknowledgement():
    assert only_problem(stage_with(LLAMA, serving={"commitment": "SixMonths"})) == (
        'context.stages.dev.serving.commitment is "SixMonths": a commitment is billed for its whole term and cannot '
        "be cancelled, and the Provisioned Throughput is then retained when the stack is deleted; set "
        "context.stages.dev.serving.acknowledgeCommitment to true to confirm"
    )
    stage = parse(stage_with(LLAMA, serving={"commitment": "SixMonths", "acknowledgeCommitment": True}))
    assert stage.serving.commitment == "SixMonths"


def test_commitment_values():
    assert only_problem(stage_with(LLAMA, serving={"commitment": "OneYear"})) == (
        'context.stages.dev.serving.commitment is "OneYear"; it must be one of "none", "OneMonth", "SixMonths"'
    )


def test_model_units_and_poll_minutes():
    assert only_problem(stage_with(LLAMA, serving={"modelUnits": 0})) == (
        "context.stages.dev.serving.modelUnits is 0; it must be a whole number from 1 to 1000"
    )
    assert only_problem(stage_with(LLAMA, serving={"pollMinutes": 1})) == (
        "context.stages.dev.serving.pollMinutes is 1; it must be a whole number from 5 to 60"
    )


def test_unknown_serving_key():
    assert only_problem(stage_with(LLAMA, serving={"units": 2})).startswith(
        "context.stages.dev.serving.units is not a known key"
    )


def test_fingerprint_changes_with_what_defines_the_job():
    base = parse(stage_with(LLAMA)).distillation.fingerprint
    assert parse(stage_with({**LLAMA, "maxResponseLength": 999})).distillation.fingerprint != base
    assert parse(stage_with({**LLAMA, "retainModel": False})).distillation.fingerprint == base
    assert parse(stage_with({**LLAMA, "jobTags": {"team": "ml"}})).distillation.fingerprint == base
