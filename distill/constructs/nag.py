"""cdk-nag acknowledgments: each finding on the narrowest construct, always with a reason.

Each call is a round trip to the jsii runtime and synth time is a benchmark target, so several rules for one
construct go in one call.
"""

from __future__ import annotations

import json

import jsii
from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct, IValidation

from distill.constructs.names import COMPLIANCE_PACKS


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (a bare id such as ``AwsSolutions-IAM5[Resource::*]``) on ``construct``."""
    acknowledge_all(construct, {rule: reason})


def acknowledge_all(construct: IConstruct, reasons: dict[str, str]) -> None:
    """Acknowledge several rules on one construct in one call; ``reasons`` maps each rule id to its reason."""
    Validations.of(construct).acknowledge(*(Acknowledgment(id=rule, reason=why) for rule, why in reasons.items()))


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of an L2 construct's resource, as cdk-nag prints it in finding ids."""
    resource = construct.node.default_child or construct
    return Stack.of(construct).get_logical_id(resource)  # type: ignore[arg-type]


def acknowledge_compliance(construct: IConstruct, reasons: dict[str, str]) -> None:
    """Acknowledge rules that the HIPAA Security and NIST 800-53 R5 packs share (e.g. ``LambdaDLQ``), in both."""
    acknowledge_all(
        construct, {f"{pack}-{rule}": reason for rule, reason in reasons.items() for pack in COMPLIANCE_PACKS}
    )


def rendered(scope: IConstruct, value: str) -> str:
    """A (possibly tokenized) string as cdk-nag prints it inside finding ids: ``Ref`` as ``<Id>``, ``Fn::GetAtt``
    as ``<Id.Attr>``, ``Fn::Join`` concatenated; e.g. ``arn:<AWS::Partition>:s3:::<Bucket>/*``."""
    return render_resolved(Stack.of(scope).resolve(value))


def render_resolved(node: object) -> str:
    """``rendered`` for a value already resolved to CloudFormation, flattened as cdk-nag 3 flattens a policy's
    resources (its ``flattenCfnReference``): a string as it is (``${x}`` as ``<x>``), ``Fn::Join`` joined, ``Fn::Sub``
    as its string, ``Fn::GetAtt`` as ``<Id.Attr>``, ``Ref`` as ``<Id>``, ``Fn::ImportValue`` as its export's name,
    and anything else (such as ``Fn::GetStackOutput``, another stack's value) as compact JSON."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(render_resolved(part) for part in parts)
    if isinstance(node, dict) and "Fn::Sub" in node:
        return render_resolved(node["Fn::Sub"])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        resource, attribute = node["Fn::GetAtt"]
        return f"<{render_resolved(resource)}.{render_resolved(attribute)}>"
    if isinstance(node, dict) and "Fn::ImportValue" in node:
        return render_resolved(node["Fn::ImportValue"])
    if isinstance(node, dict) and "Ref" in node:
        return f"<{render_resolved(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def acknowledge_resource(construct: IConstruct, rule: str, resource: str, reason: str) -> None:
    """Acknowledge ``rule`` (e.g. ``AwsSolutions-IAM5``) for the finding on ``resource`` (a possibly tokenized ARN)
    on ``construct``, rendered as cdk-nag prints it when it checks the template.

    A value of another stack is rendered only once CDK has resolved the references between stacks (as
    ``Fn::GetStackOutput``), which it does after every construct is built: the acknowledgment is added then, by a
    validation of ``construct`` (CDK validates the tree after it resolves references and before the policy
    validation plugins, such as cdk-nag's packs, run).
    """
    construct.node.add_validation(_DeferredAcknowledgment(construct, rule, resource, reason))


@jsii.implements(IValidation)
class _DeferredAcknowledgment:
    def __init__(self, construct: IConstruct, rule: str, resource: str, reason: str) -> None:
        self._construct, self._rule, self._resource, self._reason = construct, rule, resource, reason

    def validate(self) -> list[str]:
        acknowledge(
            self._construct, f"{self._rule}[Resource::{rendered(self._construct, self._resource)}]", self._reason
        )
        return []
