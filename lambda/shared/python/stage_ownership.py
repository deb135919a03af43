"""The stage guard: a resource found by the name the stack derives is the stage's only if it carries the stage's tag.

The handlers ask before they adopt, retag, move, stop or delete anything they found by name rather than by the
physical id the stack holds.
"""

import json

# The tag key the stack gives every Bedrock resource of a stage, with the stage's name as its value
# (distill/constructs/budget.py STAGE_TAG: the handlers cannot import the app's package).
STAGE_TAG = "distillation-stage"


def stage_of(tags_json):
    """The stage that a resource's tags property (``Tags``, ``JobTags``: a ``{"key": "value"}`` map as a JSON string)
    names with STAGE_TAG, or None."""
    return json.loads(tags_json or "{}").get(STAGE_TAG)


class NotTheStages(RuntimeError):
    """A resource found by a name the stack derives that does not carry the stage's STAGE_TAG (``require_stage``)."""


def require_stage(bedrock, kind, name, arn, stage, remedy, *, tags=None):
    """Raise NotTheStages unless the ``kind`` ``arn``, found by the name ``name`` the stack derives for the stage's own
    rather than by the physical id the stack holds, carries STAGE_TAG ``stage``: the only sign that the stage made it.
    Every handler asks before it adopts, retags, moves, stops or deletes what it finds by name. IAM alone does not
    keep it from another team's resource: the handlers may tag a resource that carries no STAGE_TAG yet, as AWS does
    not say whether a create with tags also needs bedrock:TagResource (distill/constructs/bedrock_resource.py
    stage_created), so an untagged resource of that name would otherwise be tagged as the stage's and then be its to
    stop or delete.

    ``tags`` are the resource's tags as Bedrock lists them (``[{"key", "value"}]``) when the caller already has them;
    otherwise ListTagsForResource reads them. ``stage`` is the STAGE_TAG value of the request's tags property
    (``stage_of``). The message names the resource, whose it is by its tags, and what to do: ``remedy``, a sentence
    on freeing the name or making the stage derive another one. Raises what ListTagsForResource raises."""
    if tags is None:
        tags = bedrock.list_tags_for_resource(resourceARN=arn)["tags"]
    found = {tag["key"]: tag["value"] for tag in tags}.get(STAGE_TAG)
    if stage and found == stage:
        return
    owner = f"it is tagged {STAGE_TAG}={found}" if found is not None else f"it has no {STAGE_TAG} tag"
    wanted = (
        f"{STAGE_TAG}={stage}" if stage else f"the {STAGE_TAG} tag of a stage (the resource's properties name none)"
    )
    raise NotTheStages(
        f"The {kind} {arn} has the name {name} that this stage derives for its own, but {owner} rather than "
        f"{wanted}: it is not this stage's, so it is left as it is. {remedy}, then deploy again."
    )
