"""cdk-nag acknowledgments: one call per finding, on the narrowest construct, always with a reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (a bare id such as ``AwsSolutions-IAM5[Resource::*]``) on ``construct``."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of an L2 construct's resource, as cdk-nag prints it in finding ids."""
    resource = construct.node.default_child or construct
    return Stack.of(construct).get_logical_id(resource)  # type: ignore[arg-type]


def acknowledge_compliance(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge a rule that the HIPAA Security and NIST 800-53 R5 packs share (e.g. ``LambdaDLQ``)."""
    for pack in ("HIPAA.Security", "NIST.800.53.R5"):
        acknowledge(construct, f"{pack}-{rule}", reason)


def rendered(scope: IConstruct, value: str) -> str:
    """A (possibly tokenized) string as cdk-nag prints it inside finding ids: ``Ref`` as ``<Id>``, ``Fn::GetAtt``
    as ``<Id.Attr>``, ``Fn::Join`` concatenated; e.g. ``arn:<AWS::Partition>:s3:::<Bucket>/*``."""
    return _render(Stack.of(scope).resolve(value))


def _render(node: object) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Ref" in node:
        return f"<{node['Ref']}>"
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        return "<" + ".".join(node["Fn::GetAtt"]) + ">"
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(_render(part) for part in parts)
    raise ValueError(f"cannot render {node!r} as a cdk-nag finding id")
