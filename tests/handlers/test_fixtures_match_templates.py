"""The event fixtures say what really arrives: CloudFormation requests with exactly the properties the synthesized
templates give each custom resource type (as strings, as CloudFormation sends them), and Bedrock's state-change event
in the shape of the user guide's sample."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from tests.handlers.conftest import EVENTS, event

REQUEST_FIXTURES = sorted(path.name for path in EVENTS.glob("*.json") if "RequestType" in json.loads(path.read_text()))
STATE_CHANGE_FIXTURES = ["job_state_change_completed", "job_state_change_failed"]
# The custom resource types the CDK itself brings (its bucket auto-deletion), whose handlers are not ours.
CDK_OWN_TYPES = {"Custom::S3AutoDeleteObjects"}


def custom_resources(templates) -> dict[str, list[tuple[str, frozenset[str]]]]:
    """Resource type -> (where, property names) of every custom resource in the synthesized templates."""
    found: dict[str, list[tuple[str, frozenset[str]]]] = defaultdict(list)
    for stage, stacks in templates.items():
        for stack_id, template in stacks.items():
            for logical_id, resource in template.to_json()["Resources"].items():
                if resource["Type"].startswith("Custom::") or resource["Type"] == "AWS::CloudFormation::CustomResource":
                    where = f"{stage}/{stack_id} {logical_id}"
                    found[resource["Type"]].append((where, frozenset(resource.get("Properties", {}))))
    return found


def problems(name: str, fixture: dict, resources: dict[str, list[tuple[str, frozenset[str]]]]) -> list[str]:
    """What in a CloudFormation request fixture no synthesized template would send; empty when it matches one."""
    kind = fixture["ResourceType"]
    if kind not in resources:
        return [
            f"{name}: ResourceType {kind} is in no synthesized template; the templates' custom resource types are "
            f"{', '.join(sorted(resources))}"
        ]
    found = []
    for field in ("ResourceProperties", "OldResourceProperties"):
        if field not in fixture:
            continue
        keys = set(fixture[field])
        if all(keys != set(properties) for _, properties in resources[kind]):
            where, properties = min(resources[kind], key=lambda entry: (len(keys ^ entry[1]), entry[0]))
            differences = []
            if keys - properties:
                differences.append(f"it sends {', '.join(sorted(keys - properties))}, which that template never sends")
            if properties - keys:
                differences.append(f"it lacks {', '.join(sorted(properties - keys))}, which that template sends")
            found.append(f"{name}: {field} does not match {where} ({kind}): {'; '.join(differences)}")
        found += [
            f"{name}: {field}.{key} is {value!r}; CloudFormation sends every property as a string"
            for key, value in fixture[field].items()
            if not isinstance(value, str)
        ]
    return found


@pytest.fixture(scope="module")
def resources(templates):
    return custom_resources(templates)


@pytest.mark.parametrize("name", REQUEST_FIXTURES)
def test_every_request_fixture_is_what_a_custom_resource_of_the_templates_sends(resources, name):
    found = problems(name, json.loads((EVENTS / name).read_text()), resources)
    assert not found, "\n".join(found)


def test_every_custom_resource_type_of_ours_has_request_fixtures(resources):
    covered = {json.loads((EVENTS / name).read_text())["ResourceType"] for name in REQUEST_FIXTURES}
    assert set(resources) - CDK_OWN_TYPES - covered == set()


@pytest.mark.parametrize("name", sorted(path.stem for path in EVENTS.glob("distillation_job_*.json")))
def test_the_job_fixtures_publish_to_the_parameter_the_sandbox_template_names(templates, name):
    """The one literal the handler writes to is the stage's own: the job fixtures are the sandbox stage's job."""
    job = templates["sandbox"]["Training"].find_resources("Custom::BedrockDistillationJob")
    (properties,) = [resource["Properties"] for resource in job.values()]
    fixture = event(name)
    for field in ("ResourceProperties", "OldResourceProperties"):
        if field in fixture:
            assert fixture[field]["JobArnParameterName"] == properties["JobArnParameterName"], field


# The checker itself, on a table of one resource: what it accepts and each way it refuses.
TABLE = {
    "Custom::BedrockDistilledModel": [
        ("sandbox/Serving DistilledModelLookup3E2330F8", frozenset({"ServiceToken", "JobName"}))
    ]
}


def lookup(**changes) -> dict:
    fixture = event("distilled_model_create")
    fixture["ResourceProperties"] = {"ServiceToken": fixture["ServiceToken"], "JobName": "sandbox-distill-3aa7f4218eee"}
    fixture.update(changes)
    return fixture


def test_a_fixture_with_the_templates_properties_passes():
    assert problems("distilled_model_create.json", lookup(), TABLE) == []


def test_a_property_the_template_never_sends_and_one_it_lacks_are_both_named():
    fixture = lookup(ResourceProperties={"ServiceToken": "arn:aws:lambda:...", "JobArn": "arn:aws:bedrock:..."})
    assert problems("distilled_model_create.json", fixture, TABLE) == [
        "distilled_model_create.json: ResourceProperties does not match sandbox/Serving DistilledModelLookup3E2330F8 "
        "(Custom::BedrockDistilledModel): it sends JobArn, which that template never sends; it lacks JobName, which "
        "that template sends"
    ]


def test_old_properties_are_held_to_the_templates_too():
    fixture = lookup(RequestType="Update", OldResourceProperties={"ServiceToken": "arn:aws:lambda:..."})
    assert problems("distilled_model_update.json", fixture, TABLE) == [
        "distilled_model_update.json: OldResourceProperties does not match sandbox/Serving "
        "DistilledModelLookup3E2330F8 (Custom::BedrockDistilledModel): it lacks JobName, which that template sends"
    ]


def test_a_property_that_is_not_a_string_is_named():
    fixture = lookup(ResourceProperties={"ServiceToken": "arn:aws:lambda:...", "JobName": 7})
    assert problems("distilled_model_create.json", fixture, TABLE) == [
        "distilled_model_create.json: ResourceProperties.JobName is 7; CloudFormation sends every property as a string"
    ]


def test_a_resource_type_no_template_has_is_named_with_those_they_have():
    fixture = lookup(ResourceType="Custom::BedrockSmokeTest")
    assert problems("smoke_test_create.json", fixture, TABLE) == [
        "smoke_test_create.json: ResourceType Custom::BedrockSmokeTest is in no synthesized template; the templates' "
        "custom resource types are Custom::BedrockDistilledModel"
    ]


# -- Bedrock's "Model Customization Job State Change" -------------------------------------------------------------
# The members of the sample event in the Bedrock user guide (monitoring-eventbridge-how-it-works.html, read
# 2026-12-01); a failed job's also has failureMessage. Its jobArn is model-customization-job/<id>, shorter than the
# ARN the API returns (which carries the base model), so no handler may depend on the long form.
SAMPLE_EVENT = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
SAMPLE_DETAIL = {
    "version",
    "jobName",
    "jobArn",
    "outputModelName",
    "outputModelArn",
    "roleArn",
    "jobStatus",
    "creationTime",
    "lastModifiedTime",
    "endTime",
    "baseModelArn",
    "hyperParameters",
    "trainingDataConfig",
    "validationDataConfig",
    "outputDataConfig",
}


@pytest.mark.parametrize("name", STATE_CHANGE_FIXTURES)
def test_the_state_change_events_have_the_documented_samples_shape(name):
    state_change = event(name)
    detail = state_change["detail"]
    assert set(state_change) == SAMPLE_EVENT
    assert (state_change["source"], state_change["detail-type"]) == (
        "aws.bedrock",
        "Model Customization Job State Change",
    )
    failed = detail["jobStatus"] == "Failed"
    assert set(detail) == SAMPLE_DETAIL | ({"failureMessage"} if failed else set())
    short = (
        rf"arn:aws:bedrock:{state_change['region']}:{state_change['account']}:model-customization-job/[a-z0-9]{{12}}"
    )
    assert re.fullmatch(short, detail["jobArn"]), detail["jobArn"]
    assert state_change["resources"] == [detail["jobArn"]]


@pytest.mark.parametrize("name", STATE_CHANGE_FIXTURES)
def test_the_events_job_is_the_one_the_job_fixture_names(name):
    assert event(name)["detail"]["jobName"] == event("distillation_job_create")["ResourceProperties"]["JobName"]


@pytest.mark.parametrize("name", ["distilled_model_wait_scheduled", "served_model_wait_scheduled"])
def test_the_scheduled_events_are_eventbridges_scheduled_event(name):
    scheduled = event(name)
    assert set(scheduled) == SAMPLE_EVENT
    assert (scheduled["source"], scheduled["detail-type"], scheduled["detail"]) == ("aws.events", "Scheduled Event", {})
    assert re.fullmatch(r"arn:aws:events:[a-z0-9-]+:\d{12}:rule/[\w.-]+", scheduled["resources"][0])


def test_no_fixture_is_left_unused():
    used = "\n".join(path.read_text() for path in Path(__file__).parent.glob("test_*.py"))
    unused = [path.stem for path in EVENTS.glob("*.json") if f'"{path.stem}"' not in used]
    assert unused == []
