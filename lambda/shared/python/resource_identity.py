"""How the handlers identify what they make: request tokens, physical ids, the names the stack derives, tags.

Every Bedrock resource these handlers make has a name the stack derives from what defines it (the construct passes
it as a property), so an Update can find the resource its properties describe before it creates anything. That is
what keeps CloudFormation's rollback (a second Update with the previous properties) from starting a second paid job,
copy or throughput: the previous one is found by name and adopted (if it is the stage's: stage_ownership).
"""

import hashlib
import json


def token(*parts):
    """A clientRequestToken from what identifies a request: hex digits fit Bedrock's token pattern.

    A retried call (botocore's retries, or CloudFormation resending the same request) carries the same parts and so
    the same token, and Bedrock hands back what it already started instead of starting a second one.
    """
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def is_arn(physical_id):
    """Whether a physical id names something Bedrock made; a Create that failed before it got one leaves a placeholder
    (the Provider framework's CREATE_FAILED marker), which there is nothing to delete for."""
    return bool(physical_id) and physical_id.startswith("arn:")


def name_prefix(name):
    """The part of a name the stack derives (``<stage>-distill-<hash>``, ``<stage>-copy-<hash>``) that every name of
    its kind in the stage shares: all but the hash."""
    return name.rsplit("-", 1)[0] + "-"


def tag_list(tags_json):
    """Bedrock's `[{"key", "value"}]` tags from the `{"key": "value"}` map a stack passes as a JSON string."""
    return [{"key": key, "value": value} for key, value in json.loads(tags_json or "{}").items()]


def retag(bedrock, arn, new_tags_json, old_tags_json):
    """Apply a change of tags to a Bedrock resource in place: changed and new keys are tagged, removed keys untagged."""
    new = json.loads(new_tags_json or "{}")
    old = json.loads(old_tags_json or "{}")
    if new == old:
        return
    if new:
        bedrock.tag_resource(resourceARN=arn, tags=tag_list(new_tags_json))
    removed = sorted(set(old) - set(new))
    if removed:
        bedrock.untag_resource(resourceARN=arn, tagKeys=removed)
