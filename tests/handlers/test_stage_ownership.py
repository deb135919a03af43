"""Whether a resource found by the name the stack derives is the stage's: its stage tag (lambda/shared/python/
stage_ownership.py)."""

from __future__ import annotations

import pytest
import stage_ownership

JOB_ARN = (
    "arn:aws:bedrock:us-west-2:123456789012:model-customization-job/meta.llama3-1-8b-instruct-v1:0:128k/k3x9q2w7e5r1"
)


def test_the_stage_is_the_stage_tag_of_a_tags_property():
    assert stage_ownership.stage_of('{"project":"support","distillation-stage":"sandbox"}') == "sandbox"
    assert stage_ownership.stage_of('{"project":"support"}') is None
    assert stage_ownership.stage_of(None) is None


def test_the_handlers_stage_tag_is_the_one_the_stack_gives():
    from distill.constructs.names import STAGE_TAG

    assert stage_ownership.STAGE_TAG == STAGE_TAG


# -- whether a resource found by name is the stage's ---------------------------------------------------------------
JOB_NAME = "sandbox-distill-3aa7f4218eee"
REMEDY = "Raise distillation.revision in cdk.json"


def test_a_resource_tagged_with_the_stage_is_the_stages(bedrock):
    tags = [{"key": "project", "value": "support"}, {"key": "distillation-stage", "value": "sandbox"}]
    bedrock.stubber.add_response("list_tags_for_resource", {"tags": tags}, {"resourceARN": JOB_ARN})
    assert stage_ownership.require_stage(bedrock, "distillation job", JOB_NAME, JOB_ARN, "sandbox", REMEDY) is None


@pytest.mark.parametrize(
    "tags, owner",
    [
        ([], "it has no distillation-stage tag"),
        ([{"key": "project", "value": "support"}], "it has no distillation-stage tag"),
        ([{"key": "distillation-stage", "value": "sandbox-2"}], "it is tagged distillation-stage=sandbox-2"),
        ([{"key": "distillation-stage", "value": ""}], "it is tagged distillation-stage="),
    ],
    ids=["untagged", "other-tags-only", "another-stage", "empty-stage"],
)
def test_a_resource_without_the_stages_tag_is_refused_naming_it_its_owner_and_what_to_do(bedrock, tags, owner):
    bedrock.stubber.add_response("list_tags_for_resource", {"tags": tags}, {"resourceARN": JOB_ARN})
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        stage_ownership.require_stage(bedrock, "distillation job", JOB_NAME, JOB_ARN, "sandbox", REMEDY)
    assert str(raised.value) == (
        f"The distillation job {JOB_ARN} has the name {JOB_NAME} that this stage derives for its own, but {owner} "
        "rather than distillation-stage=sandbox: it is not this stage's, so it is left as it is. Raise "
        "distillation.revision in cdk.json, then deploy again."
    )
    assert isinstance(raised.value, RuntimeError)


def test_tags_the_caller_already_has_are_not_asked_for_again(bedrock):
    """The Stubber has nothing queued: a ListTagsForResource would fail the test."""
    ours = [{"key": "distillation-stage", "value": "sandbox"}]
    stage_ownership.require_stage(bedrock, "model copy", JOB_NAME, JOB_ARN, "sandbox", REMEDY, tags=ours)
    with pytest.raises(stage_ownership.NotTheStages, match="it has no distillation-stage tag"):
        stage_ownership.require_stage(bedrock, "model copy", JOB_NAME, JOB_ARN, "sandbox", REMEDY, tags=[])


@pytest.mark.parametrize("stage", [None, ""], ids=["none", "empty"])
def test_properties_that_name_no_stage_own_nothing_they_find_by_name(bedrock, stage):
    """Even an untagged resource: without a stage to compare, nothing found by name is taken for the stage's."""
    bedrock.stubber.add_response("list_tags_for_resource", {"tags": []}, {"resourceARN": JOB_ARN})
    with pytest.raises(stage_ownership.NotTheStages) as raised:
        stage_ownership.require_stage(bedrock, "distillation job", JOB_NAME, JOB_ARN, stage, REMEDY)
    assert str(raised.value) == (
        f"The distillation job {JOB_ARN} has the name {JOB_NAME} that this stage derives for its own, but it has no "
        "distillation-stage tag rather than the distillation-stage tag of a stage (the resource's properties name "
        "none): it is not this stage's, so it is left as it is. Raise distillation.revision in cdk.json, then deploy "
        "again."
    )


def test_tags_that_cannot_be_read_fail_the_check(bedrock):
    bedrock.stubber.add_client_error(
        "list_tags_for_resource", "AccessDeniedException", "not authorized", 403, {"resourceARN": JOB_ARN}
    )
    with pytest.raises(bedrock.exceptions.AccessDeniedException):
        stage_ownership.require_stage(bedrock, "distillation job", JOB_NAME, JOB_ARN, "sandbox", REMEDY)
