"""The distillation keys of a stage: each is checked at synth, before anything is deployed or billed."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from distill.config.reader import ConfigError
from distill.config.stages import ModelConfig, load_stages
from tests.conftest import REFERENCE_DATA, ROOT

DATASET = str(REFERENCE_DATA / "uber10k-conversation.jsonl")
LLAMA = {
    "teacher": "meta.llama3-1-70b-instruct-v1:0",
    "student": "meta.llama3-1-8b-instruct-v1:0:128k",
    "trainingData": {"s3Uri": "s3://datasets/train.jsonl"},
}


def stage_with(distillation: dict | None = None, serving: dict | None = None, **stage) -> dict:
    """Stage ``dev`` with one model, ``chat``, of these distillation and serving settings."""
    model = {}
    if distillation is not None:
        model["distillation"] = distillation
    if serving is not None:
        model["serving"] = serving
    return {"region": "us-west-2", **stage, "models": {"chat": model}}


def parse(settings: dict) -> ModelConfig:
    """The model ``chat`` of stage ``dev``."""
    return load_stages({"dev": settings})["dev"].models["chat"]


def problems(settings: dict) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse(settings)
    return raised.value.problems


def only_problem(settings: dict) -> str:
    (problem,) = problems(settings)
    return problem


def test_a_listed_pair_with_an_s3_dataset_parses():
    model = parse(stage_with(LLAMA))
    assert model.distillation.training_data.s3_uri == "s3://datasets/train.jsonl"
    assert model.distillation.max_response_length == 1000
    assert model.distillation.retain_model is True


def test_unsupported_pair_lists_the_teachers_students():
    message = only_problem(stage_with({**LLAMA, "student": "meta.llama3-1-70b-instruct-v1:0:128k"}))
    assert message == (
        'context.stages.dev.models.chat.distillation: student "meta.llama3-1-70b-instruct-v1:0:128k" is not offered '
        "for teacher "
        '"meta.llama3-1-70b-instruct-v1:0"; its students are: meta.llama3-1-8b-instruct-v1:0:128k, '
        "meta.llama3-2-1b-instruct-v1:0:128k, meta.llama3-2-3b-instruct-v1:0:128k (catalog read 2026-12-01; set "
        "allowUnlistedPair to true to use a pair AWS added since)"
    )


def test_a_student_without_its_context_suffix_gets_the_suffixed_id():
    message = only_problem(stage_with({**LLAMA, "student": "meta.llama3-1-8b-instruct-v1:0"}))
    assert message.startswith(
        'context.stages.dev.models.chat.distillation: student "meta.llama3-1-8b-instruct-v1:0" is not offered for '
        "teacher "
        '"meta.llama3-1-70b-instruct-v1:0" (did you mean "meta.llama3-1-8b-instruct-v1:0:128k"?); its students are:'
    )


def test_pair_in_a_region_without_it():
    message = only_problem(stage_with(LLAMA, region="us-east-1"))
    assert message == (
        'context.stages.dev.models.chat.distillation: teacher "meta.llama3-1-70b-instruct-v1:0" is not available for '
        "distillation in us-east-1; its Regions are: us-west-2 (catalog read 2026-12-01; set allowUnlistedPair "
        "to true to use a pair AWS added since)"
    )


def test_unknown_teacher_lists_the_teachers():
    message = only_problem(stage_with({**LLAMA, "teacher": "meta.llama4-maverick-17b-instruct-v1:0"}))
    assert message.startswith(
        'context.stages.dev.models.chat.distillation: teacher "meta.llama4-maverick-17b-instruct-v1:0" is not a '
        "distillation "
        "teacher in the catalog; teachers: amazon.nova-pro-v1:0, amazon.nova-premier-v1:0,"
    )


def test_teacher_and_student_from_different_providers():
    assert only_problem(stage_with({**LLAMA, "student": "amazon.nova-lite-v1:0:300k"})) == (
        'context.stages.dev.models.chat.distillation: teacher "meta.llama3-1-70b-instruct-v1:0" and student '
        '"amazon.nova-lite-v1:0:300k" come from different providers; Bedrock distils only within one provider'
    )


def test_the_escape_hatch_allows_an_unlisted_pair_with_a_warning():
    model = parse(stage_with({**LLAMA, "student": "meta.llama3-1-70b-instruct-v1:0:128k", "allowUnlistedPair": True}))
    assert model.distillation.pair_warning.endswith("; allowed by allowUnlistedPair")


@pytest.mark.parametrize("key", ["teacher", "student"])
def test_teacher_and_student_are_required(key):
    settings = {k: v for k, v in LLAMA.items() if k != key}
    assert f"context.stages.dev.models.chat.distillation.{key} is missing" in only_problem(stage_with(settings))


def test_training_data_must_name_exactly_one_source():
    message = only_problem(stage_with({**LLAMA, "trainingData": {"s3Uri": "s3://a/b", "file": DATASET}}))
    assert message == (
        "context.stages.dev.models.chat.distillation.trainingData names file, s3Uri; it must name exactly one of "
        '"file" (a local JSONL file), "s3Uri" or "invocationLogs"'
    )
    assert only_problem(stage_with({**LLAMA, "trainingData": {}})).startswith(
        "context.stages.dev.models.chat.distillation.trainingData names no source;"
    )


def test_a_valid_local_dataset_parses():
    model = parse(stage_with({**LLAMA, "trainingData": {"file": DATASET}}))
    assert model.distillation.training_data.file == Path(DATASET).resolve()


def test_a_local_dataset_with_problems_stops_the_synth_with_the_validators_messages():
    path = str(REFERENCE_DATA / "uber10k-prompt-completion.jsonl")
    found = problems(stage_with({**LLAMA, "trainingData": {"file": path}}))
    assert found[0] == (
        f"context.stages.dev.models.chat.distillation.trainingData.file: {path}:1: (record): this is the "
        "prompt/completion "
        'format ({"prompt", "completion"}), not bedrock-conversation-2024; `distill convert` converts it'
    )


def test_a_missing_local_dataset_names_the_path_it_was_read_as(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_stages({"dev": stage_with({**LLAMA, "trainingData": {"file": "nowhere.jsonl"}})}, tmp_path)
    assert raised.value.problems == [
        'context.stages.dev.models.chat.distillation.trainingData.file is "nowhere.jsonl", read as '
        f"{tmp_path / 'nowhere.jsonl'} "
        f"(a relative path is resolved against the folder of the cdk.json, {tmp_path}); the file cannot be read: No "
        "such file or directory"
    ]


@pytest.fixture
def two_folders(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A project folder holding a valid data/train.jsonl, and the working directory, another folder whose
    data/train.jsonl is no dataset: a path read against the wrong folder fails the parse."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    for folder in (project, elsewhere):
        (folder / "data").mkdir(parents=True)
    shutil.copy(DATASET, project / "data" / "train.jsonl")
    (elsewhere / "data" / "train.jsonl").write_text("not a record\n")
    monkeypatch.chdir(elsewhere)
    return project, elsewhere


@pytest.mark.parametrize("given", ["absolute", "relative"])
def test_a_relative_dataset_path_is_read_against_the_folder_given_whatever_the_working_directory(two_folders, given):
    project, _ = two_folders
    base_dir = project if given == "absolute" else Path("..") / "project"
    stage = load_stages({"dev": stage_with({**LLAMA, "trainingData": {"file": "data/train.jsonl"}})}, base_dir)["dev"]
    assert stage.models["chat"].distillation.training_data.file == project / "data" / "train.jsonl"


def test_without_a_folder_a_relative_dataset_path_is_read_against_the_working_directory(two_folders):
    """The CDK CLI runs the app in the folder of cdk.json; the package's own folder is not it once installed."""
    _, elsewhere = two_folders
    found = problems(stage_with({**LLAMA, "trainingData": {"file": "data/train.jsonl"}}))
    assert found[0].startswith(
        f"context.stages.dev.models.chat.distillation.trainingData.file: {elsewhere / 'data' / 'train.jsonl'}:1:"
    )


def test_s3_uri_must_look_like_one():
    assert only_problem(stage_with({**LLAMA, "trainingData": {"s3Uri": "https://bucket/x"}})) == (
        'context.stages.dev.models.chat.distillation.trainingData.s3Uri is "https://bucket/x"; it must be an S3 URI '
        "like "
        "s3://bucket/prefix/data.jsonl"
    )


def test_invocation_logs_with_a_filter():
    model = parse(
        stage_with(
            {
                **LLAMA,
                "trainingData": {
                    "invocationLogs": {"filters": {"equals": {"project": "x"}}, "usePromptResponse": True}
                },
            }
        )
    )
    data = model.distillation.training_data
    assert data.invocation_logs and data.use_prompt_response
    assert data.filters.to_api() == {"equals": {"project": "x"}}


def test_invocation_logs_need_logging_or_a_location():
    settings = stage_with({**LLAMA, "trainingData": {"invocationLogs": {}}}, invocationLogging={"enabled": False})
    assert only_problem(settings) == (
        "context.stages.dev.models.chat.distillation.trainingData.invocationLogs reads the stage's invocation logs, "
        "but "
        "invocationLogging.enabled is false; enable it or give the logs' location in s3Uri"
    )


def test_a_bad_filter_is_reported_where_it_is():
    settings = stage_with(
        {**LLAMA, "trainingData": {"invocationLogs": {"filters": {"andAll": [{"equals": {"a": "1"}}] * 17}}}}
    )
    assert only_problem(settings) == (
        "context.stages.dev.models.chat.distillation.trainingData.invocationLogs.filters.andAll has 17 items; it must "
        "hold 1 to 16"
    )


def test_max_response_length():
    assert only_problem(stage_with({**LLAMA, "maxResponseLength": 0})) == (
        "context.stages.dev.models.chat.distillation.maxResponseLength is 0; it must be a whole number from 1 to 32768"
    )


def test_vpc_needs_subnets_and_security_groups():
    assert only_problem(stage_with({**LLAMA, "vpc": {"subnetIds": ["subnet-0123456789abcdef0"]}})) == (
        "context.stages.dev.models.chat.distillation.vpc needs both subnetIds and securityGroupIds, or neither"
    )
    assert only_problem(
        stage_with({**LLAMA, "vpc": {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-01234567"]}})
    ) == (
        'context.stages.dev.models.chat.distillation.vpc.subnetIds is ["subnet-1"]; it must be a list of at most 16 '
        "ids like "
        "subnet-[0-9a-f]{8,17}"
    )


@pytest.mark.parametrize("key", ["retainModel", "allowUnlistedPair"])
def test_distillation_flags_are_booleans(key):
    assert only_problem(stage_with({**LLAMA, key: "no"})) == (
        f'context.stages.dev.models.chat.distillation.{key} is "no"; it must be true or false'
    )


def test_unknown_distillation_key():
    assert only_problem(stage_with({**LLAMA, "teacherModel": "x"})).startswith(
        'context.stages.dev.models.chat.distillation.teacherModel is not a known key (did you mean "teacher"?)'
    )


def test_revision_defaults_to_one_and_is_a_whole_number():
    assert parse(stage_with(LLAMA)).distillation.revision == 1
    assert parse(stage_with({**LLAMA, "revision": 3})).distillation.revision == 3
    assert only_problem(stage_with({**LLAMA, "revision": 0})) == (
        "context.stages.dev.models.chat.distillation.revision is 0; it must be a whole number from 1 to 9999"
    )


# --- teacher and student identifiers in every form the API takes (case 06-arn-teacher) ---------------------------

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "cases"


def case_stages(name: str) -> dict:
    """A case's stages in the models form: the cases were reported for a stage of one model, written in the form
    stages had then (the distillation and serving keys at the stage); each becomes the stage's model ``reported``."""
    stages = json.loads((CASES / name).read_text())["context"]["stages"]
    for stage in stages.values():
        stage["models"] = {"reported": {key: stage.pop(key) for key in ("distillation", "serving") if key in stage}}
    return stages


def test_a_case_in_the_form_it_was_reported_in_is_refused_with_the_models_form():
    stages = json.loads((CASES / "05-profile-teacher-regions/cdk.json").read_text())["context"]["stages"]
    assert outcome(stages) == [
        'context.stages.novaprof.distillation: a stage holds its models under "models"; move it to '
        'context.stages.novaprof.models.<name>.distillation, e.g. "models": {"assistant": {"distillation": {...}, '
        '"serving": {...}}}',
        'context.stages.novaprof.serving: a stage holds its models under "models"; move it to '
        'context.stages.novaprof.models.<name>.serving, e.g. "models": {"assistant": {"distillation": {...}, '
        '"serving": {...}}}',
    ]


def with_teacher(stages: dict, teacher: str) -> dict:
    changed = copy.deepcopy(stages)
    for stage in changed.values():
        stage["models"]["reported"]["distillation"]["teacher"] = teacher
    return changed


def outcome(stages: dict):
    """What parsing gives: the stages, or the list of problems."""
    try:
        return load_stages(stages)
    except ConfigError as error:
        return error.problems


@pytest.mark.parametrize(
    ("case", "model_id"),
    [
        ("06-arn-teacher/cdk-foundation-model-arn.json", "meta.llama3-1-405b-instruct-v1:0"),
        ("06-arn-teacher/cdk-arn-allow-unlisted.json", "meta.llama3-1-405b-instruct-v1:0"),
        ("06-arn-teacher/cdk-inference-profile-arn.json", "us.amazon.nova-premier-v1:0"),
    ],
)
def test_a_teacher_given_as_an_arn_has_the_same_outcome_as_its_id(case, model_id):
    stages = case_stages(case)
    assert outcome(stages) == outcome(with_teacher(stages, model_id))


def test_a_foundation_model_arn_teacher_is_its_model_with_no_provider_mismatch():
    distillation = (
        load_stages(case_stages("06-arn-teacher/cdk-foundation-model-arn.json"))["s1"].models["reported"].distillation
    )
    assert (distillation.teacher, distillation.teacher_model) == (
        "meta.llama3-1-405b-instruct-v1:0",
        "meta.llama3-1-405b-instruct-v1:0",
    )
    assert (distillation.teacher_profile, distillation.teacher_regions) == (None, ("us-west-2",))
    assert distillation.pair_warning is None


def test_an_inference_profile_arn_teacher_is_its_profile():
    stages = case_stages("06-arn-teacher/cdk-inference-profile-arn.json")
    stages["s1"]["models"]["reported"]["distillation"]["teacher"] = (
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0"
    )
    distillation = load_stages(stages)["s1"].models["reported"].distillation
    assert (distillation.teacher, distillation.teacher_model, distillation.teacher_profile) == (
        "us.amazon.nova-pro-v1:0",
        "amazon.nova-pro-v1:0",
        "us.amazon.nova-pro-v1:0",
    )


def test_a_student_given_as_a_foundation_model_arn_is_its_id():
    arn = "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-8b-instruct-v1:0:128k"
    assert parse(stage_with({**LLAMA, "student": arn})).distillation.student == "meta.llama3-1-8b-instruct-v1:0:128k"


def test_an_application_inference_profile_is_refused_for_distillation():
    arn = "arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/a1b2c3d4e5f6"
    assert only_problem(stage_with({**LLAMA, "teacher": arn})) == (
        f'context.stages.dev.models.chat.distillation: teacher "{arn}" is an application inference profile; only '
        "system "
        "inference profiles are supported for model distillation "
        "(https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation.html, read 2026-12-01); "
        "name the system profile or the model it copies"
    )


def test_an_arn_of_another_region_is_refused_with_the_id_to_use():
    arn = "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-1-70b-instruct-v1:0"
    assert only_problem(stage_with({**LLAMA, "teacher": arn})) == (
        f'context.stages.dev.models.chat.distillation: teacher "{arn}" is an ARN in us-east-1, but the stage is in '
        "us-west-2; a "
        'distillation job calls its teacher from its own Region: use "meta.llama3-1-70b-instruct-v1:0"'
    )


@pytest.mark.parametrize(
    ("teacher", "message"),
    [
        (
            "arn:aws:s3:::bucket/teacher",
            'context.stages.dev.models.chat.distillation.teacher: "arn:aws:s3:::bucket/teacher" is not a model ARN '
            "Bedrock "
            "accepts; use arn:aws:bedrock:<region>::foundation-model/<model id> or "
            "arn:aws:bedrock:<region>:<account>:inference-profile/<profile id>",
        ),
        (
            "arn:aws:bedrock:us-west-2::foundation-model/us.meta.llama3-1-70b-instruct-v1:0",
            'context.stages.dev.models.chat.distillation.teacher: "arn:aws:bedrock:us-west-2::foundation-model/'
            'us.meta.llama3-1-70b-instruct-v1:0" is not a foundation-model ARN Bedrock accepts: it must end with a '
            "model id",
        ),
        (
            "Llama 3.1 70B",
            'context.stages.dev.models.chat.distillation.teacher: "Llama 3.1 70B" is not a Bedrock model id (like '
            '"amazon.nova-pro-v1:0") or inference profile id',
        ),
    ],
)
def test_text_that_is_no_model_identifier_is_refused(teacher, message):
    assert only_problem(stage_with({**LLAMA, "teacher": teacher})) == message


def test_a_student_given_as_an_inference_profile_is_refused():
    assert only_problem(stage_with({**LLAMA, "student": "us.meta.llama3-1-8b-instruct-v1:0"})) == (
        'context.stages.dev.models.chat.distillation.student is "us.meta.llama3-1-8b-instruct-v1:0"; a student is a '
        "foundation "
        'model with its context suffix, like "amazon.nova-lite-v1:0:300k", not an inference profile'
    )


# --- inference profiles and their Regions (case 05-profile-teacher-regions) ---------------------------------------


def test_a_profile_teacher_gets_every_region_it_routes_to():
    distillation = (
        load_stages(case_stages("05-profile-teacher-regions/cdk.json"))["novaprof"].models["reported"].distillation
    )
    assert (distillation.teacher, distillation.teacher_profile) == (
        "us.amazon.nova-pro-v1:0",
        "us.amazon.nova-pro-v1:0",
    )
    assert distillation.teacher_regions == ("us-east-1", "us-east-2", "us-west-2")


PROFILE_70B = {**LLAMA, "teacher": "us.meta.llama3-1-70b-instruct-v1:0"}


def test_a_profile_whose_regions_the_catalog_does_not_know_is_refused_with_the_fix():
    assert only_problem(stage_with(PROFILE_70B)) == (
        'context.stages.dev.models.chat.distillation: teacher "us.meta.llama3-1-70b-instruct-v1:0" is a cross-Region '
        "inference "
        "profile whose Regions the catalog does not know when called from us-west-2; the service role needs the "
        "model in every Region it routes to, so list them in teacherRegions (GetInferenceProfile shows them: `aws "
        "bedrock get-inference-profile --inference-profile-identifier us.meta.llama3-1-70b-instruct-v1:0 --region "
        "us-west-2`)"
    )


def test_a_profile_the_stage_lists_the_regions_of_is_granted_them():
    model = parse(stage_with({**PROFILE_70B, "teacherRegions": ["us-west-2", "us-east-1", "us-west-2"]}))
    assert model.distillation.teacher_regions == ("us-west-2", "us-east-1")


def test_listed_regions_must_cover_the_catalogs():
    settings = stage_with(
        {
            "teacher": "us.amazon.nova-pro-v1:0",
            "student": "amazon.nova-lite-v1:0:300k",
            "teacherRegions": ["us-east-1"],
        },
        region="us-east-1",
    )
    settings["models"]["chat"]["distillation"]["trainingData"] = {"s3Uri": "s3://datasets/train.jsonl"}
    assert only_problem(settings) == (
        "context.stages.dev.models.chat.distillation: teacherRegions leaves out us-east-2, us-west-2, where "
        '"us.amazon.nova-pro-v1:0" routes from us-east-1 '
        "(https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-amazon-nova-pro.html, read 2026-12-01); list "
        "every Region: us-east-1, us-east-2, us-west-2"
    )


def test_listed_regions_are_for_profiles_only():
    assert only_problem(stage_with({**LLAMA, "teacherRegions": ["us-west-2"]})) == (
        "context.stages.dev.models.chat.distillation: teacherRegions applies to a teacher given as a cross-Region "
        "inference "
        'profile; "meta.llama3-1-70b-instruct-v1:0" runs in us-west-2 only: remove teacherRegions'
    )


def test_listed_regions_must_be_region_codes():
    assert problems(stage_with({**PROFILE_70B, "teacherRegions": "us-west-2"}))[0] == (
        'context.stages.dev.models.chat.distillation.teacherRegions is "us-west-2"; it must be a list of Region codes '
        "like "
        '["us-east-1", "us-west-2"]'
    )


def test_a_profile_only_teacher_given_by_its_model_id_is_refused_with_the_profile_to_use():
    settings = stage_with({**LLAMA, "teacher": "meta.llama3-3-70b-instruct-v1:0"})
    assert only_problem(settings) == (
        'context.stages.dev.models.chat.distillation: teacher "meta.llama3-3-70b-instruct-v1:0" is offered for '
        "distillation only "
        "through an inference profile "
        "(https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation.html, read 2026-12-01); "
        'use "us.meta.llama3-3-70b-instruct-v1:0"'
    )
    distillation = parse(stage_with({**LLAMA, "teacher": "us.meta.llama3-3-70b-instruct-v1:0"})).distillation
    assert distillation.teacher_regions == ("us-east-1", "us-east-2", "us-west-2")


def test_a_model_only_teacher_given_as_a_profile_is_refused_with_its_id():
    found = problems(
        stage_with({**LLAMA, "teacher": "us.meta.llama3-1-405b-instruct-v1:0", "teacherRegions": ["us-west-2"]})
    )
    assert found == [
        'context.stages.dev.models.chat.distillation: teacher "us.meta.llama3-1-405b-instruct-v1:0" is an inference '
        "profile, but "
        "the distillation page offers meta.llama3-1-405b-instruct-v1:0 by its model id only; use "
        '"meta.llama3-1-405b-instruct-v1:0" (catalog read 2026-12-01; set allowUnlistedPair to true to use a pair AWS '
        "added since)"
    ]


# --- lifecycles ---------------------------------------------------------------------------------------------------

NOVA = {
    "teacher": "amazon.nova-pro-v1:0",
    "student": "amazon.nova-lite-v1:0:300k",
    "trainingData": {"s3Uri": "s3://datasets/train.jsonl"},
}
ACTIVE_TEACHERS = (
    "choose an ACTIVE teacher: amazon.nova-pro-v1:0 in us-east-1 (students: amazon.nova-lite-v1:0:300k, "
    "amazon.nova-micro-v1:0:128k); meta.llama3-1-70b-instruct-v1:0 in us-west-2 (students: "
    "meta.llama3-1-8b-instruct-v1:0:128k)"
)


@pytest.mark.parametrize("allow_unlisted", [False, True])
def test_a_teacher_past_its_end_of_life_is_refused_whatever_the_stage_allows(allow_unlisted):
    settings = stage_with(
        {**NOVA, "teacher": "us.amazon.nova-premier-v1:0", "allowUnlistedPair": allow_unlisted}, region="us-east-1"
    )
    assert only_problem(settings) == (
        'context.stages.dev.models.chat.distillation: teacher "amazon.nova-premier-v1:0" (Amazon Nova Premier) reached '
        "its end of "
        "life on 2026-09-14 (https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-amazon-nova-premier.html, "
        "read 2026-12-01; the card gives the end of life as September 14, 2026 and also 'EOL no sooner than Oct 31, "
        "2026'; both dates are past, so either way Bedrock no longer serves it): Bedrock no longer serves it, and "
        f"allowUnlistedPair cannot change that; {ACTIVE_TEACHERS}"
    )


def test_a_student_past_its_end_of_life_is_refused():
    settings = stage_with(
        {
            "teacher": "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "student": "anthropic.claude-3-haiku-20240307-v1:0:200k",
            "allowUnlistedPair": True,
            "trainingData": {"s3Uri": "s3://datasets/train.jsonl"},
        }
    )
    assert only_problem(settings) == (
        'context.stages.dev.models.chat.distillation: teacher "anthropic.claude-3-5-sonnet-20241022-v2:0" is not a '
        "distillation "
        "teacher (the distillation page says distillation is not currently available for Anthropic models, with no "
        "date for its return; https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation"
        '.html, read 2026-12-01); and student "anthropic.claude-3-haiku-20240307-v1:0:200k" (Anthropic Claude 3 '
        "Haiku) reached its end of life on 2026-09-10 "
        "(https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html, read 2026-12-01): Bedrock "
        f"no longer serves it, and allowUnlistedPair cannot change that; {ACTIVE_TEACHERS}"
    )


def test_the_end_of_life_is_judged_on_the_day_it_is_checked():
    from datetime import date

    from distill.config import catalog

    teacher = catalog.parse_model("us.amazon.nova-premier-v1:0")
    student = catalog.parse_model("amazon.nova-lite-v1:0:300k")
    before = catalog.check_pair(teacher, student, "us-east-1", on=date(2026, 9, 13))
    assert before.model_warnings[0].startswith('teacher "amazon.nova-premier-v1:0" (Amazon Nova Premier) is Legacy')
    with pytest.raises(catalog.CatalogError, match="reached its end of life on 2026-09-14"):
        catalog.check_pair(teacher, student, "us-east-1", on=date(2026, 9, 14))


def test_a_legacy_teacher_is_accepted_with_a_warning_that_says_what_to_choose():
    model = parse(stage_with({**LLAMA, "teacher": "meta.llama3-1-405b-instruct-v1:0"}))
    assert model.distillation.model_warnings == (
        'teacher "meta.llama3-1-405b-instruct-v1:0" (Meta Llama 3.1 405B Instruct) is Legacy (Legacy since '
        "2026-07-07, end of life not announced; "
        "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-meta-llama-3-1-405b-instruct.html, read "
        "2026-12-01; the card gives no end-of-life date; the lifecycle page promises at least 6 months in Legacy): new "
        "customers cannot use a Legacy model, and existing ones lose access after 15 days without use; "
        f"{ACTIVE_TEACHERS}",
    )


def test_a_listed_active_pair_has_no_warnings():
    distillation = parse(stage_with(LLAMA)).distillation
    assert (distillation.pair_warning, distillation.model_warnings) == (None, ())


def test_a_model_the_distillation_page_does_not_offer_says_why():
    settings = stage_with({**NOVA, "student": "amazon.nova-2-lite-v1:0:256k"}, region="us-east-1")
    assert only_problem(settings).startswith(
        'context.stages.dev.models.chat.distillation: student "amazon.nova-2-lite-v1:0:256k" is not offered for '
        "teacher "
        '"amazon.nova-pro-v1:0" (the distillation page lists no Nova 2 model; Nova 2 Lite is offered for fine-tuning '
        "only; https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation.html, read "
        "2026-12-01); its students are: amazon.nova-lite-v1:0:300k, amazon.nova-micro-v1:0:128k"
    )


def test_no_shipped_stage_uses_a_model_that_is_not_active(context):
    from distill.config import catalog

    for name, stage in load_stages(context["stages"], ROOT).items():
        for model in stage.models.values():
            for model_id in (model.distillation.teacher, model.distillation.student):
                assert catalog.lifecycle(model_id).status == catalog.LIFECYCLE_ACTIVE, (name, model.name, model_id)
            assert model.distillation.model_warnings == ()


def test_every_catalog_entry_names_its_user_guide_page_and_the_day_it_was_read():
    from distill.config import catalog

    table = catalog.catalog()
    sources = [t.source for t in table.teachers.values()] + [p.source for p in table.profiles.values()]
    sources += [life.source for life in table.lifecycles.values()]
    sources += [table.sharing_source, table.on_demand_source, table.profiles_source, table.not_offered_source]
    sources += [table.provisioned.source, table.provisioned.quota_page]
    for source in sources:
        assert source.page.startswith("https://docs.aws.amazon.com/"), source
        assert source.read == "2026-12-01", source
    for teacher in table.teachers.values():
        for model in (teacher.model_id, *teacher.students):
            assert catalog.lifecycle(model) is not None, model
    for profile in table.profiles.values():
        assert catalog.base_model_id(profile.profile_id) == profile.model_id


@pytest.mark.parametrize(
    ("model", "multi_turn"),
    [
        ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0", True),
        ("arn:aws:bedrock:us-east-1:111111111111:inference-profile/us.amazon.nova-pro-v1:0", True),
        ("arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-70b-instruct-v1:0", False),
        ("arn:aws:bedrock:us-west-2:111111111111:application-inference-profile/a1b2c3d4e5f6", False),
    ],
)
def test_the_provider_rules_read_a_model_in_any_form(model, multi_turn):
    from distill.config import catalog

    assert catalog.allows_multi_turn(model) is multi_turn
