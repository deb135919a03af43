"""Resource-policy statements on a bucket, topic or key that a construct may be handed imported, and cannot change.

An imported resource (``s3.Bucket.from_bucket_name``, ``sns.Topic.from_topic_arn``, ``kms.Key.from_key_arn``) has no
policy in this app: aws-cdk-lib drops a statement added to it and says so only in the result of
``add_to_resource_policy`` (``statement_added`` false). A construct that needs the statement (a service principal
that writes to the bucket, publishes to the topic or uses the key) warns instead, with the statement to add where the
resource is defined.
"""

from __future__ import annotations

import json

from aws_cdk import Annotations, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

IMPORTED_POLICY_WARNING = "distill:imported-resource-policy"


def add_resource_statement(
    resource: s3.IBucket | sns.ITopic | kms.IKey, statement: iam.PolicyStatement, needed_by: str
) -> None:
    """Add ``statement`` to the policy of ``resource``; when the resource is imported, warn on it (the warning
    ``IMPORTED_POLICY_WARNING``) with the statement as JSON. ``needed_by`` says what fails without it."""
    if resource.add_to_resource_policy(statement).statement_added:
        return
    shown = json.dumps(Stack.of(resource).resolve(statement.to_statement_json()), sort_keys=True)
    Annotations.of(resource).add_warning_v2(
        IMPORTED_POLICY_WARNING,
        f"This resource is imported, so its policy cannot be changed here, and {needed_by} without this statement "
        f"in it; add it where the resource is defined: {shown}",
    )
