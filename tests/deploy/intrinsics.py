"""CloudFormation's intrinsic functions and pseudo parameters, resolved as CloudFormation does at deploy time."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

NO_VALUE = object()

SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Unresolvable(Exception):
    """A reference to something that does not exist (yet): a template or ordering bug the simulator must report."""


class Resolver:
    """Resolves one stack's template values.

    ``ref(name)`` and ``get_att(logical_id, attribute)`` come from the engine (parameters, pseudo parameters,
    resources' physical ids and attributes); ``import_value(name)`` reads the Region's exports.
    """

    def __init__(
        self,
        *,
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
        import_value: Callable[[str], Any],
        stack_output: Callable[[str, str, str], Any],
        conditions: dict[str, Any] | None = None,
        mappings: dict[str, Any] | None = None,
    ) -> None:
        self._ref = ref
        self._get_att = get_att
        self._import_value = import_value
        self._stack_output = stack_output
        self._condition_definitions = conditions or {}
        self._mappings = mappings or {}
        self._condition_values: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            self._condition_values[name] = bool(self.resolve(self._condition_definitions[name]))
        return self._condition_values[name]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            resolved = [self.resolve(item) for item in value]
            return [item for item in resolved if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            function = self._functions().get(key)
            if function is not None:
                return function(argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": lambda name: NO_VALUE if name == "AWS::NoValue" else self._ref(name),
            "Fn::GetAtt": self._fn_get_att,
            "Fn::Join": lambda a: str(a[0]).join(str(item) for item in self.resolve(a[1])),
            "Fn::Sub": self._fn_sub,
            "Fn::Select": lambda a: self.resolve(a[1])[int(self.resolve(a[0]))],
            "Fn::Split": lambda a: str(self.resolve(a[1])).split(a[0]),
            "Fn::ImportValue": lambda a: self._import_value(self.resolve(a)),
            "Fn::GetStackOutput": self._fn_get_stack_output,
            "Fn::If": lambda a: self.resolve(a[1] if self.condition(a[0]) else a[2]),
            "Fn::Equals": lambda a: self.resolve(a[0]) == self.resolve(a[1]),
            "Fn::Not": lambda a: not self.resolve(a[0]),
            "Fn::And": lambda a: all(self.resolve(item) for item in a),
            "Fn::Or": lambda a: any(self.resolve(item) for item in a),
            "Condition": self.condition,
            "Fn::FindInMap": lambda a: self._mappings[self.resolve(a[0])][self.resolve(a[1])][self.resolve(a[2])],
            "Fn::Base64": lambda a: base64.b64encode(str(self.resolve(a)).encode()).decode(),
            "Fn::ToJsonString": lambda a: json.dumps(self.resolve(a), separators=(",", ":")),
        }

    def _fn_get_att(self, argument):
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return self._get_att(logical_id, self.resolve(attribute))

    def _fn_get_stack_output(self, argument):
        """Another stack's output, as aws-cdk-lib writes cross-stack references (``Fn::GetStackOutput``)."""
        argument = self.resolve(argument)
        return self._stack_output(argument["StackName"], argument.get("Region", ""), argument["OutputName"])

    def _fn_sub(self, argument):
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(argument[1]))

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self._get_att(logical_id, attribute))
            return str(self._ref(name))

        return SUB_VARIABLE.sub(replace, text).replace("${!", "${")


def references(value: Any) -> set[str]:
    """The logical ids (and parameter names) a template value refers to: for dependency ordering."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                found.add(argument.split(".", 1)[0] if isinstance(argument, str) else argument[0])
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                local = set() if isinstance(argument, str) else set(argument[1])
                for name in SUB_VARIABLE.findall(text):
                    if name not in local:
                        found.add(name.split(".", 1)[0])
                if not isinstance(argument, str):
                    found |= references(argument[1])
            else:
                found |= references(argument)
    return found


def as_custom_resource_properties(value: Any) -> Any:
    """What a custom resource receives: every scalar as a string, as CloudFormation sends them (aws-cdk
    docs/CLOUDFORMATION.md, "Custom Resources": booleans become "true"/"false")."""
    if isinstance(value, dict):
        return {k: as_custom_resource_properties(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_custom_resource_properties(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value
