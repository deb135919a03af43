"""Request-metadata filters: which invocation-log records a distillation job trains on, checked before any job runs.

A distillation job that reads invocation logs selects records with ``requestMetadataFilters``. Bedrock rejects a
malformed filter only when the job is created, and a well-formed filter that selects too few records fails the job
later, so this module checks the filter against the API's rules locally (the limits are the ones in the botocore
service model, shapes ``RequestMetadataFilters``, ``RequestMetadataBaseFilters`` and ``RequestMetadataMap``; a test
compares them) and lets ``distill preview-logs`` apply it to log files.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from distill.config.reader import show

CONDITION_OPERATORS = ("equals", "notEquals")
LIST_OPERATORS = ("andAll", "orAll")
FILTER_OPERATORS = CONDITION_OPERATORS + LIST_OPERATORS

# RequestMetadataFiltersList: how many conditions andAll/orAll hold.
MIN_CONDITIONS = 1
MAX_CONDITIONS = 16
# RequestMetadataMap: a condition names exactly one key.
MAP_ENTRIES = 1
# RequestMetadataMapKeyString / RequestMetadataMapValueString.
KEY_MIN_LENGTH = 1
VALUE_MIN_LENGTH = 0
TEXT_MAX_LENGTH = 256
# The character class of both patterns; the model gives "[...]{1,256}" for keys and "[...]{0,256}" for values,
# which describe the whole text, so every character must be in the class.
TEXT_CHARACTER = r"[a-zA-Z0-9\s._:/=+$@-]"
# re.ASCII: the stricter reading of \s (ASCII whitespace only), so a value accepted here is not refused by a
# service whose regex engine reads \s that way.
_TEXT_CHARACTER = re.compile(TEXT_CHARACTER, re.ASCII)
_TEXT_CHARACTERS_IN_WORDS = "ASCII letters, digits, whitespace and . _ : / = + $ @ -"


class FilterError(ValueError):
    """One or more problems in a filter; ``problems`` holds one message per problem, each naming where it is."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            "Invalid request-metadata filter:\n" + "\n".join(f"  - {problem}" for problem in self.problems)
        )


@dataclass(frozen=True)
class Condition:
    """A base filter: one metadata key and the value a record must have (equals) or must not have (notEquals).

    A record whose requestMetadata lacks the key does not have that key with that value, so ``notEquals``
    selects it and ``equals`` does not. The API reference says only "Include results where the key does not
    equal the value"; treating a missing key as "not equal" is this tool's reading of that documentation, not
    behaviour AWS states.
    """

    operator: Literal["equals", "notEquals"]
    key: str
    value: str

    def matches(self, request_metadata: Mapping[str, Any]) -> bool:
        has_value = self.key in request_metadata and request_metadata[self.key] == self.value
        return has_value if self.operator == "equals" else not has_value

    def to_api(self) -> dict[str, dict[str, str]]:
        return {self.operator: {self.key: self.value}}


@dataclass(frozen=True)
class ConditionList:
    """andAll (every condition holds) or orAll (at least one holds) over 1 to 16 conditions; lists do not nest.

    Each item holds exactly one of equals and notEquals. The botocore model does not mark the item shape
    (``RequestMetadataBaseFilters``) a union, but the API reference describes an item as one key and the value it
    should or should not equal, and what Bedrock does with both in one item is undocumented: this tool rejects that
    rather than guess; two items in the list say the same thing without doubt.
    """

    operator: Literal["andAll", "orAll"]
    conditions: tuple[Condition, ...]

    def matches(self, request_metadata: Mapping[str, Any]) -> bool:
        combine = all if self.operator == "andAll" else any
        return combine(condition.matches(request_metadata) for condition in self.conditions)

    def to_api(self) -> dict[str, list[dict[str, dict[str, str]]]]:
        return {self.operator: [condition.to_api() for condition in self.conditions]}


RequestMetadataFilter = Condition | ConditionList


def parse_filter(data: Any, where: str) -> RequestMetadataFilter:
    """Parse a filter as written in cdk.json or a JSON file; raise ``FilterError`` listing every problem.

    ``where`` prefixes each message (a dotted context path or a file name) so the reader finds the value.
    """
    problems: list[str] = []
    parsed = _parse_filter(data, where, problems)
    if problems or parsed is None:
        raise FilterError(problems)
    return parsed


def _parse_filter(data: Any, where: str, problems: list[str]) -> RequestMetadataFilter | None:
    parsed = [
        _parse_condition(operator, data[operator], f"{where}.{operator}", problems)
        if operator in CONDITION_OPERATORS
        else _parse_condition_list(operator, data[operator], f"{where}.{operator}", problems)
        for operator in _operators(data, where, FILTER_OPERATORS, problems)
    ]
    return parsed[0] if len(parsed) == 1 else None


def _operators(data: Any, where: str, allowed: tuple[str, ...], problems: list[str]) -> list[str]:
    """The operator keys of a filter or list item, with a problem unless there is exactly one.

    All of them are returned, so the contents of each are checked too and every problem is reported at once.
    """
    one_of = ", ".join(show(name) for name in allowed)
    if not isinstance(data, Mapping):
        problems.append(f"{where} is {show(data)}; it must be an object holding exactly one of {one_of}")
        return []
    problems.extend(_unknown_key(key, where, allowed) for key in data if key not in allowed)
    present = [key for key in data if key in allowed]
    if not data:
        problems.append(f"{where} is {{}}; it must hold exactly one of {one_of}")
    elif len(present) > 1:
        problems.append(
            f"{where} holds {_and(show(key) for key in present)}; it must hold exactly one of {one_of}"
            + (" (put each condition in its own list item)" if allowed == CONDITION_OPERATORS else "")
        )
    return present


def _unknown_key(key: Any, where: str, allowed: tuple[str, ...]) -> str:
    if key in LIST_OPERATORS:
        return (
            f"{where}.{key} is not allowed here: an item of andAll or orAll holds only "
            f'"equals" or "notEquals" (filters nest one level only)'
        )
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f"{where}.{key} is not a known key{hint}; allowed keys here: " + ", ".join(allowed)


def _parse_condition_list(operator: str, items: Any, where: str, problems: list[str]) -> ConditionList | None:
    if not isinstance(items, list):
        problems.append(
            f"{where} is {show(items)}; it must be a list of {MIN_CONDITIONS} to {MAX_CONDITIONS} conditions "
            'such as {"equals": {"project": "CustomerService"}}'
        )
        return None
    count = len(problems)
    if not MIN_CONDITIONS <= len(items) <= MAX_CONDITIONS:
        problems.append(f"{where} has {len(items)} items; it must hold {MIN_CONDITIONS} to {MAX_CONDITIONS}")
    conditions = [_parse_item(item, f"{where}[{index}]", problems) for index, item in enumerate(items)]
    if len(problems) > count:
        return None
    return ConditionList(operator, tuple(conditions))


def _parse_item(item: Any, where: str, problems: list[str]) -> Condition | None:
    parsed = [
        _parse_condition(operator, item[operator], f"{where}.{operator}", problems)
        for operator in _operators(item, where, CONDITION_OPERATORS, problems)
    ]
    return parsed[0] if len(parsed) == 1 else None


def _parse_condition(operator: str, entry: Any, where: str, problems: list[str]) -> Condition | None:
    if not isinstance(entry, Mapping):
        problems.append(
            f'{where} is {show(entry)}; it must be an object of one metadata key and its value, such as {{"project": '
            '"CustomerService"}'
        )
        return None
    count = len(problems)
    if len(entry) != MAP_ENTRIES:
        problems.append(
            f"{where} has {len(entry)} entries; it must hold exactly {MAP_ENTRIES} (one metadata key and its value)"
        )
    for key, value in entry.items():
        _check_text(f"{where} has the key", key, "key", KEY_MIN_LENGTH, problems)
        _check_text(f"{where}.{key} is", value, "value", VALUE_MIN_LENGTH, problems)
    if len(problems) > count:
        return None
    ((key, value),) = entry.items()
    return Condition(operator, key, value)


def _check_text(subject: str, text: Any, noun: str, min_length: int, problems: list[str]) -> None:
    """Apply the API's rules for a metadata key or value: a string, its length, and its allowed characters."""
    if not isinstance(text, str):
        problems.append(f"{subject} {show(text)}; {noun}s must be strings")
    elif not min_length <= len(text) <= TEXT_MAX_LENGTH:
        problems.append(
            f"{subject} {show(text)} of {len(text)} characters; {noun}s must be {min_length} to {TEXT_MAX_LENGTH} "
            "characters long"
        )
    elif disallowed := sorted({character for character in text if not _TEXT_CHARACTER.fullmatch(character)}):
        problems.append(
            f"{subject} {show(text)}, which holds {_and(show(character) for character in disallowed)}; {noun}s may "
            f"hold only {_TEXT_CHARACTERS_IN_WORDS}"
        )


def _and(words: Iterable[str]) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
