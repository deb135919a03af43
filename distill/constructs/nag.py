"""cdk-nag acknowledgments: each finding on the narrowest construct, always with a reason.

Each call is a round trip to the jsii runtime and synth time is a benchmark target, so several rules for one
construct go in one call.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

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
    """``rendered`` for a value already resolved to CloudFormation (a string, Ref, GetAtt or Join)."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Ref" in node:
        return f"<{node['Ref']}>"
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        return "<" + ".".join(node["Fn::GetAtt"]) + ">"
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(render_resolved(part) for part in parts)
    raise ValueError(f"cannot render {node!r} as a cdk-nag finding id")
