"""Converting prompt/completion JSON Lines, the older Bedrock fine-tuning shape, into bedrock-conversation-2024.

Datasets written for Bedrock fine-tuning hold ``{"prompt": ..., "completion": ...}`` records, which a distillation
job rejects. Each becomes one user turn (the prompt) and, when there is a completion, one assistant turn; a record
without a completion becomes a prompt-only record, whose response the teacher model generates. The conversion
streams line by line and checks every record it writes with the validator, so its output is never a file that
``distill validate`` would reject record by record (the record count is still the caller's to check). Every line
that cannot be converted is reported in one run, and then nothing is written. Blank lines in the input hold no
record and are skipped, and a byte order mark at its start is dropped: the output is plain UTF-8 JSON Lines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from distill.data_checks.dataset import (
    BOM,
    MAX_KEPT_PROBLEMS,
    RECORD,
    SCHEMA_VERSION,
    LineError,
    parse_line,
    validate_record,
)

_INPUT_FIELDS = frozenset({"prompt", "completion"})
# The input field a problem found in a converted record comes from, so that the message names what to fix.
_SOURCE_FIELDS = {
    "system[0].text": "system",
    "messages[0].content[0].text": "prompt",
    "messages[1].content[0].text": "completion",
}
ALREADY_CONVERTED_MESSAGE = (
    f"this record is already in the {SCHEMA_VERSION} format (it has schemaVersion or messages); it needs no conversion"
)


class ConversionError(ValueError):
    """A record that cannot be converted: which field and why, and once known where (``FILE:LINE``)."""

    def __init__(self, field: str, message: str, where: str | None = None) -> None:
        super().__init__(f"{where}: {field}: {message}" if where else f"{field}: {message}")
        self.field = field
        self.message = message


class ConversionFailed(ValueError):
    """An input with lines that cannot be converted: the first ``MAX_KEPT_PROBLEMS`` messages, and the count."""

    def __init__(self, problems: list[str], count: int) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.count = count


class AlreadyConverted(ValueError):
    """An input whose first record is already a bedrock-conversation-2024 record: there is nothing to convert."""


class OutputError(ValueError):
    """An OUTPUT that cannot be written as asked: the input itself, or a folder for standard input."""


@dataclass(frozen=True)
class Converted:
    """What a conversion wrote: where, how many records, and how many blank input lines it skipped."""

    target: Path
    records: int
    blank_lines: int


def convert_record(record: object, *, system: str | None = None) -> dict:
    """The bedrock-conversation-2024 record for one prompt/completion record; raises ``ConversionError``."""
    _check_input_shape(record)
    converted = _conversation(record, system)
    findings = validate_record(converted, multi_turn_allowed=False)
    if findings:
        field, message = findings[0]
        raise ConversionError(_SOURCE_FIELDS.get(field, field), message)
    return converted


def _is_conversation(record: object) -> bool:
    return isinstance(record, dict) and ("schemaVersion" in record or "messages" in record)


def _check_input_shape(record: object) -> None:
    if not isinstance(record, dict):
        raise ConversionError(RECORD, 'must be a JSON object {"prompt": ..., "completion": ...}')
    if _is_conversation(record):
        raise ConversionError(RECORD, ALREADY_CONVERTED_MESSAGE)
    for key in record:
        if key not in _INPUT_FIELDS:
            raise ConversionError(key, "unknown field; a prompt/completion record holds only prompt and completion")
    if "prompt" not in record:
        raise ConversionError("prompt", "missing; must be a non-empty string")


def _conversation(record: dict, system: str | None) -> dict:
    converted: dict = {"schemaVersion": SCHEMA_VERSION}
    if system is not None:
        converted["system"] = [{"text": system}]
    messages = [{"role": "user", "content": [{"text": record["prompt"]}]}]
    if "completion" in record:
        messages.append({"role": "assistant", "content": [{"text": record["completion"]}]})
    converted["messages"] = messages
    return converted


# What a file converted into a folder is named after its input's stem: the converted file never passes for its input.
CONVERTED_SUFFIX = "-conversation.jsonl"


def converted_name(source: str) -> str:
    """The name of the file converted from ``source`` into a folder: ``data.jsonl`` becomes
    ``data-conversation.jsonl`` (the last suffix, if any, makes way for the new one)."""
    return Path(source).stem + CONVERTED_SUFFIX


def output_path(source: str | None, target: str | os.PathLike[str]) -> Path:
    """Where the converted file goes: ``target``, or ``converted_name(source)`` inside ``target`` when it is a folder.

    ``source`` is None for standard input. Raises ``OutputError`` when the result would be the input itself or a
    folder needs a name that standard input does not have.
    """
    path = Path(target)
    if path.is_dir():
        if source is None:
            raise OutputError(f"{path} is a folder; with - (standard input) as INPUT, name the output file")
        path = path / converted_name(source)
    if source is not None and path.exists() and os.path.samefile(source, path):
        raise OutputError(f"{path} is the input file itself; give another OUTPUT")
    return path


def convert_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    system: str | None = None,
    overwrite: bool = False,
) -> Converted:
    """Convert a prompt/completion file into ``target`` (a file, or a folder to put it in), as ``convert_stream``
    does; also raises ``OSError`` when the input cannot be read and ``OutputError`` for an unusable ``target``."""
    name = os.fspath(source)
    with open(name, "rb") as lines:
        return convert_stream(lines, name, output_path(name, target), system=system, overwrite=overwrite)


def convert_stream(
    lines: BinaryIO,
    source: str,
    target: Path,
    *,
    system: str | None = None,
    overwrite: bool = False,
) -> Converted:
    """Convert the prompt/completion lines of a stream (``source`` is what messages call it) into ``target``.

    Raises ``FileExistsError`` if ``target`` exists and ``overwrite`` is false, ``OSError`` if it cannot be written,
    ``AlreadyConverted`` when the first record needs no conversion, and ``ConversionFailed`` listing every line that
    cannot be converted. The output is written beside ``target`` and renamed into place only when every record
    converted, so a failure leaves no half file.
    """
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists")
    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as output:
            converted = _convert_lines(lines, output, source, system)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Converted(target, *converted)


def _convert_lines(lines: Iterable[bytes], output: TextIO, source: str, system: str | None) -> tuple[int, int]:
    """Write every converted record; returns (records, blank lines skipped) or raises once every line was read."""
    problems: list[str] = []
    count = records = blank = 0
    for number, line in enumerate(lines, 1):
        if number == 1 and line.startswith(BOM):
            line = line[len(BOM) :]
        if not line.strip():
            blank += 1
            continue
        try:
            record = _parse(line)
            if records == count == 0 and _is_conversation(record):
                raise AlreadyConverted(
                    f"{source}:{number} is already a {SCHEMA_VERSION} record, so the file needs no conversion; "
                    f"check it with `distill validate {source}`"
                )
            converted = convert_record(record, system=system)
        except ConversionError as error:
            count += 1
            if len(problems) < MAX_KEPT_PROBLEMS:
                problems.append(str(ConversionError(error.field, error.message, f"{source}:{number}")))
            continue
        records += 1
        if not count:
            output.write(json.dumps(converted) + "\n")
    if count:
        raise ConversionFailed(problems, count)
    return records, blank


def _parse(line: bytes) -> object:
    try:
        return parse_line(line)
    except LineError as error:
        raise ConversionError(RECORD, str(error)) from None
