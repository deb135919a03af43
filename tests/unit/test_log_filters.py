"""Request-metadata filters: every API rule accepted and refused with its exact message, and the selection semantics.

The rules are also proven against the pinned botocore service model, not only re-implemented: valid filters pass
botocore's own parameter validation in a full CreateModelCustomizationJob request, and the limits the module uses
are read back from the model's shapes.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator

from distill.data_checks import log_filters
from distill.data_checks.log_filters import Condition, ConditionList, FilterError, parse_filter

WHERE = "context.stages.dev.trainingData.filters"
ALLOWED = "ASCII letters, digits, whitespace and . _ : / = + $ @ -"
ONE_OF = '"equals", "notEquals", "andAll", "orAll"'
ONE_OF_ITEM = '"equals", "notEquals"'
EQUALS = {"equals": {"project": "CustomerService"}}


def problems_of(data: Any) -> list[str]:
    with pytest.raises(FilterError) as raised:
        parse_filter(data, WHERE)
    return raised.value.problems


def conditions(count: int) -> list[dict]:
    return [{"equals": {f"key{index}": "value"}} for index in range(count)]


# One passing case per rule; each is also sent through botocore's validator below.
VALID = {
    "equals": EQUALS,
    "notEquals": {"notEquals": {"priority": "Low"}},
    "andAll with 1 item": {"andAll": conditions(1)},
    "andAll with 16 items": {"andAll": conditions(16)},
    "orAll of equals and notEquals": {"orAll": [EQUALS, {"notEquals": {"priority": "Low"}}]},
    "key of 1 character": {"equals": {"k": "v"}},
    "key of 256 characters": {"equals": {"k" * 256: "v"}},
    "empty value": {"equals": {"project": ""}},
    "value of 256 characters": {"equals": {"project": "v" * 256}},
    "every allowed character": {"equals": {"aZ09 \t._:/=+$@-": "aZ09 \t._:/=+$@-"}},
}

# One failing case per rule and the exact message it produces.
INVALID = {
    "filter not an object": (
        ["equals"],
        f'{WHERE} is ["equals"]; it must be an object holding exactly one of {ONE_OF}',
    ),
    "empty filter": ({}, f"{WHERE} is {{}}; it must hold exactly one of {ONE_OF}"),
    "two operators": (
        {**EQUALS, "notEquals": {"priority": "Low"}},
        f'{WHERE} holds "equals" and "notEquals"; it must hold exactly one of {ONE_OF}',
    ),
    "unknown operator": (
        {"equal": {"project": "CustomerService"}},
        f'{WHERE}.equal is not a known key (did you mean "equals"?); allowed keys here: equals, notEquals, andAll, '
        "orAll",
    ),
    "condition not an object": (
        {"equals": "project=CustomerService"},
        f'{WHERE}.equals is "project=CustomerService"; it must be an object of one metadata key and its value, such '
        'as {"project": "CustomerService"}',
    ),
    "condition without an entry": (
        {"equals": {}},
        f"{WHERE}.equals has 0 entries; it must hold exactly 1 (one metadata key and its value)",
    ),
    "condition with two entries": (
        {"notEquals": {"project": "CustomerService", "priority": "High"}},
        f"{WHERE}.notEquals has 2 entries; it must hold exactly 1 (one metadata key and its value)",
    ),
    "key not a string": ({"equals": {7: "x"}}, f"{WHERE}.equals has the key 7; keys must be strings"),
    "empty key": (
        {"equals": {"": "x"}},
        f'{WHERE}.equals has the key "" of 0 characters; keys must be 1 to 256 characters long',
    ),
    "key of 257 characters": (
        {"equals": {"k" * 257: "x"}},
        f'{WHERE}.equals has the key "{"k" * 257}" of 257 characters; keys must be 1 to 256 characters long',
    ),
    "key with a character not allowed": (
        {"equals": {"team#1": "x"}},
        f'{WHERE}.equals has the key "team#1", which holds "#"; keys may hold only {ALLOWED}',
    ),
    "key with non-ASCII whitespace": (
        {"equals": {"no\u00a0break": "x"}},
        f'{WHERE}.equals has the key "no\\u00a0break", which holds "\\u00a0"; keys may hold only {ALLOWED}',
    ),
    "value not a string": ({"equals": {"priority": 1}}, f"{WHERE}.equals.priority is 1; values must be strings"),
    "value null": ({"notEquals": {"priority": None}}, f"{WHERE}.notEquals.priority is null; values must be strings"),
    "value of 257 characters": (
        {"equals": {"project": "v" * 257}},
        f'{WHERE}.equals.project is "{"v" * 257}" of 257 characters; values must be 0 to 256 characters long',
    ),
    "value with characters not allowed": (
        {"equals": {"project": "a,b;c"}},
        f'{WHERE}.equals.project is "a,b;c", which holds "," and ";"; values may hold only {ALLOWED}',
    ),
    "list not a list": (
        {"andAll": EQUALS},
        f'{WHERE}.andAll is {{"equals": {{"project": "CustomerService"}}}}; it must be a list of 1 to 16 conditions '
        'such as {"equals": {"project": "CustomerService"}}',
    ),
    "empty list": ({"orAll": []}, f"{WHERE}.orAll has 0 items; it must hold 1 to 16"),
    "list of 17 items": ({"andAll": conditions(17)}, f"{WHERE}.andAll has 17 items; it must hold 1 to 16"),
    "item not an object": (
        {"orAll": [EQUALS, "priority=High"]},
        f'{WHERE}.orAll[1] is "priority=High"; it must be an object holding exactly one of {ONE_OF_ITEM}',
    ),
    "empty item": ({"andAll": [{}]}, f"{WHERE}.andAll[0] is {{}}; it must hold exactly one of {ONE_OF_ITEM}"),
    "item with equals and notEquals": (
        {"andAll": [{**EQUALS, "notEquals": {"priority": "Low"}}]},
        f'{WHERE}.andAll[0] holds "equals" and "notEquals"; it must hold exactly one of {ONE_OF_ITEM} (put each '
        "condition in its own list item)",
    ),
    "nested list": (
        {"orAll": [{"andAll": [EQUALS]}]},
        f'{WHERE}.orAll[0].andAll is not allowed here: an item of andAll or orAll holds only "equals" or '
        '"notEquals" (filters nest one level only)',
    ),
    "unknown item key": (
        {"orAll": [{"notEqual": {"priority": "Low"}}]},
        f'{WHERE}.orAll[0].notEqual is not a known key (did you mean "notEquals"?); allowed keys here: equals, '
        "notEquals",
    ),
    "bad condition inside a list": (
        {"orAll": [EQUALS, {"equals": {"priority": 3}}]},
        f"{WHERE}.orAll[1].equals.priority is 3; values must be strings",
    ),
}


@pytest.mark.parametrize("data", VALID.values(), ids=VALID.keys())
def test_valid_filter_round_trips_to_the_api_form(data):
    assert parse_filter(data, WHERE).to_api() == data


@pytest.mark.parametrize(("data", "message"), INVALID.values(), ids=INVALID.keys())
def test_invalid_filter_is_refused_with_its_exact_message(data, message):
    assert problems_of(data) == [message]


def test_every_problem_is_reported_at_once():
    data = {"andAll": [], "orAll": [{"equals": {"a#": "b", "c": "d"}}, 5]}
    assert problems_of(data) == [
        f'{WHERE} holds "andAll" and "orAll"; it must hold exactly one of {ONE_OF}',
        f"{WHERE}.andAll has 0 items; it must hold 1 to 16",
        f"{WHERE}.orAll[0].equals has 2 entries; it must hold exactly 1 (one metadata key and its value)",
        f'{WHERE}.orAll[0].equals has the key "a#", which holds "#"; keys may hold only {ALLOWED}',
        f"{WHERE}.orAll[1] is 5; it must be an object holding exactly one of {ONE_OF_ITEM}",
    ]


def test_error_text_lists_the_problems():
    with pytest.raises(FilterError) as raised:
        parse_filter({"orAll": []}, "filter.json")
    assert str(raised.value) == (
        "Invalid request-metadata filter:\n  - filter.json.orAll has 0 items; it must hold 1 to 16"
    )


def test_parsed_filter_is_typed_and_frozen():
    parsed = parse_filter({"andAll": [EQUALS, {"notEquals": {"priority": "Low"}}]}, WHERE)
    assert parsed == ConditionList(
        "andAll", (Condition("equals", "project", "CustomerService"), Condition("notEquals", "priority", "Low"))
    )
    with pytest.raises(AttributeError):
        parsed.operator = "orAll"


# --- selection semantics ---------------------------------------------------------------------------------------

RECORD = {"project": "CustomerService", "intent": "ComplaintResolution", "priority": "High"}


def selects(data: dict, metadata: dict) -> bool:
    return parse_filter(data, WHERE).matches(metadata)


@pytest.mark.parametrize(
    ("data", "metadata", "selected"),
    [
        ({"equals": {"project": "CustomerService"}}, RECORD, True),
        ({"equals": {"project": "Sales"}}, RECORD, False),
        ({"equals": {"team": "CustomerService"}}, RECORD, False),
        ({"equals": {"project": "CustomerService"}}, {}, False),
        ({"equals": {"project": ""}}, {"project": ""}, True),
        ({"equals": {"project": ""}}, {}, False),
        ({"notEquals": {"priority": "Low"}}, RECORD, True),
        ({"notEquals": {"priority": "High"}}, RECORD, False),
        # A record without the key does not have that key with that value: notEquals selects it.
        ({"notEquals": {"team": "Sales"}}, RECORD, True),
        ({"notEquals": {"priority": "High"}}, {}, True),
        # Metadata is string to string; a value of another type never equals the string.
        ({"equals": {"priority": "1"}}, {"priority": 1}, False),
    ],
)
def test_base_filter_semantics(data, metadata, selected):
    assert selects(data, metadata) is selected


@pytest.mark.parametrize(
    ("operator", "conditions_", "selected"),
    [
        ("andAll", [{"equals": {"project": "CustomerService"}}, {"notEquals": {"priority": "Low"}}], True),
        ("andAll", [{"equals": {"project": "CustomerService"}}, {"equals": {"priority": "Low"}}], False),
        ("andAll", [{"equals": {"project": "Sales"}}, {"equals": {"priority": "Low"}}], False),
        ("orAll", [{"equals": {"project": "Sales"}}, {"equals": {"priority": "High"}}], True),
        ("orAll", [{"equals": {"project": "CustomerService"}}, {"equals": {"priority": "High"}}], True),
        ("orAll", [{"equals": {"project": "Sales"}}, {"notEquals": {"priority": "High"}}], False),
    ],
)
def test_list_semantics(operator, conditions_, selected):
    assert selects({operator: conditions_}, RECORD) is selected


# --- proof against the botocore service model -----------------------------------------------------------------


@pytest.fixture(scope="module")
def bedrock_model():
    return get_session().get_service_model("bedrock")


def job_request(filters: Any) -> dict:
    """A complete CreateModelCustomizationJob request for a distillation job that trains from invocation logs."""
    return {
        "jobName": "distill-dev-1",
        "customModelName": "support-student",
        "roleArn": "arn:aws:iam::111111111111:role/DistillationService",
        "baseModelIdentifier": "meta.llama3-1-8b-instruct-v1:0",
        "customizationType": "DISTILLATION",
        "trainingDataConfig": {
            "invocationLogsConfig": {
                "usePromptResponse": True,
                "invocationLogSource": {"s3Uri": "s3://invocation-logs-111111111111/invocation-logs/AWSLogs/"},
                "requestMetadataFilters": filters,
            }
        },
        "outputDataConfig": {"s3Uri": "s3://distillation-output-111111111111/jobs/"},
        "customizationConfig": {
            "distillationConfig": {"teacherModelConfig": {"teacherModelIdentifier": "meta.llama3-1-405b-instruct-v1:0"}}
        },
    }


def botocore_errors(bedrock_model, filters: Any) -> str:
    shape = bedrock_model.operation_model("CreateModelCustomizationJob").input_shape
    return ParamValidator().validate(job_request(filters), shape).generate_report()


@pytest.mark.parametrize("data", VALID.values(), ids=VALID.keys())
def test_to_api_output_passes_botocore_validation(bedrock_model, data):
    assert botocore_errors(bedrock_model, parse_filter(data, WHERE).to_api()) == ""


# The invalid cases botocore's client-side validation can see (it checks types, unions and minimums, not maximums
# or patterns): both refuse them, so the local rules are not looser than the SDK's.
@pytest.mark.parametrize(
    "case",
    [
        "filter not an object",
        "empty filter",
        "two operators",
        "unknown operator",
        "condition not an object",
        "key not a string",
        "empty key",
        "value not a string",
        "list not a list",
        "empty list",
        "item not an object",
    ],
)
def test_botocore_also_refuses(bedrock_model, case):
    data, _ = INVALID[case]
    assert botocore_errors(bedrock_model, data) != ""
    assert problems_of(data)


def test_limits_are_the_service_models(bedrock_model):
    """The maximums and patterns botocore does not check are compared with the model itself."""
    filters = bedrock_model.shape_for("RequestMetadataFilters")
    base = bedrock_model.shape_for("RequestMetadataBaseFilters")
    condition_list = bedrock_model.shape_for("RequestMetadataFiltersList")
    condition = bedrock_model.shape_for("RequestMetadataMap")
    assert filters.is_tagged_union
    assert tuple(filters.members) == log_filters.FILTER_OPERATORS
    assert tuple(base.members) == log_filters.CONDITION_OPERATORS
    assert {shape.name for shape in (filters.members["andAll"], filters.members["orAll"])} == {condition_list.name}
    assert {
        shape.name for shape in [*base.members.values(), filters.members["equals"], filters.members["notEquals"]]
    } == {condition.name}
    assert condition_list.member.name == base.name
    assert (condition_list.metadata["min"], condition_list.metadata["max"]) == (
        log_filters.MIN_CONDITIONS,
        log_filters.MAX_CONDITIONS,
    )
    assert condition.metadata["min"] == condition.metadata["max"] == log_filters.MAP_ENTRIES
    for text, min_length in (
        (condition.key, log_filters.KEY_MIN_LENGTH),
        (condition.value, log_filters.VALUE_MIN_LENGTH),
    ):
        assert (text.metadata["min"], text.metadata["max"]) == (min_length, log_filters.TEXT_MAX_LENGTH)
        assert text.metadata["pattern"] == f"{log_filters.TEXT_CHARACTER}{{{min_length},{log_filters.TEXT_MAX_LENGTH}}}"
