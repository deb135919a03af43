"""Reads untyped JSON (cdk.json context) into typed values, collecting every problem with its location.

A reviewer fixes a configuration from the error alone, so each message names where the value is (the dotted path
from the context root), the value found and what is allowed. All problems are reported at once: fixing one key
at a time through repeated synths wastes minutes per round.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

# The characters a Bedrock tag key or value may hold (botocore's Bedrock service model, shapes TagKey and TagValue,
# pattern [a-zA-Z0-9\s._:/=+@-]*); keys that begin with aws:, in any case, are AWS's own (the tag restrictions AWS
# services publish, e.g. AWS Batch user guide, tag-restrictions.html, read 2026-12-02).
TAG_TEXT = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*")


class ConfigError(Exception):
    """One or more configuration problems; ``problems`` holds one message per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("Invalid configuration:\n" + "\n".join(f"  - {problem}" for problem in self.problems))


def show(value: Any) -> str:
    """Render a value the way it appears in cdk.json, so the message quotes what the user wrote."""
    return json.dumps(value, sort_keys=True)


class Reader:
    """A cursor over one JSON object at a dotted path; problems go to a list shared with its children."""

    def __init__(self, data: Any, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        self._seen: set[str] = set()
        if isinstance(data, Mapping):
            self._data: Mapping[str, Any] = data
        else:
            self.problem(f"{path} is {show(data)}; it must be an object ({{...}})")
            self._data = {}

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def where(self, key: str) -> str:
        return f"{self.path}.{key}"

    def has(self, key: str) -> bool:
        return key in self._data

    def allow(self, *keys: str) -> None:
        """Mark keys as known without reading them (when another problem already made them moot)."""
        self._seen.update(keys)

    def raw(self, key: str, default: Any = None) -> Any:
        self._seen.add(key)
        return self._data.get(key, default)

    def required(self, key: str, what: str) -> Any:
        self._seen.add(key)
        if key not in self._data:
            self.problem(f"{self.where(key)} is missing; it must be {what}")
            return None
        return self._data[key]

    def child(self, key: str) -> Reader:
        return Reader(self.raw(key, {}), self.where(key), self.problems)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            self.problem(f"{self.where(key)} is {show(value)}; it must be true or false")
            return default
        return value

    def string(
        self,
        key: str,
        default: str | None = None,
        *,
        pattern: str | None = None,
        allowed: str = "a string",
        required: bool = False,
    ) -> str | None:
        value = self.required(key, allowed) if required else self.raw(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or (pattern is not None and not re.fullmatch(pattern, value)):
            self.problem(f"{self.where(key)} is {show(value)}; it must be {allowed}")
            return default
        return value

    def choice(self, key: str, default: str, choices: Iterable[str]) -> str:
        options = list(choices)
        value = self.raw(key, default)
        if value not in options:
            self.problem(
                f"{self.where(key)} is {show(value)}{_suggestion(value, options)}; it must be one of "
                + ", ".join(show(option) for option in options)
            )
            return default
        return value

    def integer(self, key: str, default: int | None, *, minimum: int, maximum: int) -> int | None:
        value = self.raw(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.problem(f"{self.where(key)} is {show(value)}; it must be a whole number from {minimum} to {maximum}")
            return default
        return value

    def string_map(
        self, key: str, *, key_limit: int, value_limit: int, what: str, reserved: Iterable[tuple[str, str]] = ()
    ) -> dict[str, str]:
        """A map of tags: string keys and values of the lengths and characters AWS allows; ``reserved`` holds (a key
        the map may not hold in any case, why) pairs."""
        why_reserved = {reserved_key.lower(): why for reserved_key, why in reserved}
        value = self.raw(key, {})
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and 1 <= len(k) <= key_limit and len(v) <= value_limit
            for k, v in value.items()
        ):
            self.problem(
                f"{self.where(key)} is {show(value)}; it must be an object of {what}: string keys of 1 to "
                f"{key_limit} characters and string values of at most {value_limit} characters"
            )
            return {}
        tags = dict(value)
        for tag_key, tag_value in value.items():
            if not TAG_TEXT.fullmatch(tag_key) or not TAG_TEXT.fullmatch(tag_value):
                self.problem(
                    f"{self.where(key)} has {show(tag_key)}: {show(tag_value)}; tag keys and values may hold only "
                    "letters, digits, spaces and _ . : / = + @ -"
                )
                tags.pop(tag_key)
            elif tag_key.lower().startswith("aws:"):
                self.problem(f"{self.where(key)} has {show(tag_key)}; the aws: prefix is AWS's own, use another key")
                tags.pop(tag_key)
            elif tag_key.lower() in why_reserved:
                self.problem(f"{self.where(key)} has {show(tag_key)}: {why_reserved[tag_key.lower()]}; remove it")
                tags.pop(tag_key)
        return tags

    def reject_unknown(self) -> None:
        """Unknown keys are errors: a misspelt key silently ignored is a setting silently not applied."""
        known = sorted(self._seen)
        for key in self._data:
            if key in self._seen:
                continue
            close = difflib.get_close_matches(key, known, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            self.problem(f"{self.where(key)} is not a known key{hint}; allowed keys here: " + ", ".join(known))

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)


def _suggestion(value: Any, options: list[str]) -> str:
    """' (did you mean "x"?)' for the option ``value`` was likely meant as: the same but for case, else the closest."""
    if not isinstance(value, str):
        return ""
    same = [option for option in options if option.lower() == value.lower()]
    close = same or difflib.get_close_matches(value, options, n=1)
    return f" (did you mean {show(close[0])}?)" if close else ""
