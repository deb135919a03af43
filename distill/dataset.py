"""Validating a Bedrock distillation training dataset (bedrock-conversation-2024 JSON Lines) before a job uses it.

A distillation job reads its dataset from S3 and fails, often long after it started, on the first record it cannot
use. Checking the file locally (``distill validate``, and the CDK app at synth for a stage's local dataset) turns that
into an immediate list of ``FILE:LINE: FIELD: MESSAGE`` lines, each saying what is wrong and what is allowed.

The rules follow the Bedrock user guide page "Prepare your training datasets for distillation":

- every line is one JSON object: ``schemaVersion`` (exactly ``bedrock-conversation-2024``), an optional ``system``
  (a list of one ``{"text": ...}`` item) and ``messages`` (user/assistant turns that alternate and start with user;
  the last turn may be a user turn, a prompt-only record, or an assistant turn, a prompt with its response);
- every message holds exactly ``role`` and ``content``, and content is a list of one ``{"text": ...}`` item:
  distillation takes text only;
- a field the schema does not define is an error, as Bedrock rejects it;
- more than one user turn (multi-turn) only for Amazon Nova models;
- 100 to 15,000 records, and at most ``MAX_FILE_BYTES`` per file.

Blank lines are errors: Bedrock counts every line as a record, so a blank one is a record it cannot read. Records are
counted the same way, every line, valid or not. A final newline at the end of the file does not make a line.

The file is read line by line and nothing is kept per record, so memory stays flat whatever the file size (it is
bounded by the longest line, which has to be parsed whole). The checks on a record use plain type tests and build a
message only for a problem, so validating costs little more than parsing the JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import NamedTuple

from distill.catalog import allows_multi_turn

SCHEMA_VERSION = "bedrock-conversation-2024"
MIN_RECORDS = 100
MAX_RECORDS = 15_000
# The largest training file accepted: 2 GiB, the service's per-file limit for distillation input as this project
# relies on it. Bedrock's quotas can change: if a job accepts or refuses other sizes, this constant is the one place
# to fix. The check runs on the file size alone, so a file Bedrock would refuse is not read at all.
MAX_FILE_BYTES = 2 * 1024**3
# How many problems a report keeps per file; all of them are counted. A broken file (the wrong format, say) has a
# problem on every line, and a thousand copies of one message help nobody and would make memory grow with the file.
MAX_KEPT_PROBLEMS = 100

# Field names for problems that concern a whole line or the whole file rather than one field of a record.
RECORD = "(record)"
FILE = "(file)"

_RECORD_FIELDS = frozenset({"schemaVersion", "system", "messages"})
_MESSAGE_FIELDS = frozenset({"role", "content"})
_TEXT_ITEM_FIELDS = frozenset({"text"})
_ROLES = ("user", "assistant")
_MISSING = object()

PROMPT_COMPLETION_MESSAGE = (
    'this is the prompt/completion format ({"prompt", "completion"}), not ' + SCHEMA_VERSION + "; "
    "`distill convert` converts it"
)


class Finding(NamedTuple):
    """A problem in one record: the JSON path of the field (``messages[1].content[0].text``) and what is wrong."""

    field: str
    message: str


@dataclass(frozen=True)
class Problem:
    """A problem in a dataset file; ``line`` is None for one about the whole file (its size or record count)."""

    path: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.message}"


@dataclass
class Summary:
    """What a file holds, counted while streaming. The turn counts cover the records without problems."""

    records: int = 0
    prompt_only: int = 0
    with_response: int = 0
    multi_turn: int = 0
    largest_record_bytes: int = 0
    largest_record_line: int | None = None
    multi_turn_allowed: bool = True


@dataclass
class Report:
    """The result of validating one file: the first ``MAX_KEPT_PROBLEMS`` problems, the count of all, a summary."""

    path: str
    summary: Summary
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def omitted(self) -> int:
        """Problems counted but not kept."""
        return self.problem_count - len(self.problems)

    def add(self, line: int | None, field_path: str, message: str, *, keep: bool = False) -> None:
        """Count a problem, and keep it while under the cap (or always with ``keep``, for the file-level ones)."""
        self.problem_count += 1
        if keep or len(self.problems) < MAX_KEPT_PROBLEMS:
            self.problems.append(Problem(self.path, line, field_path, message))


def multi_turn_allowed_for(*model_ids: str | None) -> bool:
    """Whether records may be multi-turn for all the given models (teacher, student); True when none is given."""
    return all(allows_multi_turn(model_id) for model_id in model_ids if model_id)


# --- one record -------------------------------------------------------------------------------------------------


def validate_record(record: object, *, multi_turn_allowed: bool) -> list[Finding]:
    """The problems of one parsed record; an empty list when Bedrock distillation can use it."""
    if not isinstance(record, dict):
        return [Finding(RECORD, f"must be a JSON object, found {_kind(record)}")]
    if "messages" not in record and ("prompt" in record or "completion" in record):
        return [Finding(RECORD, PROMPT_COMPLETION_MESSAGE)]
    findings: list[Finding] = []
    _check_schema_version(record.get("schemaVersion", _MISSING), findings)
    if "system" in record:
        _check_text_list(record["system"], "system", findings)
    _check_messages(record.get("messages", _MISSING), multi_turn_allowed, findings)
    _check_known_fields(record, _RECORD_FIELDS, "", "a record holds only schemaVersion, system and messages", findings)
    return findings


def _check_schema_version(value: object, findings: list[Finding]) -> None:
    if value == SCHEMA_VERSION:
        return
    if value is _MISSING:
        findings.append(Finding("schemaVersion", f'missing; must be "{SCHEMA_VERSION}"'))
    else:
        findings.append(Finding("schemaVersion", f'must be exactly "{SCHEMA_VERSION}", found {_describe(value)}'))


def _check_messages(messages: object, multi_turn_allowed: bool, findings: list[Finding]) -> None:
    if not isinstance(messages, list) or not messages:
        findings.append(Finding("messages", _messages_shape_message(messages)))
        return
    for index, message in enumerate(messages):
        _check_message(message, index, findings)
    if not multi_turn_allowed and len(messages) > 2:
        findings.append(Finding("messages", _multi_turn_message(len(messages))))


def _messages_shape_message(messages: object) -> str:
    if messages is _MISSING:
        return "missing; must be a list of user/assistant turns that starts with a user turn"
    if isinstance(messages, list):
        return "must hold at least one message (a user turn), found an empty list"
    return f"must be a list of user/assistant turns, found {_kind(messages)}"


def _multi_turn_message(message_count: int) -> str:
    return (
        f"holds {message_count} messages ({(message_count + 1) // 2} user turns), but the chosen models take a single "
        "turn (one user message, optionally followed by one assistant message); only Amazon Nova models take "
        "multi-turn records"
    )


def _check_message(message: object, index: int, findings: list[Finding]) -> None:
    path = f"messages[{index}]"
    if not isinstance(message, dict):
        findings.append(Finding(path, f'must be an object {{"role": ..., "content": [...]}}, found {_kind(message)}'))
        return
    _check_role(message.get("role", _MISSING), _ROLES[index % 2], path, findings)
    _check_text_list(message.get("content", _MISSING), f"{path}.content", findings)
    _check_known_fields(message, _MESSAGE_FIELDS, path, "a message holds only role and content", findings)


def _check_role(role: object, expected: str, path: str, findings: list[Finding]) -> None:
    if role == expected:
        return
    if role is _MISSING:
        findings.append(Finding(f"{path}.role", f'missing; must be "{expected}"'))
    else:
        findings.append(
            Finding(
                f"{path}.role",
                f'must be "{expected}" (turns alternate user, assistant, starting with user), found {_describe(role)}',
            )
        )


def _check_text_list(value: object, path: str, findings: list[Finding]) -> None:
    """``system`` and every message's ``content``: a list of exactly one ``{"text": non-empty string}`` item."""
    if isinstance(value, list) and len(value) == 1:
        _check_text_item(value[0], f"{path}[0]", findings)
    elif value is _MISSING:
        findings.append(Finding(path, 'missing; must be a list of one {"text": ...} item'))
    elif isinstance(value, list):
        findings.append(Finding(path, f'must hold exactly one {{"text": ...}} item, found {len(value)}'))
    else:
        findings.append(Finding(path, f'must be a list of one {{"text": ...}} item, found {_kind(value)}'))


def _check_text_item(item: object, path: str, findings: list[Finding]) -> None:
    if not isinstance(item, dict):
        findings.append(Finding(path, f'must be an object {{"text": ...}}, found {_kind(item)}'))
        return
    text = item.get("text", _MISSING)
    if not isinstance(text, str) or not text:
        found = "missing" if text is _MISSING else f"found {_kind(text)}"
        findings.append(Finding(f"{path}.text", f"must be a non-empty string, {found}"))
    _check_known_fields(
        item,
        _TEXT_ITEM_FIELDS,
        path,
        'a content item holds only "text" (distillation records are text only: no images, documents or tool use)',
        findings,
    )


def _check_known_fields(obj: dict, known: frozenset[str], path: str, allowed: str, findings: list[Finding]) -> None:
    if obj.keys() <= known:
        return
    findings.extend(Finding(_child(path, key), f"unknown field; {allowed}") for key in obj if key not in known)


def _child(path: str, key: object) -> str:
    """The JSON path of a key under ``path``: ``messages[0].image``, or ``["odd key"]`` when it needs quoting."""
    if isinstance(key, str) and key.isidentifier():
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _kind(value: object) -> str:
    """A JSON value's kind as a message names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _describe(value: object) -> str:
    """A found value for a message: a short string quoted as JSON, anything else by its kind."""
    if isinstance(value, str) and value:
        return json.dumps(value if len(value) <= 60 else value[:60] + "...")
    return _kind(value)


# --- one file ---------------------------------------------------------------------------------------------------


def validate_file(path: str | os.PathLike[str], *, multi_turn_allowed: bool) -> Report:
    """Validate a JSON Lines dataset file by streaming it; raises ``OSError`` if the file cannot be read."""
    report = Report(os.fspath(path), Summary(multi_turn_allowed=multi_turn_allowed))
    size = os.stat(path).st_size
    if size > MAX_FILE_BYTES:
        report.add(None, FILE, _too_large_message(size), keep=True)
        return report
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            _check_line(line, number, report)
    _check_record_count(report)
    return report


def _too_large_message(size: int) -> str:
    return (
        f"is {size:,} bytes; a training file may be at most {MAX_FILE_BYTES:,} bytes ({MAX_FILE_BYTES / 1024**3:g} "
        "GiB, MAX_FILE_BYTES): split it or sample fewer records"
    )


def _check_line(line: bytes, number: int, report: Report) -> None:
    summary = report.summary
    summary.records += 1
    size = len(line) - line.endswith(b"\n")
    if size > summary.largest_record_bytes:
        summary.largest_record_bytes = size
        summary.largest_record_line = number
    try:
        record = parse_line(line)
    except LineError as error:
        report.add(number, RECORD, str(error))
        return
    findings = validate_record(record, multi_turn_allowed=summary.multi_turn_allowed)
    if findings:
        for finding in findings:
            report.add(number, finding.field, finding.message)
    else:
        _count_turns(record["messages"], summary)


class LineError(ValueError):
    """A line that holds no record: not UTF-8, blank, or not JSON; the message says which and where."""


def parse_line(line: bytes) -> object:
    """The JSON value on one line of a JSON Lines file, decoded as strict UTF-8; raises ``LineError``.

    The line is decoded here rather than by ``json.loads(bytes)``, which guesses UTF-16 or UTF-32 from the first
    bytes and lets encoded surrogates through: Bedrock reads UTF-8 only.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LineError(_not_utf8_message(line, error)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise LineError(_not_json_message(text, error)) from None


def _not_utf8_message(line: bytes, error: UnicodeDecodeError) -> str:
    return f"not UTF-8: byte 0x{line[error.start]:02x} at byte {error.start + 1} of the line; save the file as UTF-8"


def _not_json_message(text: str, error: json.JSONDecodeError) -> str:
    content = text.rstrip()
    if not content:
        return "blank line; Bedrock counts every line as a record, so a dataset may not hold blank lines"
    if error.pos >= len(content):
        return (
            f"not valid JSON: the line ends inside a record ({error.msg}); JSON Lines needs each record whole on "
            "one line, not pretty-printed over several"
        )
    return f"not valid JSON: {error.msg} at column {error.pos + 1}"


def _count_turns(messages: list, summary: Summary) -> None:
    if len(messages) % 2:
        summary.prompt_only += 1
    else:
        summary.with_response += 1
    if len(messages) > 2:
        summary.multi_turn += 1


def _check_record_count(report: Report) -> None:
    count = report.summary.records
    if not MIN_RECORDS <= count <= MAX_RECORDS:
        report.add(
            None,
            FILE,
            f"holds {count:,} record{'' if count == 1 else 's'}; a distillation dataset needs {MIN_RECORDS} to "
            f"{MAX_RECORDS:,}",
            keep=True,
        )
