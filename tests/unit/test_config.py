"""Every configuration key: a valid value parses, a bad one stops synth with a message naming the fix."""

from __future__ import annotations

import copy

import pytest

from distill.config.reader import ConfigError
from distill.config.stages import BEDROCK_REGIONS, InvocationLoggingConfig, StageConfig, load_stages
from tests.conftest import ROOT, project_context

VALID = {"region": "us-west-2"}


def one_model(distillation: dict | None = None, serving: dict | None = None) -> dict:
    """The ``models`` key of a stage whose one model, ``chat``, has these settings (none: no models)."""
    if distillation is None:
        return {}
    model = {"distillation": distillation, **({"serving": serving} if serving is not None else {})}
    return {"models": {"chat": model}}


def problems_for(stage: dict, name: str = "dev") -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_stages({name: stage}, ROOT)
    return raised.value.problems


def only_problem(stage: dict, name: str = "dev") -> str:
    (problem,) = problems_for(stage, name)
    return problem


def test_the_projects_cdk_json_parses():
    stages = load_stages(project_context()["stages"], ROOT)
    assert "sandbox" in stages


def test_defaults_are_safe():
    stage = load_stages({"dev": VALID})["dev"]
    assert stage == StageConfig(name="dev", region="us-west-2")
    assert stage.removal_policy == "retain"
    assert stage.invocation_logging == InvocationLoggingConfig(
        enabled=False, take_over=False, retention_days=90, allow_destroying_logs=False
    )
    assert stage.compliance_packs == ()


def test_every_key_parses():
    stage = load_stages(
        {
            "prod": {
                "account": "123456789012",
                "region": "us-east-1",
                "removalPolicy": "destroy",
                "invocationLogging": {
                    "enabled": False,
                    "takeOver": True,
                    "keyPrefix": "logs/bedrock",
                    "retentionDays": 30,
                    "allowDestroyingLogs": True,
                },
                "compliancePacks": ["NIST.800.53.R5"],
                "tags": {"team": "ml"},
            }
        }
    )["prod"]
    assert stage.account == "123456789012"
    assert stage.destroy_on_delete
    assert stage.invocation_logging == InvocationLoggingConfig(
        enabled=False, take_over=True, key_prefix="logs/bedrock", retention_days=30, allow_destroying_logs=True
    )
    assert stage.compliance_packs == ("NIST.800.53.R5",)
    assert dict(stage.tags) == {"team": "ml"}


def test_missing_stages_entry():
    with pytest.raises(ConfigError) as raised:
        load_stages(None)
    assert raised.value.problems == ['cdk.json context has no "stages" entry; add at least one stage']


def test_empty_stages():
    with pytest.raises(ConfigError) as raised:
        load_stages({})
    assert raised.value.problems == ["context.stages is empty; add at least one stage"]


def test_stages_not_an_object():
    with pytest.raises(ConfigError) as raised:
        load_stages(["dev"])
    assert raised.value.problems == ['context.stages is ["dev"]; it must be an object of named entries']


def test_stage_not_an_object():
    assert problems_for("us-west-2") == [
        'context.stages.dev is "us-west-2"; it must be an object ({...})',
        "context.stages.dev.region is missing; it must be a Region where Amazon Bedrock is available: "
        + ", ".join(BEDROCK_REGIONS),
    ]


def test_bad_stage_name():
    assert only_problem(VALID, name="9-lives") == (
        'context.stages.9-lives: stage name "9-lives" must start with a letter and hold at most 24 letters, '
        "digits and single hyphens, not ending with one (it prefixes stack, job and model names)"
    )


def test_missing_region():
    assert only_problem({}) == (
        "context.stages.dev.region is missing; it must be a Region where Amazon Bedrock is available: "
        + ", ".join(BEDROCK_REGIONS)
    )


def test_region_without_bedrock():
    assert only_problem({"region": "us-west-9"}) == (
        'context.stages.dev.region is "us-west-9" (did you mean "us-west-2"?); it must be a Region where Amazon '
        "Bedrock is available: " + ", ".join(BEDROCK_REGIONS)
    )


@pytest.mark.parametrize("account", ["12345678901", "1234567890123", "12345678901a", 123456789012])
def test_account_not_twelve_digits(account):
    assert only_problem({**VALID, "account": account}) == (
        f"context.stages.dev.account is {account!r}; it must be an AWS account id of 12 digits".replace("'", '"')
    )


def test_removal_policy():
    assert only_problem({**VALID, "removalPolicy": "delete"}) == (
        'context.stages.dev.removalPolicy is "delete"; it must be one of "retain", "destroy"'
    )


def test_invocation_logging_not_an_object():
    assert only_problem({**VALID, "invocationLogging": True}) == (
        "context.stages.dev.invocationLogging is true; it must be an object ({...})"
    )


@pytest.mark.parametrize("key", ["enabled", "takeOver", "allowDestroyingLogs"])
def test_invocation_logging_flags_are_booleans(key):
    assert only_problem({**VALID, "invocationLogging": {key: "yes"}}) == (
        f'context.stages.dev.invocationLogging.{key} is "yes"; it must be true or false'
    )


@pytest.mark.parametrize("prefix", ["/logs", "", "a" * 129, "logs with spaces"])
def test_invocation_logging_key_prefix(prefix):
    assert only_problem({**VALID, "invocationLogging": {"keyPrefix": prefix}}) == (
        f'context.stages.dev.invocationLogging.keyPrefix is "{prefix}"; it must be an S3 key prefix of 1 to 128 '
        "characters (letters, digits, / and !_.*'()-), not starting with /"
    )


def test_invocation_logging_unknown_key():
    assert only_problem({**VALID, "invocationLogging": {"takeover": True}}) == (
        'context.stages.dev.invocationLogging.takeover is not a known key (did you mean "takeOver"?); allowed keys '
        "here: allowDestroyingLogs, enabled, keyPrefix, retentionDays, takeOver"
    )


# -- whether a stage logs the account's invocations, for how long, and what destroy may delete ---------------------
NOVA_PAIR = {"teacher": "amazon.nova-pro-v1:0", "student": "amazon.nova-lite-v1:0:300k"}
FROM_FILE = {**NOVA_PAIR, "trainingData": {"file": "datasets/sample-sec-filings.jsonl"}}
FROM_OWN_LOGS = {**NOVA_PAIR, "trainingData": {"invocationLogs": {"filters": {"equals": {"project": "claims"}}}}}
FROM_OTHER_LOGS = {
    **NOVA_PAIR,
    "trainingData": {"invocationLogs": {"s3Uri": "s3://security-team-logs/bedrock/AWSLogs/"}},
}


def logging_of(distillation: dict | None = None, **logging) -> InvocationLoggingConfig:
    stage = {"region": "us-east-1", **one_model(distillation)}
    if logging:
        stage["invocationLogging"] = logging
    return load_stages({"dev": stage}, ROOT)["dev"].invocation_logging


def test_logging_is_on_by_default_only_for_a_stage_that_trains_from_its_own_logs():
    assert logging_of(FROM_OWN_LOGS).enabled
    assert not logging_of(FROM_FILE).enabled
    assert not logging_of(FROM_OTHER_LOGS).enabled
    assert not logging_of().enabled  # a foundation-only stage


def test_a_stage_turns_logging_on_by_saying_so():
    assert logging_of(FROM_FILE, enabled=True).enabled
    assert logging_of(enabled=True).enabled  # a foundation-only stage collecting logs for a later distillation


def test_a_stage_training_from_its_own_logs_cannot_switch_logging_off():
    assert only_problem(
        {"region": "us-east-1", **one_model(FROM_OWN_LOGS), "invocationLogging": {"enabled": False}}
    ) == (
        "context.stages.dev.models.chat.distillation.trainingData.invocationLogs reads the stage's invocation logs, "
        "but "
        "invocationLogging.enabled is false; enable it or give the logs' location in s3Uri"
    )


def test_log_retention_defaults_to_90_days():
    assert logging_of(FROM_OWN_LOGS).retention_days == 90
    assert logging_of(FROM_OWN_LOGS, retentionDays=2147483647).retention_days == 2147483647


@pytest.mark.parametrize("days", [0, -1, 2147483648, 7.5, "90", True])
def test_log_retention_must_be_what_an_s3_lifecycle_expiration_takes(days):
    shown = {True: "true", "90": '"90"'}.get(days, str(days))
    assert only_problem({**VALID, "invocationLogging": {"retentionDays": days}}) == (
        f"context.stages.dev.invocationLogging.retentionDays is {shown}; it must be a whole number of days from 1 to "
        "2147483647, after which S3 expires each invocation log (an S3 lifecycle expiration takes a positive number "
        "of days)"
    )


DESTROY_REFUSED = (
    'context.stages.dev.removalPolicy is "destroy", and the stage turns on model invocation logging, which delivers '
    "the prompts and responses of every model invocation in the account and Region, not only the stage's, to its "
    "invocation-logs bucket; destroy would delete them with the bucket. Set "
    'context.stages.dev.invocationLogging.allowDestroyingLogs to true to accept that, or use "retain"'
)


@pytest.mark.parametrize(
    ("distillation", "logging"),
    [
        (FROM_OWN_LOGS, {}),
        (FROM_FILE, {"enabled": True}),
        (None, {"enabled": True}),
        (FROM_OWN_LOGS, {"takeOver": True}),
    ],
    ids=["own-logs", "file-with-logging", "foundation-only", "take-over"],
)
def test_destroy_is_refused_for_a_stage_whose_bucket_receives_the_accounts_logs(distillation, logging):
    stage = {"region": "us-east-1", "removalPolicy": "destroy", "invocationLogging": logging, **one_model(distillation)}
    assert only_problem(stage) == DESTROY_REFUSED


def test_destroy_deletes_the_accounts_logs_only_when_the_stage_says_so():
    stage = {
        "region": "us-east-1",
        "removalPolicy": "destroy",
        **one_model(FROM_OWN_LOGS),
        "invocationLogging": {"allowDestroyingLogs": True, "takeOver": True},
    }
    assert load_stages({"dev": stage}, ROOT)["dev"].invocation_logging.allow_destroying_logs
    # Without logging the bucket receives nothing, and destroy needs no word.
    assert load_stages({"dev": {"region": "us-east-1", "removalPolicy": "destroy", **one_model(FROM_FILE)}}, ROOT)


def test_a_retained_or_committed_model_is_a_model_that_outlives_the_stack():
    def retains(distillation: dict, serving: dict | None = None) -> bool:
        stage = {"region": "us-east-1", **one_model(distillation, serving or {"mode": "onDemand"})}
        return load_stages({"dev": stage}, ROOT)["dev"].retains_custom_models

    assert retains(FROM_FILE)  # retainModel defaults to true
    assert not retains({**FROM_FILE, "retainModel": False})
    committed = {"mode": "provisioned", "commitment": "OneMonth", "acknowledgeCommitment": True}
    assert retains({**FROM_FILE, "retainModel": False}, committed)


def test_compliance_packs():
    assert only_problem({**VALID, "compliancePacks": ["HIPAA"]}) == (
        'context.stages.dev.compliancePacks is ["HIPAA"]; it must be a list of cdk-nag packs from "HIPAA.Security", '
        '"NIST.800.53.R5" (AwsSolutions always runs)'
    )


def test_tags():
    assert only_problem({**VALID, "tags": {"team": 7}}) == (
        'context.stages.dev.tags is {"team": 7}; it must be an object of cost-allocation tags: string keys of 1 to '
        "128 characters and string values of at most 256 characters"
    )


def test_unknown_stage_key_suggests_the_closest_one():
    message = only_problem({**VALID, "regoin": "us-east-1"})
    assert message.startswith('context.stages.dev.regoin is not a known key (did you mean "region"?); allowed keys')


def test_all_problems_are_reported_at_once():
    stage = copy.deepcopy({"region": "mars-1", "removalPolicy": "keep", "tags": []})
    assert len(problems_for(stage)) == 3
    with pytest.raises(ConfigError) as raised:
        load_stages({"dev": stage})
    assert str(raised.value).startswith("Invalid configuration:\n  - context.stages.dev.region")


NOVA = {
    "teacher": "amazon.nova-pro-v1:0",
    "student": "amazon.nova-lite-v1:0:300k",
    "trainingData": {"s3Uri": "s3://example-datasets/train.jsonl"},
}


def test_a_teacher_without_its_version_suffix_gets_the_id_meant():
    stage = {"region": "us-east-1", **one_model({**NOVA, "teacher": "amazon.nova-pro-v1"})}
    assert only_problem(stage) == (
        'context.stages.dev.models.chat.distillation: teacher "amazon.nova-pro-v1" is not a distillation teacher in '
        "the catalog "
        '(did you mean "amazon.nova-pro-v1:0"?); teachers: amazon.nova-pro-v1:0, amazon.nova-premier-v1:0, '
        "meta.llama3-1-405b-instruct-v1:0, meta.llama3-1-70b-instruct-v1:0, meta.llama3-3-70b-instruct-v1:0 (catalog "
        "read 2026-12-01; set allowUnlistedPair to true to use a pair AWS added since)"
    )


def test_an_anthropic_pair_is_told_that_anthropic_distillation_is_not_offered():
    """Before, only the student's end of life was said, as if another Claude student would do."""
    claude = {
        **NOVA,
        "teacher": "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "student": "anthropic.claude-3-haiku-20240307-v1:0:200k",
    }
    problem = only_problem({"region": "us-west-2", **one_model(claude)})
    assert problem.startswith(
        'context.stages.dev.models.chat.distillation: teacher "anthropic.claude-3-5-sonnet-20241022-v2:0" is not a '
        "distillation "
        "teacher (the distillation page says distillation is not currently available for Anthropic models, with no "
        "date for its return; https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation"
        '.html, read 2026-12-01); and student "anthropic.claude-3-haiku-20240307-v1:0:200k" (Anthropic Claude 3 Haiku) '
        "reached its end of life on 2026-09-10"
    )


@pytest.mark.parametrize("where", ["tags", "models.chat.distillation.jobTags"])
def test_the_stage_tag_cannot_be_set_by_hand(where):
    """Every resource gets distillation-stage: <stage>, and the handlers' IAM conditions depend on it."""
    stage = {"region": "us-west-2", **one_model(copy.deepcopy(NOVA))}
    if where == "tags":
        stage["tags"] = {"distillation-stage": "prod", "team": "ml"}
    else:
        stage["models"]["chat"]["distillation"]["jobTags"] = {"distillation-stage": "prod"}
    with pytest.raises(ConfigError) as raised:
        load_stages({"dev": stage})
    assert (
        f'context.stages.dev.{where} has "distillation-stage": the stack gives every resource this tag with the '
        "stage's name, and the handlers' permissions depend on it; remove it"
    ) in raised.value.problems


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ({"Distillation-Stage": "prod"}, 'has "Distillation-Stage": the stack gives every resource this tag'),
        ({"aws:team": "ml"}, 'has "aws:team"; the aws: prefix is AWS\'s own, use another key'),
        (
            {"a!b": "x"},
            'has "a!b": "x"; tag keys and values may hold only letters, digits, spaces and _ . : / = + @ -',
        ),
    ],
    ids=["stage-tag-in-another-case", "aws-prefix", "character"],
)
def test_tags_aws_would_refuse_are_refused_before_the_deploy(tags, problem):
    stage = {"region": "us-west-2", "tags": tags}
    with pytest.raises(ConfigError) as raised:
        load_stages({"dev": stage})
    assert any(p.startswith(f"context.stages.dev.tags {problem}") for p in raised.value.problems), raised.value.problems


# --- the stage's models -------------------------------------------------------------------------------------------

TICKETS = {**NOVA_PAIR, "trainingData": {"invocationLogs": {"filters": {"equals": {"project": "tickets"}}}}}


def test_a_stage_holds_its_models_by_name_in_the_order_written():
    stage = load_stages(
        {
            "dev": {
                "region": "us-east-1",
                "models": {
                    "support-assistant": {"distillation": FROM_FILE, "serving": {"mode": "onDemand"}},
                    "ticket-classifier": {"distillation": {**TICKETS, "retainModel": False}},
                },
            }
        },
        ROOT,
    )["dev"]
    assert list(stage.models) == ["support-assistant", "ticket-classifier"]
    assistant, classifier = stage.models.values()
    assert (assistant.name, assistant.serving.mode, assistant.student) == (
        "support-assistant",
        "onDemand",
        "amazon.nova-lite-v1:0:300k",
    )
    # A model without serving settings is served as a model of one stage was: one model unit, no commitment.
    assert (classifier.serving.mode, classifier.serving.model_units, classifier.serving.commitment) == (
        "provisioned",
        1,
        "none",
    )
    assert (assistant.trains_from_own_logs, classifier.trains_from_own_logs) == (False, True)
    assert (assistant.retains_custom_model, classifier.retains_custom_model) == (True, False)
    assert stage.trains_from_own_logs and stage.retains_custom_models
    assert stage.distilling_models == (assistant, classifier)
    # One model that trains from the stage's own logs turns logging on for the stage.
    assert stage.invocation_logging.enabled


@pytest.mark.parametrize("models", [None, {}])
def test_a_stage_without_models_deploys_its_foundation_only(models):
    stage = load_stages({"dev": {**VALID, **({} if models is None else {"models": models})}})["dev"]
    assert (stage.models, stage.trains_from_own_logs, stage.retains_custom_models) == ({}, False, False)


@pytest.mark.parametrize("key", ["distillation", "serving", "modelSource"])
def test_the_stage_level_model_keys_are_refused_with_the_models_form(key):
    assert only_problem({**VALID, key: {}}) == (
        f'context.stages.dev.{key}: a stage holds its models under "models"; move it to '
        f'context.stages.dev.models.<name>.{key}, e.g. "models": {{"assistant": {{"distillation": {{...}}, '
        '"serving": {...}}}'
    )


def test_models_must_be_an_object():
    assert only_problem({**VALID, "models": ["assistant"]}) == (
        'context.stages.dev.models is ["assistant"]; it must be an object of named models, e.g. "models": '
        '{"assistant": {"distillation": {...}, "serving": {...}}}'
    )


@pytest.mark.parametrize("name", ["Assistant", "1st-model", "a--b", "tickets-", "a_b", "a" * 25])
def test_a_model_name_is_lower_case_letters_digits_and_single_hyphens(name):
    assert only_problem({"region": "us-east-1", "models": {name: {"distillation": NOVA}}}) == (
        f'context.stages.dev.models.{name}: model name "{name}" must start with a lower-case letter and hold at most '
        "24 lower-case letters, digits and single hyphens, not ending with one (it goes into Bedrock resource names, "
        "stack names and the distillation-model tag)"
    )


def test_a_model_name_of_24_characters_is_allowed():
    name = "a" * 24
    assert list(
        load_stages({"dev": {"region": "us-east-1", "models": {name: {"distillation": NOVA}}}})["dev"].models
    ) == [name]


def test_the_stage_and_model_names_together_must_fit_the_bedrock_names_built_from_them():
    stage = "integration-eu-west"  # 19 characters: with a hyphen, 20 are left for the model's name
    at_the_bound = {"region": "us-east-1", "models": {"support-assistant-v2": {"distillation": NOVA}}}
    assert list(load_stages({stage: at_the_bound})[stage].models) == ["support-assistant-v2"]
    model = "support-assistant-v23"
    assert only_problem({"region": "us-east-1", "models": {model: {"distillation": NOVA}}}, name=stage) == (
        f'context.stages.{stage}.models.{model}: the name prefix "{stage}-{model}" of the model\'s resources is 41 '
        "characters (stage name 19, model name 21, and a hyphen); it must be at most 40, as the longest Bedrock name "
        'built from it ("<prefix>-distill-<12 hex>" for the job, "<prefix>-serving-<12 hex>" for the served model) '
        "must fit in Bedrock's 63 characters; shorten the model name to at most 20 characters, or the stage name"
    )


def test_a_model_distils_or_copies():
    assert only_problem({**VALID, "models": {"chat": {"serving": {"mode": "none"}}}}) == (
        "context.stages.dev.models.chat has neither distillation nor modelSource; a model is either distilled in the "
        'stage (give it "distillation") or copied from another stage ("modelSource")'
    )
    source = {"copyFromStage": "other", "model": "chat", "modelArn": "arn:aws:bedrock:us-east-1:111122223333:x"}
    found = problems_for({"region": "us-east-1", "models": {"chat": {"distillation": NOVA, "modelSource": source}}})
    assert found[0] == (
        "context.stages.dev.models.chat has both distillation and modelSource; a model is either distilled in the "
        "stage or copied from another"
    )


def test_an_unknown_model_key_lists_the_keys_a_model_holds():
    assert only_problem({"region": "us-east-1", "models": {"chat": {"distillation": NOVA, "servng": {}}}}) == (
        'context.stages.dev.models.chat.servng is not a known key (did you mean "serving"?); allowed keys here: '
        "distillation, modelSource, serving"
    )


def test_concurrent_jobs_default_to_two():
    assert load_stages({"dev": VALID})["dev"].concurrent_jobs == 2
    assert load_stages({"dev": {**VALID, "concurrentJobs": 100}})["dev"].concurrent_jobs == 100


@pytest.mark.parametrize("value", [0, 101, 2.5, "2", True])
def test_concurrent_jobs_are_a_whole_number_from_1_to_100(value):
    shown = {True: "true", "2": '"2"'}.get(value, str(value))
    assert only_problem({**VALID, "concurrentJobs": value}) == (
        f"context.stages.dev.concurrentJobs is {shown}; it must be a whole number from 1 to 100: the customization "
        "jobs the account may run at once (its Amazon Bedrock quota, 2 unless AWS support raised it), which the "
        "stacks start the stage's jobs within"
    )


@pytest.mark.parametrize("where", ["tags", "models.chat.distillation.jobTags"])
def test_the_model_tag_cannot_be_set_by_hand(where):
    stage = {"region": "us-east-1", **one_model(copy.deepcopy(NOVA))}
    if where == "tags":
        stage["tags"] = {"Distillation-Model": "chat"}
    else:
        stage["models"]["chat"]["distillation"]["jobTags"] = {"distillation-model": "chat"}
    key = "Distillation-Model" if where == "tags" else "distillation-model"
    assert only_problem(stage) == (
        f'context.stages.dev.{where} has "{key}": the stacks give every resource of a model this tag with the model\'s '
        "name; remove it"
    )


def test_a_model_name_that_begins_with_another_models_name_and_a_hyphen_is_refused():
    """The handlers find a model's jobs, custom models and copies by their name prefix (dev-chat-...): chat-copy's
    would begin like chat's copies (dev-chat-copy-...)."""
    model = {
        "distillation": {
            "teacher": "amazon.nova-pro-v1:0",
            "student": "amazon.nova-lite-v1:0:300k",
            "trainingData": {"s3Uri": "s3://datasets/chat/train.jsonl"},
        }
    }
    stage = {**VALID, "region": "us-east-1", "models": {"chat": model, "chat-copy": copy.deepcopy(model)}}
    assert only_problem(stage) == (
        'context.stages.dev.models.chat-copy: model name "chat-copy" begins with the name of the stage\'s model '
        '"chat" and a hyphen, so the names of its resources ("<stage>-chat-copy-...") would begin like those of '
        '"chat", by which the handlers find a model\'s jobs and custom models; give it a name that does not begin '
        'with "chat-"'
    )
    # Names that only share letters are apart: chatbot's names begin dev-chatbot-.
    assert load_stages(
        {"dev": {**VALID, "region": "us-east-1", "models": {"chat": model, "chatbot": copy.deepcopy(model)}}}, ROOT
    )
