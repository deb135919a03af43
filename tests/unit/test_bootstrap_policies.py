"""The bootstrap policies in docs/: the execution role creates roles only inside the workload permissions boundary,
writes nothing on every resource but where a cited reason says so, and the boundary holds every stack role's grants."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_cdk import App

from tests.conftest import ROOT
from tests.deploy.iam import _allowed, _as_list, _statements
from tests.deploy.intrinsics import Resolver

DOCS = ROOT / "docs"
BOUNDARY_NAME = "bedrock-distillation-workload-boundary"
PERMISSIONS_BOUNDARY_KEY = "@aws-cdk/core:permissionsBoundary"
# The role writes for which IAM puts the boundary of the role into the request (iam:PermissionsBoundary): the ways a
# role gets permissions or changes its boundary (Service Authorization Reference for IAM,
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html,
# read 2026-12-02).
BOUNDED_ROLE_WRITES = {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"}
# Actions granted on every resource although they write, each for the reason its statement's Sid names.
WRITES_ON_EVERY_RESOURCE = {
    # Budgets, CloudWatch alarms and dashboards, Step Functions and EventBridge name their resources after the stage
    # (<stage>-...), not after the stack: no ARN pattern both holds them and leaves out another team's.
    "budgets:*",
    "cloudwatch:*",
    "events:*",
    "states:*",
    # AWS RAM: which resource type string the RAM authorization keys (ram:RequestedResourceType) give a Bedrock custom
    # model was not verified; until it is, the share is not scoped by type (the README says so).
    "ram:*",
    # A wait condition handle has no ARN: CloudFormation creates it for the stack itself.
    "cloudformation:CreateWaitConditionHandle",
    "cloudformation:SignalResource",
}
READ_PREFIXES = ("Describe", "Get", "List")
# An environment-agnostic stack (the sandbox) deploys into whichever account and Region the credentials name.
UNKNOWN = {"unknown-account": "123456789012", "unknown-region": "us-east-1"}


def document(name: str) -> dict[str, Any]:
    return json.loads((DOCS / name).read_text())


@pytest.fixture(scope="module")
def execution_policy() -> list[dict[str, Any]]:
    return document("cdk-execution-policy.json")["Statement"]


@pytest.fixture(scope="module")
def boundary() -> list[dict[str, Any]]:
    return document("distillation-workload-boundary.json")["Statement"]


@dataclass(frozen=True)
class Synthesized:
    """One synthesized stack, with the other stacks of its app by name (for Fn::GetStackOutput)."""

    name: str
    account: str
    region: str
    template: dict[str, Any]
    siblings: dict[str, Synthesized] = field(compare=False, repr=False)


def synthesized(app: App) -> list[Synthesized]:
    siblings: dict[str, Synthesized] = {}
    for artifact in app.synth().stacks_recursively:
        siblings[artifact.stack_name] = Synthesized(
            artifact.stack_name,
            UNKNOWN.get(artifact.environment.account, artifact.environment.account),
            UNKNOWN.get(artifact.environment.region, artifact.environment.region),
            artifact.template,
            siblings,
        )
    return list(siblings.values())


@pytest.fixture(scope="module")
def every_stack(stages, pipeline_app) -> list[Synthesized]:
    """Every stack the app synthesizes: each stage's, the pipeline's and the stages the pipeline deploys."""
    found = synthesized(next(iter(stages.values())).node.root) + synthesized(pipeline_app)
    assert any(stack.name == "bedrock-distillation-pipeline" for stack in found)
    return found


def resolver(stack: Synthesized) -> Resolver:
    """Template values as strings, with a role's ARN as CloudFormation names it (its RoleName, or the stack's name,
    the logical id and a suffix, as every generated name), and any other resource by its logical id."""
    account, region, template = stack.account, stack.region, stack.template
    pseudo = {
        "AWS::Partition": "aws",
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::URLSuffix": "amazonaws.com",
    }
    resources = template["Resources"]

    def name(logical_id: str) -> str:
        properties = resources[logical_id].get("Properties", {})
        return str(properties.get("RoleName", f"{stack.name}-{logical_id}-SUFFIX"))

    def get_att(logical_id: str, attribute: str) -> str:
        if resources.get(logical_id, {}).get("Type") == "AWS::IAM::Role":
            return f"arn:aws:iam::{account}:role/{name(logical_id)}"
        return f"{logical_id}.{attribute}"

    def ref(key: str) -> str:
        return pseudo.get(key) or (name(key) if resources.get(key, {}).get("Type") == "AWS::IAM::Role" else key)

    return Resolver(
        ref=ref,
        get_att=get_att,
        import_value=lambda export: f"import:{export}",
        stack_output=lambda name, _region, output: resolver(stack.siblings[name]).resolve(
            stack.siblings[name].template["Outputs"][output]["Value"]
        ),
        conditions=template.get("Conditions"),
        mappings=template.get("Mappings"),
    )


def role_grants(stack: Synthesized) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(where, action, resource, condition context) for every Allow of every role policy the stack holds.

    The condition context is the statement's own StringEquals values: a grant that the boundary allows only under a
    condition (iam:PassedToService, a bootstrap role's tag) must itself carry that condition."""
    resolve = resolver(stack)
    found = []
    for logical_id, resource in stack.template["Resources"].items():
        properties = resource.get("Properties", {})
        documents = []
        if resource["Type"] == "AWS::IAM::Role":
            documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [properties["PolicyDocument"]]
        for statement in (s for d in documents for s in _statements(d)):
            if statement["Effect"] != "Allow":
                continue
            context = {
                key: value
                for operator, entries in statement.get("Condition", {}).items()
                if operator.rpartition(":")[2] == "StringEquals"
                for key, value in entries.items()
            }
            for action in _as_list(statement["Action"]):
                for arn in _as_list(resolve.resolve(statement["Resource"])):
                    found.append((f"{stack.name} {logical_id}", action, str(arn), context))
    return found


def managed_policy_actions() -> dict[str, list[str]]:
    """The AWS managed policies the stacks attach, with their actions (AWS managed policy reference,
    AWSLambdaBasicExecutionRole.html, read 2026-12-02)."""
    return {
        "service-role/AWSLambdaBasicExecutionRole": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    }


# --- the workload boundary -------------------------------------------------------------------------------------------


def test_the_app_gives_every_role_the_workload_boundary_by_default(context):
    assert context[PERMISSIONS_BOUNDARY_KEY] == {"name": BOUNDARY_NAME}


def test_every_role_of_every_stack_carries_the_workload_boundary(every_stack):
    roles = 0
    for stack in every_stack:
        resolve = resolver(stack)
        for logical_id, resource in stack.template["Resources"].items():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            roles += 1
            boundary_arn = resolve.resolve(resource["Properties"].get("PermissionsBoundary"))
            assert boundary_arn == f"arn:aws:iam::{stack.account}:policy/{BOUNDARY_NAME}", f"{stack.name} {logical_id}"
    # the CDK's own roles (the bucket-emptying function's, the Provider framework's) are among them
    assert roles > 100


def test_the_workload_boundary_allows_every_grant_of_every_stack_role(every_stack, boundary):
    refused = [
        f"{where}: {action} on {arn}"
        for stack in every_stack
        for where, action, arn, context in role_grants(stack)
        if not _allowed(boundary, action, arn, context)
    ]
    assert refused == []


def test_the_workload_boundary_allows_the_aws_managed_policies_the_stacks_attach(every_stack, boundary):
    attached = {
        arn["Fn::Sub"].rsplit(":policy/", 1)[-1]
        for stack in every_stack
        for resource in stack.template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Role"
        for arn in _as_list(resource.get("Properties", {}).get("ManagedPolicyArns", []))
        if isinstance(arn, dict) and "Fn::Sub" in arn and ":iam::aws:policy/" in arn["Fn::Sub"]
    }
    assert attached == set(managed_policy_actions())
    for actions in managed_policy_actions().values():
        assert all(
            _allowed(boundary, action, "arn:aws:logs:us-east-1:111111111111:log-group:x", {}) for action in actions
        )


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("iam:CreateRole", "arn:aws:iam::111111111111:role/x-distillation-admin", {}),
        ("iam:AttachRolePolicy", "arn:aws:iam::111111111111:role/dev-distillation-foundation-x", {}),
        ("iam:PutRolePolicy", "arn:aws:iam::111111111111:role/dev-distillation-foundation-x", {}),
        ("iam:CreatePolicyVersion", f"arn:aws:iam::111111111111:policy/{BOUNDARY_NAME}", {}),
        ("iam:DeleteRolePermissionsBoundary", "arn:aws:iam::111111111111:role/dev-distillation-foundation-x", {}),
        ("iam:CreateAccessKey", "arn:aws:iam::111111111111:user/admin", {}),
        ("iam:PassRole", "arn:aws:iam::111111111111:role/Admin", {"iam:PassedToService": "lambda.amazonaws.com"}),
        (
            "iam:PassRole",
            "arn:aws:iam::111111111111:role/dev-distillation-x",
            {"iam:PassedToService": "ec2.amazonaws.com"},
        ),
        ("sts:AssumeRole", "arn:aws:iam::111111111111:role/Admin", {}),
        ("organizations:LeaveOrganization", "*", {}),
    ],
)
def test_a_role_inside_the_workload_boundary_cannot_leave_it(boundary, action, resource, context):
    assert not _allowed(boundary, action, resource, context)


# --- the execution policy ------------------------------------------------------------------------------------------


def boundary_condition(statement: dict[str, Any]) -> list[str]:
    return _as_list(statement.get("Condition", {}).get("ArnEquals", {}).get("iam:PermissionsBoundary", []))


BOUNDARY_ARN = f"arn:aws:iam::${{aws:PrincipalAccount}}:policy/{BOUNDARY_NAME}"


def test_the_execution_role_creates_or_widens_a_role_only_inside_the_workload_boundary(execution_policy):
    granting = [
        s
        for s in execution_policy
        if s["Effect"] == "Allow" and BOUNDED_ROLE_WRITES & {a for a in _as_list(s["Action"])}
    ]
    assert granting
    for statement in granting:
        assert boundary_condition(statement) == [BOUNDARY_ARN], statement.get("Sid")
        assert set(_as_list(statement["Action"])) <= BOUNDED_ROLE_WRITES, statement.get("Sid")
    for action in BOUNDED_ROLE_WRITES:
        role = "arn:aws:iam::111111111111:role/dev-distillation-foundation-x"
        inside = {"iam:PermissionsBoundary": BOUNDARY_ARN}
        assert _allowed(execution_policy, action, role, inside), action
        assert not _allowed(execution_policy, action, role, {}), action
        other = {"iam:PermissionsBoundary": "arn:aws:iam::111111111111:policy/AdministratorAccess"}
        assert not _allowed(execution_policy, action, role, other), action


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("iam:DeleteRolePermissionsBoundary", "arn:aws:iam::111111111111:role/dev-distillation-foundation-x", {}),
        ("iam:CreatePolicyVersion", f"arn:aws:iam::111111111111:policy/{BOUNDARY_NAME}", {}),
        ("iam:DeletePolicy", f"arn:aws:iam::111111111111:policy/{BOUNDARY_NAME}", {}),
        (
            "iam:PassRole",
            "arn:aws:iam::111111111111:role/dev-distillation-x",
            {"iam:PassedToService": "ec2.amazonaws.com"},
        ),
        ("iam:PassRole", "arn:aws:iam::111111111111:role/dev-distillation-x", {}),
    ],
)
def test_the_execution_role_cannot_free_a_role_from_the_workload_boundary(execution_policy, action, resource, context):
    assert not _allowed(execution_policy, action, resource, context)


def test_the_execution_role_passes_the_stacks_roles_only_to_the_services_the_stacks_configure(execution_policy):
    role = "arn:aws:iam::111111111111:role/dev-distillation-foundation-x"
    for service in ("lambda.amazonaws.com", "states.amazonaws.com", "events.amazonaws.com"):
        assert _allowed(execution_policy, "iam:PassRole", role, {"iam:PassedToService": service})


def is_write(action: str) -> bool:
    verb = action.split(":", 1)[1]
    return verb == "*" or not verb.startswith(READ_PREFIXES)


def test_no_write_is_granted_on_every_resource_but_the_listed_ones(execution_policy):
    broad = {
        action
        for statement in execution_policy
        if statement["Effect"] == "Allow" and "*" in _as_list(statement["Resource"]) and "Condition" not in statement
        for action in _as_list(statement["Action"])
        if is_write(action)
    }
    assert broad == WRITES_ON_EVERY_RESOURCE


def test_every_statement_of_the_bootstrap_policies_says_why_in_its_sid(execution_policy, boundary):
    for statement in execution_policy + boundary + document("cdk-permissions-boundary.json")["Statement"]:
        assert statement.get("Sid"), statement


@pytest.mark.parametrize(
    ("context", "allowed"),
    [
        ({"iam:PermissionsBoundary": BOUNDARY_ARN}, True),
        ({"iam:PermissionsBoundary": "arn:aws:iam::111111111111:policy/AdministratorAccess"}, False),
        ({}, False),
    ],
)
def test_the_execution_roles_own_boundary_refuses_any_role_outside_the_workload_boundary(context, allowed):
    statements = document("cdk-permissions-boundary.json")["Statement"]
    role = "arn:aws:iam::111111111111:role/dev-distillation-foundation-x"
    assert _allowed(statements, "iam:CreateRole", role, context) is allowed
    assert not _allowed(statements, "iam:DeleteRolePermissionsBoundary", role, context)
    assert not _allowed(statements, "iam:CreatePolicyVersion", f"arn:aws:iam::111111111111:policy/{BOUNDARY_NAME}", {})


@pytest.mark.parametrize("policy", sorted(DOCS.glob("*.json")), ids=lambda path: path.name)
def test_each_policy_fits_a_managed_policy(policy):
    """IAM counts a managed policy's characters without whitespace and allows 6,144 (AWS knowledge center,
    iam-increase-policy-size, and the IAM user guide's reference_iam-quotas.html it points to, read 2026-12-02)."""
    document = json.loads(policy.read_text())
    assert len(json.dumps(document, separators=(",", ":"))) <= 6144
