"""Converting prompt/completion JSON Lines, the older Bedrock fine-tuning shape, into bedrock-conversation-2024.

Datasets written for Bedrock fine-tuning hold ``{"prompt": ..., "completion": ...}`` records, which a distillation
job rejects. Each becomes one user turn (the prompt) and, when there is a completion, one assistant turn; a record
without a completion becomes a prompt-only record, whose response the teacher model generates. The conversion
streams line by line, and checks every record it writes with the validator, so its output is never a file that
``distill validate`` would reject record by record (the record count is still the caller's to check).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from distill.dataset import RECORD, SCHEMA_VERSION, LineError, parse_line, validate_record

_INPUT_FIELDS = frozenset({"prompt", "completion"})
# The input field a problem found in a converted record comes from, so that the message names what to fix.
_SOURCE_FIELDS = {
    "system[0].text": "system",
    "messages[0].content[0].text": "prompt",
    "messages[1].content[0].text": "completion",
}


class ConversionError(ValueError):
    """A record that cannot be converted: which field and why, and once known where (``FILE:LINE``)."""

    def __init__(self, field: str, message: str, where: str | None = None) -> None:
        super().__init__(f"{where}: {field}: {message}" if where else f"{field}: {message}")
        self.field = field
        self.message = message


def convert_record(record: object, *, system: str | None = None) -> dict:
    """The bedrock-conversation-2024 record for one prompt/completion record; raises ``ConversionError``."""
    _check_input_shape(record)
    converted = _conversation(record, system)
    findings = validate_record(converted, multi_turn_allowed=False)
    if findings:
        field, message = findings[0]
        raise ConversionError(_SOURCE_FIELDS.get(field, field), message)
    return converted


def _check_input_shape(record: object) -> None:
    if not isinstance(record, dict):
        raise ConversionError(RECORD, 'must be a JSON object {"prompt": ..., "completion": ...}')
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


def convert_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    system: str | None = None,
    overwrite: bool = False,
) -> int:
    """Convert a prompt/completion file into ``target`` and return the number of records.

    Raises ``FileExistsError`` if ``target`` exists and ``overwrite`` is false, ``OSError`` if a file cannot be
    read or written, and ``ConversionError`` at the first record that cannot be converted. The output is written
    beside ``target`` and renamed into place only when every record converted, so a failure leaves no half file.
    """
    source, target = Path(source), Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists")
    partial = target.with_name(f".{target.name}.partial")
    with open(source, "rb") as lines:
        try:
            with open(partial, "w", encoding="utf-8") as output:
                count = _convert_lines(lines, output, source, system)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return count


def _convert_lines(lines: Iterable[bytes], output: TextIO, source: Path, system: str | None) -> int:
    number = 0
    for number, line in enumerate(lines, 1):
        try:
            converted = convert_record(_parse(line), system=system)
        except ConversionError as error:
            raise ConversionError(error.field, error.message, f"{source}:{number}") from None
        output.write(json.dumps(converted) + "\n")
    return number


def _parse(line: bytes) -> object:
    try:
        return parse_line(line)
    except LineError as error:
        raise ConversionError(RECORD, str(error)) from None
