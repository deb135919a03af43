"""One construct alone in a bare stack: its template, and what cdk-nag's packs (as the app runs them) find in it."""

from __future__ import annotations

import json
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from aws_cdk import App, CfnElement, Environment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from distill.constructs.checks import OPTIONAL_PACKS

ACCOUNT = "111111111111"
REGION = "us-east-1"
ENV = Environment(account=ACCOUNT, region=REGION)
# AwsSolutions, which every stage runs, and the packs a stage may add (distill.constructs.checks).
PACKS = (AwsSolutionsChecks, *OPTIONAL_PACKS.values())
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MODEL_ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/amazon.nova-lite-v1:0:300k/abcdefghij12"
STUDENT = "amazon.nova-lite-v1:0:300k"

T = TypeVar("T")
LOGS_SID = "CloudWatchLogsEncryptsThisAccountsLogGroups"


@dataclass
class Bare(Generic[T]):
    """``built`` (what the build function returned) in ``stack``, synthesized once with every pack registered."""

    stack: Stack
    built: T
    template: Template
    # "<rule> <construct path>" for each violation the packs reported, sorted; empty when they reported nothing.
    findings: list[str]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.to_json()["Resources"]

    def counts(self) -> Counter[str]:
        """How many resources of each type the stack holds."""
        return Counter(resource["Type"] for resource in self.resources.values())

    def logical_id(self, construct: IConstruct) -> str:
        """The logical id of a construct's resource: an L1 resource itself, or the default child of an L2 (or of a
        construct around one)."""
        while not isinstance(construct, CfnElement):
            child = construct.node.default_child
            assert child is not None, f"{construct.node.path} has no resource of its own"
            construct = child
        return self.stack.get_logical_id(construct)

    def find(self, path: str) -> IConstruct:
        """The construct at ``path`` (ids separated by slashes) under the stack."""
        construct: IConstruct = self.stack
        for id in path.split("/"):
            construct = construct.node.find_child(id)
        return construct

    def resource(self, construct: IConstruct) -> dict[str, Any]:
        return self.resources[self.logical_id(construct)]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}

    def only(self, resource_type: str) -> dict[str, Any]:
        (resource,) = self.of_type(resource_type).values()
        return resource

    def statements(self, policy: IConstruct) -> list[dict[str, Any]]:
        """The statements of a managed policy, bucket, topic or key policy, each ``readable``."""
        properties = self.resource(policy)["Properties"]
        document = properties.get("PolicyDocument") or properties["KeyPolicy"]
        return [readable(statement) for statement in document["Statement"]]

    def other_warnings(self) -> list[str]:
        """``warnings`` but the one every construct with a handler raises on an imported key: that its owner must
        let CloudWatch Logs encrypt the handlers' log groups with it (``data_key.allow_log_encryption``)."""
        return [w for w in self.warnings() if not (w.startswith("Bare/ImportedKey: ") and LOGS_SID in w)]

    def warnings(self) -> list[str]:
        """The warnings annotated on the stack's constructs (``Annotations.add_warning_v2``), as
        ``<path>: <message>``."""
        return sorted(
            f"{construct.node.path}: {entry.data}"
            for construct in self.stack.node.find_all()
            for entry in construct.node.metadata
            if entry.type == "aws:cdk:warning"
        )


def synth_bare(build: Callable[[Stack], T], outdir: Path) -> Bare[T]:
    """Build a stack ``Bare`` with ``build``, register the cdk-nag packs on the app and synthesize into ``outdir``.

    A finding makes ``app.synth()`` raise after the templates are written; the packs' report (validation-report.json)
    says what they found, so a template is read and tested whatever the packs said.
    """
    # Assets stay where they are instead of being copied into ``outdir`` (the context key the SAM CLI sets): the
    # templates are the same, and a synth does not copy the boto3 layer each time.
    app = App(outdir=str(outdir), analytics_reporting=False, context={"aws:cdk:disable-asset-staging": True})
    stack = Stack(app, "Bare", env=ENV)
    built = build(stack)
    Validations.of(app).add_plugins(*(pack(app) for pack in PACKS))
    try:
        app.synth()
    except RuntimeError:
        if not _findings(outdir):
            raise
    template = Template.from_json(json.loads((outdir / stack.template_file).read_text()))
    return Bare(stack=stack, built=built, template=template, findings=_findings(outdir))


def _findings(outdir: Path) -> list[str]:
    report = outdir / "validation-report.json"
    if not report.exists():
        return []
    return sorted(
        f"{violation['ruleName']} {construct['constructPath']}"
        for plugin in json.loads(report.read_text())["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    )


def flat(node: Any) -> Any:
    """A resolved CloudFormation value with its ARNs readable: ``Fn::Join`` joined, the partition as ``aws``, other
    references as ``${LogicalId}`` and ``${LogicalId.Attribute}``; lists and maps element by element."""
    if isinstance(node, list):
        return [flat(item) for item in node]
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return "aws" if node["Ref"] == "AWS::Partition" else "${" + node["Ref"] + "}"
        if set(node) == {"Fn::GetAtt"}:
            return "${" + ".".join(node["Fn::GetAtt"]) + "}"
        if set(node) == {"Fn::Join"}:
            separator, parts = node["Fn::Join"]
            return separator.join(str(flat(part)) for part in parts)
        return {key: flat(value) for key, value in node.items()}
    return node


def readable(statement: dict[str, Any]) -> dict[str, Any]:
    """A policy statement ``flat``, with Action and Resource always sorted lists."""
    shown = flat(statement)
    for key in ("Action", "Resource"):
        if key in shown:
            value = shown[key]
            shown[key] = sorted(value) if isinstance(value, list) else [value]
    return shown


def imported_key(stack: Stack) -> kms.IKey:
    """A stage key defined elsewhere (another app's DataKey), as ``kms.Key.from_key_arn``; one per stack."""
    return _once(stack, "ImportedKey", lambda: kms.Key.from_key_arn(stack, "ImportedKey", KEY_ARN))


def imported_bucket(stack: Stack, name: str) -> s3.IBucket:
    return _once(stack, f"Imported{name}", lambda: s3.Bucket.from_bucket_name(stack, f"Imported{name}", name))


def imported_role(stack: Stack, name: str) -> iam.IRole:
    arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    return _once(stack, f"Imported{name}", lambda: iam.Role.from_role_arn(stack, f"Imported{name}", arn))


# What each stack imported, by id: the same Python object each time, as a user would pass it (the stage-topic
# registry, distill.constructs.alarm_notifications, knows a key by its object).
_IMPORTED: weakref.WeakKeyDictionary[Stack, dict[str, Any]] = weakref.WeakKeyDictionary()


def _once(stack: Stack, id: str, make: Callable[[], Any]) -> Any:
    imported = _IMPORTED.setdefault(stack, {})
    if id not in imported:
        imported[id] = make()
    return imported[id]
