"""Least privilege of the handlers' Bedrock grants: what can stop, move, retag or delete is limited to the stage's own.

Asserted on every synthesized stage (the session's ``templates``), never on a copy of the properties. The Service
Authorization Reference for Amazon Bedrock
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_bedrock.html, read 2026-12-02) lists
aws:ResourceTag/${TagKey} for custom-model, model-customization-job, model-copy-job, provisioned-model and
custom-model-deployment, and aws:RequestTag/${TagKey} and aws:TagKeys for the creates below.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from typing import Any

from distill.constructs.bedrock_resource import REQUEST_TAG, RESOURCE_TAG, STAGE_TAG, stage_tags

# Actions that stop, move, retag or delete an existing resource: each grant must be on the stage's own resources.
ON_EXISTING = (
    "bedrock:StopModelCustomizationJob",
    "bedrock:DeleteCustomModel",
    "bedrock:DeleteProvisionedModelThroughput",
    "bedrock:UpdateProvisionedModelThroughput",
    "bedrock:DeleteCustomModelDeployment",
    "bedrock:UpdateCustomModelDeployment",
    "bedrock:UntagResource",
)
# Creates: each grant must tag the new resource with the stage's tag.
CREATES = (
    "bedrock:CreateModelCustomizationJob",
    "bedrock:CreateProvisionedModelThroughput",
    "bedrock:CreateCustomModelDeployment",
    "bedrock:CreateModelCopyJob",
)
# Destructive actions the reference gives neither a resource type nor a condition key (read 2026-12-02), so no tag
# can limit them: the account's one invocation logging configuration, which the foundation stack's handler puts,
# restores and deletes (distill/constructs/invocation_logging.py).
UNCONDITIONABLE = (
    "bedrock:PutModelInvocationLoggingConfiguration",
    "bedrock:DeleteModelInvocationLoggingConfiguration",
)
# The custom resources that make a Bedrock resource, and the properties that hold the tags it is created with.
TAGGED_ON_CREATE = {
    "Custom::BedrockDistillationJob": ("JobTags", "CustomModelTags"),
    "Custom::BedrockModelCopy": ("Tags",),
    "Custom::BedrockProvisionedThroughput": ("Tags",),
    "Custom::BedrockCustomModelDeployment": ("Tags",),
}


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id, statement) of every identity policy in the template: policies, managed policies, inline."""
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        documents = []
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(properties["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Role":
            documents += [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        for document in documents:
            listed = document["Statement"]
            for statement in listed if isinstance(listed, list) else [listed]:
                yield logical_id, statement


def grants(statement: dict[str, Any], actions: tuple[str, ...]) -> list[str]:
    """Which of ``actions`` an Allow statement grants, wildcards in its Action (IAM matches them case-blind)."""
    if statement["Effect"] != "Allow":
        return []
    patterns = statement.get("Action", [])
    patterns = [p.lower() for p in (patterns if isinstance(patterns, list) else [patterns])]
    assert "NotAction" not in statement, f"a NotAction grant cannot be judged: {statement}"
    return [a for a in actions if any(fnmatch.fnmatchcase(a.lower(), p) for p in patterns)]


def every_statement(templates) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for stage, stacks in templates.items():
        for stack, template in stacks.items():
            for logical_id, statement in statements(template.to_json()):
                yield stage, f"{stage}/{stack}/{logical_id}", stack, statement


def owned_by(statement: dict[str, Any], stage: str) -> bool:
    return statement.get("Condition", {}).get("StringEquals", {}).get(RESOURCE_TAG) == stage


def created_for(statement: dict[str, Any], stage: str) -> bool:
    return statement.get("Condition", {}).get("StringEquals", {}).get(REQUEST_TAG) == stage


def test_every_grant_to_stop_move_or_delete_a_bedrock_resource_is_limited_to_the_stages_own(templates):
    checked = 0
    for stage, where, _, statement in every_statement(templates):
        for action in grants(statement, ON_EXISTING):
            assert owned_by(statement, stage), f"{where} grants {action} without {RESOURCE_TAG}={stage}: {statement}"
            checked += 1
    assert checked, "no stage grants any of the actions this test judges: the test no longer sees the policies"


def test_untagging_can_never_remove_the_stage_tag(templates):
    for _, where, _, statement in every_statement(templates):
        if grants(statement, ("bedrock:UntagResource",)):
            keys = statement["Condition"].get("ForAllValues:StringNotEquals", {}).get("aws:TagKeys")
            assert keys == [STAGE_TAG], f"{where} lets UntagResource remove {STAGE_TAG}: {statement}"


def test_tagging_is_of_the_stages_own_resources_or_tags_a_new_one_for_the_stage(templates):
    # Either a resource the stage owns, with no other value for its tag, or a resource that has no stage tag yet,
    # tagged for the stage (tag on create).
    for stage, where, _, statement in every_statement(templates):
        if not grants(statement, ("bedrock:TagResource",)):
            continue
        condition = statement.get("Condition", {})
        retag = owned_by(statement, stage) and condition.get("StringEqualsIfExists") == {REQUEST_TAG: stage}
        on_create = created_for(statement, stage) and condition.get("Null") == {RESOURCE_TAG: "true"}
        assert retag or on_create, f"{where} grants TagResource beyond the stage's own resources: {statement}"


# The resource types whose tags each custom resource's handler reads before it adopts, retags, moves, stops or
# deletes what it found by a name the stack derives (lambda/shared/python/stage_ownership.py require_stage): the
# Null condition of the tag-on-create grant above lets a handler tag a resource that has no stage tag yet, so the
# handler itself must tell another team's untagged resource of that name from the stage's own.
READS_TAGS_OF = {
    "Custom::BedrockDistillationJob": ("model-customization-job/*", "custom-model/*"),
    "Custom::BedrockModelCopy": ("custom-model/*",),
    "Custom::BedrockProvisionedThroughput": ("provisioned-model/*",),
    "Custom::BedrockCustomModelDeployment": ("custom-model-deployment/*",),
}


def test_every_handler_that_finds_resources_by_name_may_read_their_tags(templates):
    checked = 0
    for stage, stacks in templates.items():
        for stack, template in stacks.items():
            rendered = template.to_json()
            kinds = {r["Type"] for r in rendered["Resources"].values()} & set(READS_TAGS_OF)
            readable = [
                json.dumps(statement.get("Resource"))
                for _, statement in statements(rendered)
                if grants(statement, ("bedrock:ListTagsForResource",)) and "Condition" not in statement
            ]
            for kind in kinds:
                for resource_type in READS_TAGS_OF[kind]:
                    assert any(resource_type in resources for resources in readable), (
                        f"{stage}/{stack}: the {kind} handler may not read the tags of {resource_type}"
                    )
                    checked += 1
    assert checked


def test_every_create_of_a_bedrock_resource_tags_it_for_the_stage(templates):
    checked = 0
    for stage, where, _, statement in every_statement(templates):
        for action in grants(statement, CREATES):
            assert created_for(statement, stage), f"{where} grants {action} without {REQUEST_TAG}={stage}"
            checked += 1
    assert checked


def test_the_only_unconditioned_destructive_grants_are_the_ones_no_tag_can_limit(templates):
    # Any grant of a Bedrock action whose name says it stops, deletes, updates, puts or untags must be judged above
    # or be in the cited list of what takes no condition.
    destructive = ("bedrock:stop*", "bedrock:delete*", "bedrock:update*", "bedrock:put*", "bedrock:untag*")
    for _, where, stack, statement in every_statement(templates):
        actions = statement.get("Action", [])
        for action in actions if isinstance(actions, list) else [actions]:
            if not any(fnmatch.fnmatchcase(action.lower(), pattern) for pattern in destructive):
                continue
            if action in UNCONDITIONABLE:
                assert stack == "Foundation", f"{where} grants {action} outside the invocation logging handler"
                continue
            assert action in ON_EXISTING, f"{where} grants {action}, which no test here judges"


def test_every_bedrock_resource_the_handlers_create_carries_the_tag_the_grants_name(templates):
    seen = 0
    for stage, stacks in templates.items():
        for template in stacks.values():
            for resource in template.to_json()["Resources"].values():
                for prop in TAGGED_ON_CREATE.get(resource["Type"], ()):
                    tags = json.loads(resource["Properties"][prop])
                    assert tags[STAGE_TAG] == stage, f"{stage}: {resource['Type']} {prop} is {tags}"
                    seen += 1
    assert seen


def test_a_users_tag_cannot_give_a_bedrock_resource_to_another_stage():
    assert stage_tags("dev", {STAGE_TAG: "prod", "owner": "ml"}, {STAGE_TAG: "other"}) == {
        STAGE_TAG: "dev",
        "owner": "ml",
    }
