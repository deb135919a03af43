"""IAM as the synthesized templates grant it: which role each function has, and whether a call is allowed.

The engine registers every AWS::IAM::Role, ManagedPolicy and Policy with its resolved policy document; a call is
allowed when some Allow statement of the caller's role matches its action, resource and conditions and no Deny
does (the IAM policy evaluation logic for identity-based policies in one account; resource policies, permission
boundaries and SCPs are not modelled). Only the condition operators the templates use are implemented; any other
makes the check fail loudly rather than guess.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from tests.deploy.aws import Authorization, Call


@dataclass
class PolicySet:
    """Statements by the physical id of the IAM resource that holds them, and which roles each is attached to."""

    statements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attachments: dict[str, set[str]] = field(default_factory=dict)  # policy id -> role names


class Iam:
    def __init__(self) -> None:
        self.roles: dict[str, dict[str, Any]] = {}  # role name -> {"arn", "trust"}
        self.policies = PolicySet()
        self.function_roles: dict[str, str] = {}  # function name -> role name

    # -- what the engine registers --------------------------------------------------------------------------
    def put_role(
        self, name: str, arn: str, trust: dict[str, Any], inline: list[dict[str, Any]], managed: list[str]
    ) -> None:
        """A role with its inline policies and the ARNs of the managed policies it attaches (ManagedPolicyArns)."""
        self.roles[name] = {"arn": arn, "trust": trust, "managed": set(managed)}
        statements: list[dict[str, Any]] = []
        for policy in inline:
            statements += _statements(policy["PolicyDocument"])
        self.put_policy(f"inline:{name}", statements, [name])

    def delete_role(self, name: str) -> None:
        self.roles.pop(name, None)
        self.delete_policy(f"inline:{name}")

    def put_policy(self, policy_id: str, statements: list[dict[str, Any]], roles: list[str]) -> None:
        self.policies.statements[policy_id] = statements
        self.policies.attachments[policy_id] = set(roles)

    def delete_policy(self, policy_id: str) -> None:
        self.policies.statements.pop(policy_id, None)
        self.policies.attachments.pop(policy_id, None)

    def role_arn(self, name: str) -> str:
        return self.roles[name]["arn"]

    def role_exists(self, arn: str) -> bool:
        return any(role["arn"] == arn for role in self.roles.values())

    # -- evaluation -----------------------------------------------------------------------------------------
    def check(self, call: Call, authorization: Authorization) -> str | None:
        """None when every request of ``authorization`` is allowed for the caller, else a sentence saying what not."""
        if call.caller is None:
            return None
        role = self.function_roles.get(call.caller)
        if role is None:
            return f"{call.caller} has no role the simulator knows"
        attached = self.roles.get(role, {}).get("managed", set())
        statements = [
            statement
            for policy_id, roles in self.policies.attachments.items()
            if role in roles or policy_id in attached
            for statement in self.policies.statements[policy_id]
        ]
        for action, resource, context in authorization.requests:
            if not _allowed(statements, action, resource, context):
                return (
                    f"{call.caller} (role {role}) may not {action} on {resource}"
                    f"{' with ' + str(context) if context else ''}, as {call.service}:{call.operation} needs"
                )
        return None


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _allowed(statements, action: str, resource: str, context: dict[str, Any]) -> bool:
    matching = [s for s in statements if _matches(s, action, resource, context)]
    if any(s["Effect"] == "Deny" for s in matching):
        return False
    return any(s["Effect"] == "Allow" for s in matching)


def _matches(statement, action: str, resource: str, context: dict[str, Any]) -> bool:
    if "Action" in statement:
        if not any(_glob(pattern, action, case=False) for pattern in _as_list(statement["Action"])):
            return False
    elif any(_glob(pattern, action, case=False) for pattern in _as_list(statement.get("NotAction", []))):
        return False
    if "Resource" in statement:
        if not any(_glob(pattern, resource) for pattern in _as_list(statement["Resource"])):
            return False
    elif any(_glob(pattern, resource) for pattern in _as_list(statement.get("NotResource", []))):
        return False
    return all(
        _condition(operator, key, values, context)
        for operator, entries in statement.get("Condition", {}).items()
        for key, values in entries.items()
    )


def _glob(pattern: str, value: str, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def _condition(operator: str, key: str, values, context: dict[str, Any]) -> bool:
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    qualifier, _, base = base.rpartition(":")
    actual = context.get(key)
    if base == "Null":
        return (actual is None) == (str(_as_list(values)[0]).lower() == "true")
    if actual is None or (qualifier and not _as_list(actual)):
        # A set operator over a key the request lacks (or holds empty): ForAllValues is true, ForAnyValue false (IAM
        # user guide, "Set operators for multivalued context keys",
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html,
        # read 2026-12-02).
        return qualifier == "ForAllValues" or if_exists
    wanted = [str(v) for v in _as_list(values)]
    actual_values = [str(a) for a in _as_list(actual)]
    tests = {
        "StringEquals": lambda a: a in wanted,
        "StringNotEquals": lambda a: a not in wanted,
        "StringEqualsIgnoreCase": lambda a: a.lower() in [w.lower() for w in wanted],
        "StringLike": lambda a: any(_glob(w, a) for w in wanted),
        "StringNotLike": lambda a: not any(_glob(w, a) for w in wanted),
        "ArnEquals": lambda a: a in wanted,
        "ArnLike": lambda a: any(_glob(w, a) for w in wanted),
        "ArnNotLike": lambda a: not any(_glob(w, a) for w in wanted),
        "Bool": lambda a: a.lower() in [w.lower() for w in wanted],
    }
    if base not in tests:
        raise AssertionError(f"The IAM simulator has no condition operator {operator}; add it before relying on it")
    test = tests[base]
    if qualifier == "ForAllValues":
        return all(test(a) for a in actual_values)
    return any(test(a) for a in actual_values)
