"""Request tokens, physical ids, name prefixes and tags applied in place (lambda/shared/python/resource_identity.py)."""

from __future__ import annotations

import hashlib
import re

import botocore.session
import pytest
import resource_identity

from tests.handlers.conftest import CREATE_FAILED

BEDROCK = botocore.session.get_session().get_service_model("bedrock")
JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)


# -- tokens ------------------------------------------------------------------------------------------------------
def test_a_token_is_the_sha256_of_its_parts_so_a_retried_request_sends_the_same_one():
    assert resource_identity.token("sandbox-distill-3aa7f4218eee") == resource_identity.token(
        "sandbox-distill-3aa7f4218eee"
    )
    assert resource_identity.token("sandbox-serving-2f462a79fa34", "1a4b7c0d") == (
        hashlib.sha256(b"sandbox-serving-2f462a79fa34\n1a4b7c0d").hexdigest()
    )


def test_other_parts_give_another_token():
    name = "sandbox-serving-2f462a79fa34"
    assert resource_identity.token(name, "1a4b7c0d") != resource_identity.token(name, "4d7e0f3a")
    # The parts are joined with a separator, so moving a character from one part to the next changes the token.
    assert resource_identity.token("ab", "c") != resource_identity.token("a", "bc")


@pytest.mark.parametrize(
    "operation", ["CreateModelCustomizationJob", "CreateProvisionedModelThroughput", "CreateCustomModelDeployment"]
)
def test_a_token_fits_every_client_request_token_bedrock_takes(operation):
    shape = BEDROCK.operation_model(operation).input_shape.members["clientRequestToken"]
    value = resource_identity.token("sandbox-distill-3aa7f4218eee", "2c5d8e1f-4a7b-4c0d-9e3f-6a9b2c5d8e1f")
    assert len(value) <= shape.metadata["max"]
    assert re.fullmatch(shape.metadata["pattern"], value)


def test_only_an_arn_is_an_arn():
    assert resource_identity.is_arn(JOB_ARN)
    assert not resource_identity.is_arn(CREATE_FAILED)
    assert not resource_identity.is_arn("")
    assert not resource_identity.is_arn(None)


# -- tags --------------------------------------------------------------------------------------------------------
def test_tags_become_bedrock_tag_lists():
    assert resource_identity.tag_list('{"project": "support-assistant", "distillation-stage": "sandbox"}') == [
        {"key": "project", "value": "support-assistant"},
        {"key": "distillation-stage", "value": "sandbox"},
    ]
    assert resource_identity.tag_list("") == []
    assert resource_identity.tag_list(None) == []


def test_unchanged_tags_are_left_alone_even_reordered(bedrock):
    resource_identity.retag(bedrock, JOB_ARN, '{"a": "1", "b": "2"}', '{"b": "2", "a": "1"}')


def test_changed_tags_are_tagged_and_removed_keys_untagged(bedrock):
    bedrock.stubber.add_response(
        "tag_resource",
        {},
        {"resourceARN": JOB_ARN, "tags": [{"key": "project", "value": "claims"}, {"key": "owner", "value": "ml"}]},
    )
    bedrock.stubber.add_response("untag_resource", {}, {"resourceARN": JOB_ARN, "tagKeys": ["cost-center", "team"]})
    resource_identity.retag(
        bedrock,
        JOB_ARN,
        '{"project": "claims", "owner": "ml"}',
        '{"project": "support", "team": "a", "cost-center": "1"}',
    )


def test_tags_that_are_only_added_need_no_untagging(bedrock):
    bedrock.stubber.add_response("tag_resource", {}, {"resourceARN": JOB_ARN, "tags": [{"key": "a", "value": "1"}]})
    resource_identity.retag(bedrock, JOB_ARN, '{"a": "1"}', None)


def test_removing_every_tag_only_untags(bedrock):
    bedrock.stubber.add_response("untag_resource", {}, {"resourceARN": JOB_ARN, "tagKeys": ["a"]})
    resource_identity.retag(bedrock, JOB_ARN, "{}", '{"a": "1"}')


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("sandbox-distill-3aa7f4218eee", "sandbox-distill-"),
        ("shared-dev-distill-0a1b2c3d4e5f", "shared-dev-distill-"),
        ("prod-copy-a3813fa7ad4e", "prod-copy-"),
        ("shared-dev-copy-7e2c9b4d1f06", "shared-dev-copy-"),
    ],
)
def test_a_names_prefix_is_what_every_name_of_its_kind_in_the_stage_shares(name, prefix):
    assert resource_identity.name_prefix(name) == prefix
