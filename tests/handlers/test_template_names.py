"""The names the stack derives for Bedrock resources fit every member the handlers pass them as: the name of the
job, model, throughput, deployment or copy they create, and the identifier they look it up by."""

from __future__ import annotations

import re

import botocore.session
import pytest

BEDROCK = botocore.session.get_session().get_service_model("bedrock")
# Resource type -> the property holding its name -> every (operation, member) a handler passes that name as.
NAMED = {
    "Custom::BedrockDistillationJob": (
        "JobName",
        [
            ("CreateModelCustomizationJob", "jobName"),
            ("CreateModelCustomizationJob", "customModelName"),
            ("GetModelCustomizationJob", "jobIdentifier"),
        ],
    ),
    "Custom::BedrockDistilledModel": ("JobName", [("GetModelCustomizationJob", "jobIdentifier")]),
    "Custom::BedrockProvisionedThroughput": (
        "Name",
        [
            ("CreateProvisionedModelThroughput", "provisionedModelName"),
            ("GetProvisionedModelThroughput", "provisionedModelId"),
        ],
    ),
    "Custom::BedrockCustomModelDeployment": (
        "Name",
        [
            ("CreateCustomModelDeployment", "modelDeploymentName"),
            ("GetCustomModelDeployment", "customModelDeploymentIdentifier"),
        ],
    ),
    "Custom::BedrockModelCopy": (
        "TargetModelName",
        [("CreateModelCopyJob", "targetModelName"), ("ListModelCopyJobs", "targetModelNameContains")],
    ),
}


def names(templates) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {kind: set() for kind in NAMED}
    for stacks in templates.values():
        for template in stacks.values():
            for resource in template.to_json()["Resources"].values():
                if resource["Type"] in NAMED:
                    found[resource["Type"]].add(resource["Properties"][NAMED[resource["Type"]][0]])
    return found


@pytest.mark.parametrize("kind", sorted(NAMED))
def test_every_name_the_templates_give_fits_what_bedrock_takes(templates, kind):
    given = names(templates)[kind]
    assert given, f"no {kind} in the synthesized templates"
    for operation, member in NAMED[kind][1]:
        shape = BEDROCK.operation_model(operation).input_shape.members[member]
        for name in given:
            assert isinstance(name, str), (kind, name)
            assert len(name) <= shape.metadata.get("max", 2048), (operation, member, name)
            assert re.fullmatch(shape.metadata.get("pattern", ".*"), name), (operation, member, name)
