"""Model invocation log records read from local copies of the S3 log objects, one line at a time.

Bedrock writes invocation logs to S3 as gzipped JSON Lines objects (``.json.gz``), one record per line with the
``schemaType`` "ModelInvocationLog". People also keep plain ``.json``/``.jsonl`` copies, and names do not always
say whether a file is compressed, so gzip is recognised by its magic bytes. Files are streamed line by line: a
month of logs does not have to fit in memory, and one bad line is reported by file and line instead of hiding the
rest of the file.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill.config.catalog import CatalogError, ModelReference, parse_model
from distill.config.reader import show

GZIP_MAGIC = b"\x1f\x8b"
GUARDRAIL_STOP_REASON = "guardrail_intervened"
# What a directory walk reads; a file named on the command line is read whatever its name.
LOG_SUFFIXES = (".json", ".jsonl", ".gz")
SCHEMA_TYPE = "ModelInvocationLog"
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


class LogReadError(Exception):
    """A path that does not exist or a file that cannot be read or decompressed."""


@dataclass(frozen=True)
class LogRecord:
    """One invocation log record and where it was read."""

    path: Path
    line: int
    data: Mapping[str, Any]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def model_id(self) -> str | None:
        value = self.data.get("modelId")
        return value if isinstance(value, str) else None

    @property
    def request_metadata(self) -> Mapping[str, Any]:
        """The record's requestMetadata; an absent or malformed one selects like an empty one."""
        value = self.data.get("requestMetadata")
        return value if isinstance(value, Mapping) else {}

    @property
    def has_response(self) -> bool:
        """Whether the record holds the model's answer, inline or (for bodies over 100 KB) as an S3 path.

        A failed invocation is logged without one, and is then no prompt-response pair.
        """
        output = self.data.get("output")
        return isinstance(output, Mapping) and bool(output.get("outputBodyJson") or output.get("outputBodyS3Path"))

    @property
    def _input_body(self) -> Mapping[str, Any]:
        return _mapping(_mapping(self.data.get("input")).get("inputBodyJson"))

    @property
    def _output_body(self) -> Mapping[str, Any]:
        return _mapping(_mapping(self.data.get("output")).get("outputBodyJson"))

    @property
    def user_turns(self) -> int:
        """User messages in the prompt: Converse and messages-style InvokeModel bodies list them; a body with a
        single prompt string (Llama's InvokeModel format) is one turn."""
        messages = self._input_body.get("messages")
        if not isinstance(messages, list):
            return 1
        return sum(1 for message in messages if isinstance(message, Mapping) and message.get("role") == "user")

    @property
    def text_only(self) -> bool:
        """Whether every content item of the prompt, the system prompt and the response is text.

        Distillation takes text only (the distillation data page: the supported models "support only the
        text-to-text modality"); an image, document, video, audio or tool block makes the record unusable.
        """
        body = self._input_body
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        items = [item for message in messages for item in _content(message)]
        items += _items(body.get("system"))
        output = self._output_body
        answer = _mapping(output.get("output")).get("message") or output
        items += _content(answer)
        return all(_is_text(item) for item in items)

    @property
    def guardrail_intervened(self) -> bool:
        """Whether a guardrail replaced the answer: Converse logs ``stopReason: guardrail_intervened`` (the
        StopReason enum of the botocore bedrock-runtime model); InvokeModel bodies carry
        ``"amazon-bedrock-guardrailAction": "INTERVENED"`` (as public invocation log records show; not on a user
        guide page read for this)."""
        output = self._output_body
        return (
            output.get("stopReason") == GUARDRAIL_STOP_REASON
            or output.get("stop_reason") == GUARDRAIL_STOP_REASON
            or output.get("amazon-bedrock-guardrailAction") == "INTERVENED"
        )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list) else []


def _content(message: Any) -> list[Any]:
    return _items(_mapping(message).get("content"))


def _is_text(item: Any) -> bool:
    """A string, a Converse ``{"text": ...}`` block, or a messages-API ``{"type": "text", "text": ...}`` block."""
    if isinstance(item, str):
        return True
    return (
        isinstance(item, Mapping)
        and "text" in item
        and set(item) <= {"text", "type"}
        and item.get("type", "text") == "text"
    )


@dataclass(frozen=True)
class SkippedLine:
    """A line that is not an invocation log record, and why."""

    path: Path
    line: int
    problem: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def log_files(paths: Sequence[Path]) -> Iterator[Path]:
    """The files to read: each file path as given, and log files under each directory, in a stable order.

    Every path is checked before the first file is read, so a mistyped path fails at once, not after an hour
    spent on the paths before it.
    """
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise LogReadError("no such file or directory: " + ", ".join(missing))
    return _walk(paths)


def _walk(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if not path.is_dir():
            yield path
            continue
        for directory, subdirectories, names in os.walk(path):
            subdirectories.sort()
            yield from (Path(directory, name) for name in sorted(names) if name.endswith(LOG_SUFFIXES))


def read_log_file(path: Path) -> Iterator[LogRecord | SkippedLine]:
    """Each non-blank line of a file, plain or gzipped, as a record or as a skipped line with the reason."""
    for number, raw in enumerate(_lines(path), start=1):
        if raw.strip():
            yield _parse_line(path, number, raw)


def _lines(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as stream:
            compressed = stream.read(len(GZIP_MAGIC)) == GZIP_MAGIC
            stream.seek(0)
            yield from gzip.GzipFile(fileobj=stream) if compressed else stream
    except (OSError, EOFError, zlib.error) as error:
        raise LogReadError(f"{path}: cannot read: {error}") from error


def _parse_line(path: Path, number: int, raw: bytes) -> LogRecord | SkippedLine:
    try:
        data = json.loads(raw.rstrip(b"\r\n"))  # without the line end, so an error's column is on this line
    except json.JSONDecodeError as error:
        return SkippedLine(path, number, f"not JSON: {error.msg} at column {error.colno}")
    except UnicodeDecodeError as error:
        return SkippedLine(path, number, f"not UTF-8 text: {error.reason} at byte {error.start + 1}")
    if not isinstance(data, dict):
        return SkippedLine(
            path, number, f"not an invocation log record: {_JSON_KINDS.get(type(data), 'null')}, not an object"
        )
    if data.get("schemaType") != SCHEMA_TYPE:
        return SkippedLine(
            path,
            number,
            f'not an invocation log record: schemaType is {show(data.get("schemaType"))}; expected "{SCHEMA_TYPE}"',
        )
    return LogRecord(path, number, data)


# Why a selected record is not one the job can use, in the order they are judged (a record counts under the first).
DROP_REASONS = {
    "otherModel": "from another model (usePromptResponse trains only on pairs from exactly the teacher)",
    "noResponse": "no response (a failed or throttled call)",
    "guardrail": "a guardrail intervened (the logged answer is a refusal, which the student would learn)",
    "notText": "not text only (image, document, video, audio or tool content)",
    "multiTurn": "more than one user turn (the provider allows one)",
}


@dataclass(frozen=True)
class JobUse:
    """How the job will read the records it selects.

    With ``teacher`` set (usePromptResponse), it trains on the logged answers of exactly that teacher; without
    it, on the prompts of pairs from any model, and the teacher answers them again (the invocation-logs data page
    asks for "at least 100 prompt-response pairs generated from across all models" for prompts only, and for 100
    pairs "that exactly match with the teacher model you've chosen" for prompt-response pairs).
    """

    teacher: ModelReference | None = None
    multi_turn_allowed: bool = True


def drop_reason(record: LogRecord, use: JobUse) -> str | None:
    """The ``DROP_REASONS`` key of the first reason the job cannot use this record, or None when it can."""
    if use.teacher is not None and not same_identifier(record.model_id, use.teacher):
        return "otherModel"
    if not record.has_response:
        return "noResponse"
    if use.teacher is not None and record.guardrail_intervened:
        return "guardrail"
    if not record.text_only:
        return "notText"
    if not use.multi_turn_allowed and record.user_turns > 1:
        return "multiTurn"
    return None


def same_identifier(model_id: str | None, teacher: ModelReference) -> bool:
    """Whether a record's modelId names the teacher by the same identifier (an ARN counting as the id it ends with).

    Whether Bedrock counts a record logged under the model id as "exactly" a teacher given as an inference profile
    (or the other way round) is not documented; this is the strict reading, and ``same_model`` the loose one.
    """
    reference = _reference(model_id)
    return reference is not None and reference.identifier == teacher.identifier


def same_model(model_id: str | None, teacher: ModelReference) -> bool:
    """Whether a record's modelId is the teacher's model under any identifier (model id, profile id or ARN)."""
    reference = _reference(model_id)
    return reference is not None and reference.model_id == teacher.model_id


def _reference(model_id: str | None) -> ModelReference | None:
    try:
        return parse_model(model_id) if model_id else None
    except CatalogError:
        return None
