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

from distill.catalog import base_model_id
from distill.config_reader import show

GZIP_MAGIC = b"\x1f\x8b"
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


def model_key(model_id: str) -> str:
    """The foundation model id behind a model id as a job or a log record gives it, so the forms compare equal.

    An ARN (foundation-model/ or inference-profile/) ends with the id after its last "/"; a cross-Region
    profile id carries a geography prefix and a customizable variant a ":NNNk" suffix, which
    ``catalog.base_model_id`` removes.
    """
    return base_model_id(model_id.rsplit("/", 1)[-1])
