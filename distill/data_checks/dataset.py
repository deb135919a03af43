"""Validating a Bedrock distillation training dataset (bedrock-conversation-2024 JSON Lines) before a job uses it.

A distillation job reads its dataset from S3 and fails, often long after it started, on the first record it cannot
use. Checking the file locally (``distill validate``, and the CDK app at synth for a stage's local dataset) turns that
into an immediate list of ``FILE:LINE: FIELD: MESSAGE`` lines, each saying what is wrong and what to do.

The rules follow the Bedrock user guide, read on 2026-12-01:

- "Prepare your training datasets for distillation"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-prepare-datasets.html): the data is ``.jsonl``
  files, "each line of which is a JSON object corresponding to a record", and the models support only the
  text-to-text modality;
- "Option 1: Provide your own prompts for data preparation"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-1.html): ``schemaVersion``
  (exactly ``bedrock-conversation-2024``; the page's bullet list misspells it), an optional ``system`` prompt and
  ``messages`` with a user turn and optionally the assistant's answer; Anthropic and Meta models take a single turn,
  Amazon Nova models take multi-turn records;
- "Option 2: Use invocation logs for data preparation"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-2.html): at most 15,000
  prompts or prompt-response pairs.

Blank lines are errors, as "each line ... is a JSON object" leaves no room for them; a final newline at the end of
the file does not make a blank line, and CRLF line ends are fine. Where the guide says nothing, the check takes the
reading under which a dataset it accepts cannot fail a job, and its message says so: a field the schema does not
define, whitespace-only text and a byte order mark are errors.

The file is read line by line and nothing is kept per record, so memory stays flat whatever the file size (it is
bounded by the longest record, which has to be parsed whole). The checks on a record use plain type tests and build
a message only for a problem, so validating costs little more than parsing the JSON.
"""

from __future__ import annotations

import json
import os
import re
from collections import namedtuple
from collections.abc import Iterator
from io import BufferedIOBase

SCHEMA_VERSION = "bedrock-conversation-2024"
MIN_RECORDS = 100
MAX_RECORDS = 15_000
# No Bedrock page read on 2026-12-01 (the three above, and "Quotas for Amazon Bedrock",
# https://docs.aws.amazon.com/bedrock/latest/userguide/quotas.html) gives a size limit for a distillation training
# file. 2 GiB is this check's own cap, and its message says so: a file that large is far beyond what 15,000 records
# of text need, and it is refused from its size alone, without being read.
MAX_FILE_BYTES = 2 * 1024**3
# How many problems a report keeps per file; all of them are counted. A broken file (the wrong format, say) has a
# problem on every line, and a thousand copies of one message help nobody and would make memory grow with the file.
MAX_KEPT_PROBLEMS = 100
# A record pretty-printed over several lines is read as one, to find its real syntax error, up to this many lines.
MAX_RECORD_LINES = 1_000

# Field names for problems that concern a whole line or the whole file rather than one field of a record.
RECORD = "(record)"
FILE = "(file)"

BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"

_RECORD_FIELDS = frozenset({"schemaVersion", "system", "messages"})
_MESSAGE_FIELDS = frozenset({"role", "content"})
_TEXT_ITEM_FIELDS = frozenset({"text"})
_ROLES = ("user", "assistant")
_MISSING = object()
# The Converse API's other content blocks (ContentBlock and SystemContentBlock in the bedrock-runtime model of the
# pinned botocore), named the way a message speaks of them. Distillation takes text only.
_OTHER_BLOCKS = {
    "image": "images are",
    "document": "documents are",
    "video": "videos are",
    "audio": "audio is",
    "toolUse": "tool use is",
    "toolResult": "tool results are",
    "toolAddition": "tool additions are",
    "toolRemoval": "tool removals are",
    "guardContent": "guardrail content is",
    "cachePoint": "cache points are",
    "reasoningContent": "reasoning content is",
    "citationsContent": "citations are",
    "searchResult": "search results are",
}
# A JSON string on one line (JSON allows no raw line break inside a string), removed before counting brackets.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')

PROMPT_COMPLETION_MESSAGE = (
    'this is the prompt/completion format ({"prompt", "completion"}), not ' + SCHEMA_VERSION + "; "
    "`distill convert` converts it"
)
INVOCATION_LOG_MESSAGE = (
    "this is a model invocation log record (schemaType {}), not " + SCHEMA_VERSION + "; a job reads invocation "
    "logs through trainingData.invocationLogs, and `distill preview-logs` counts the records it would use"
)
BOM_MESSAGE = (
    "starts with a byte order mark (BOM, the bytes EF BB BF); save the file as UTF-8 without a BOM (the Bedrock "
    "user guide does not say a BOM is accepted, and JSON writers must not add one, RFC 8259 section 8.1)"
)
BLANK_LINE_MESSAGE = (
    'blank line; every line of a dataset must be one JSON record (Bedrock user guide, "Prepare your training '
    'datasets for distillation"): delete it'
)
TRAILING_BLANK_LINE_MESSAGE = (
    "blank line at the end of the file; every line of a dataset must be one JSON record (Bedrock user guide, "
    '"Prepare your training datasets for distillation"): delete it, a single newline after the last record is enough'
)


# The result types are named tuples and plain classes rather than dataclasses and typing's NamedTuple: importing those
# two modules (and inspect, which dataclasses needs) would be most of the start-up of `distill validate`.


class Finding(namedtuple("Finding", ["field", "message"])):
    """A problem in one record: the JSON path of the field (``messages[1].content[0].text``) and what is wrong."""

    __slots__ = ()


class Problem(namedtuple("Problem", ["path", "line", "field", "message"])):
    """A problem in a dataset file (path, line, field, message); ``line`` is None for one about the whole file (its
    size or record count)."""

    __slots__ = ()

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.message}"


class Summary:
    """What a file holds, counted while streaming. The turn counts cover the records without problems; ``bytes`` is
    the size of the JSON Lines text (after decompressing, for a gzip file)."""

    __slots__ = (
        "bytes",
        "gzip",
        "largest_record_bytes",
        "largest_record_line",
        "multi_turn",
        "prompt_only",
        "records",
        "with_response",
    )

    def __init__(self) -> None:
        self.records = self.prompt_only = self.with_response = self.multi_turn = 0
        self.largest_record_bytes = self.bytes = 0
        self.largest_record_line: int | None = None
        self.gzip = False


class Report:
    """The result of validating one file: the first ``MAX_KEPT_PROBLEMS`` problems, the count of all, a summary, and
    the multi-turn rule that was applied."""

    __slots__ = ("multi_turn_allowed", "path", "problem_count", "problems", "summary")

    def __init__(self, path: str, multi_turn_allowed: bool) -> None:
        self.path = path
        self.multi_turn_allowed = multi_turn_allowed
        self.summary = Summary()
        self.problems: list[Problem] = []
        self.problem_count = 0

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
    # The catalog is read only when there is a model to look up: checking a file alone never pays for it.
    from distill.config.catalog import allows_multi_turn

    return all(allows_multi_turn(model_id) for model_id in model_ids if model_id)


# --- one record -------------------------------------------------------------------------------------------------


def validate_record(record: object, *, multi_turn_allowed: bool) -> list[Finding]:
    """The problems of one parsed record; an empty list when Bedrock distillation can use it."""
    if type(record) is dict and _plain_turns(record, multi_turn_allowed):
        return []
    if not isinstance(record, dict):
        return [Finding(RECORD, f"must be a JSON object, found {_kind(record)}")]
    if "messages" not in record and ("prompt" in record or "completion" in record):
        return [Finding(RECORD, PROMPT_COMPLETION_MESSAGE)]
    if "schemaType" in record:
        from distill.data_checks.invocation_logs import SCHEMA_TYPE

        if record["schemaType"] == SCHEMA_TYPE:
            return [Finding(RECORD, INVOCATION_LOG_MESSAGE.format(json.dumps(SCHEMA_TYPE)))]
    findings: list[Finding] = []
    _check_schema_version(record.get("schemaVersion", _MISSING), findings)
    if "system" in record:
        _check_text_list(record["system"], "system", findings)
    _check_messages(record.get("messages", _MISSING), multi_turn_allowed, findings)
    if not record.keys() <= _RECORD_FIELDS:
        _check_known_fields(
            record, _RECORD_FIELDS, "", "a record holds only schemaVersion, system and messages", findings
        )
    return findings


def _plain_turns(record: dict, multi_turn_allowed: bool) -> int:
    """The number of turns of a record in the plain shape nearly every valid one has, or 0 for any other record.

    One pass with no calls and no field paths built, so a valid dataset is checked at the speed of parsing it. It
    accepts only what the full check below accepts (a test holds it to that): anything else, valid or not, goes
    through the full check, which alone writes messages.
    """
    if record.get("schemaVersion") != SCHEMA_VERSION:
        return 0
    system = record.get("system", _MISSING)
    if len(record) != (2 if system is _MISSING else 3):
        return 0
    if system is not _MISSING:
        if type(system) is not list or len(system) != 1:
            return 0
        item = system[0]
        if type(item) is not dict or len(item) != 1:
            return 0
        text = item.get("text")
        if type(text) is not str or not text or text.isspace():
            return 0
    messages = record.get("messages")
    if type(messages) is not list or not messages or (len(messages) > 2 and not multi_turn_allowed):
        return 0
    role = "user"
    for message in messages:
        if type(message) is not dict or len(message) != 2 or message.get("role") != role:
            return 0
        content = message.get("content")
        if type(content) is not list or len(content) != 1:
            return 0
        item = content[0]
        if type(item) is not dict or len(item) != 1:
            return 0
        text = item.get("text")
        if type(text) is not str or not text or text.isspace():
            return 0
        role = "assistant" if role == "user" else "user"
    return len(messages)


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
    turns = system_turns = 0
    previous: object = None
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            findings.append(
                Finding(
                    f"messages[{index}]",
                    f'must be an object {{"role": ..., "content": [...]}}, found {_kind(message)}',
                )
            )
            continue
        role = message.get("role", _MISSING)
        if role == "system":
            system_turns += 1
            findings.append(Finding(f"messages[{index}].role", _SYSTEM_TURN_MESSAGE))
        else:
            turns += 1
            # Each turn is checked against the one before it, so one misplaced turn is one problem, not one for
            # every turn after it.
            expected = "assistant" if previous == "user" else "user"
            if role != expected:
                findings.append(Finding(f"messages[{index}].role", _role_message(role, expected)))
            previous = role if role in _ROLES else expected
        content = message.get("content", _MISSING)
        if not _is_one_text(content):
            _check_text_list(content, f"messages[{index}].content", findings)
        if not message.keys() <= _MESSAGE_FIELDS:
            _check_known_fields(
                message, _MESSAGE_FIELDS, f"messages[{index}]", "a message holds only role and content", findings
            )
    if system_turns and not turns:
        findings.append(Finding("messages", "holds no user turn; a record needs a user message to start with"))
    elif not multi_turn_allowed and turns > 2:
        findings.append(Finding("messages", _multi_turn_message(turns)))


_SYSTEM_TURN_MESSAGE = (
    '"system" is not a role inside messages; move this text into the record\'s own "system" field '
    '("system": [{"text": ...}], beside "messages")'
)


def _messages_shape_message(messages: object) -> str:
    if messages is _MISSING:
        return "missing; must be a list of user/assistant turns that starts with a user turn"
    if isinstance(messages, list):
        return "must hold at least one message (a user turn), found an empty list"
    return f"must be a list of user/assistant turns, found {_kind(messages)}"


def _multi_turn_message(turns: int) -> str:
    return (
        f"holds {turns} messages ({(turns + 1) // 2} user turns), but records must be single turn here (one user "
        "message, optionally followed by one assistant message); only Amazon Nova models take multi-turn records"
    )


def _role_message(role: object, expected: str) -> str:
    if role is _MISSING:
        return f'missing; must be "{expected}"'
    return f'must be "{expected}" (turns alternate user, assistant, starting with user), found {_describe(role)}'


def _is_one_text(value: object) -> bool:
    """The shape nearly every record has, ``[{"text": "..."}]`` with real text: nothing to report, found without
    building any field path. Anything else goes through the full check, which names the problem."""
    if type(value) is list and len(value) == 1:
        item = value[0]
        if type(item) is dict and len(item) == 1:
            text = item.get("text")
            return type(text) is str and bool(text) and not text.isspace()
    return False


def _check_text_list(value: object, path: str, findings: list[Finding]) -> None:
    """``system`` and every message's ``content``: a list of exactly one ``{"text": non-empty string}`` item."""
    if _is_one_text(value):
        return
    if isinstance(value, list) and len(value) == 1 and not _other_block(value[0]):
        _check_text_item(value[0], f"{path}[0]", findings)
    elif value is _MISSING:
        findings.append(Finding(path, 'missing; must be a list of one {"text": ...} item'))
    elif isinstance(value, list):
        _check_items(value, path, findings)
    else:
        findings.append(Finding(path, f'must be a list of one {{"text": ...}} item, found {_kind(value)}'))


def _check_items(items: list, path: str, findings: list[Finding]) -> None:
    """A content list that is not one text item: name each block that is not text, then count the text items."""
    texts = [(index, item) for index, item in enumerate(items) if not _other_block(item)]
    for index, item in enumerate(items):
        kind = _other_block(item)
        if kind:
            fix = "remove it" if texts else 'replace it with one {"text": ...} item'
            findings.append(
                Finding(f"{path}[{index}]", f"{_OTHER_BLOCKS[kind]} not supported: distillation takes text only; {fix}")
            )
    if len(texts) == 1:
        _check_text_item(texts[0][1], f"{path}[{texts[0][0]}]", findings)
    elif len(texts) > 1:
        findings.append(
            Finding(path, f'must hold exactly one {{"text": ...}} item, found {len(texts)}; join the texts into one')
        )
    elif not items:
        findings.append(Finding(path, 'must hold exactly one {"text": ...} item, found 0'))


def _other_block(item: object) -> str | None:
    """The kind of a content block that is not text (``image``, ``toolUse``, ...), or None."""
    if not isinstance(item, dict) or "text" in item:
        return None
    return next((key for key in item if key in _OTHER_BLOCKS), None)


def _check_text_item(item: object, path: str, findings: list[Finding]) -> None:
    if not isinstance(item, dict):
        findings.append(Finding(path, f'must be an object {{"text": ...}}, found {_kind(item)}'))
        return
    text = item.get("text", _MISSING)
    if not isinstance(text, str) or not text:
        found = "missing" if text is _MISSING else f"found {_kind(text)}"
        findings.append(Finding(f"{path}.text", f"must be a non-empty string, {found}"))
    elif text.isspace():
        findings.append(Finding(f"{path}.text", _WHITESPACE_MESSAGE))
    _check_known_fields(
        item,
        _TEXT_ITEM_FIELDS,
        path,
        'a content item holds only "text" (distillation records are text only: no images, documents or tool use)',
        findings,
    )


_WHITESPACE_MESSAGE = (
    "holds only whitespace; write the text (the Bedrock user guide does not say whether whitespace-only text is "
    "accepted, so it is refused like empty text)"
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


# --- one line ---------------------------------------------------------------------------------------------------


class LineError(ValueError):
    """A line that holds no record: not UTF-8, blank, or not JSON; the message says which and what to do."""


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


def _not_json_message(text: str, error: json.JSONDecodeError, *, last_line: bool = False) -> str:
    content = text.rstrip()
    if not content.strip():
        return BLANK_LINE_MESSAGE
    if content.startswith("\ufeff"):
        return BOM_MESSAGE
    # A last line that stops inside its record: the file was cut (an interrupted copy), not pretty-printed.
    if last_line and (error.pos >= len(content) or error.msg.startswith("Unterminated string")):
        return (
            f"not valid JSON: the file ends inside this record ({error.msg}), so it looks cut short; copy or export "
            "the file again, or delete its incomplete last line"
        )
    if error.pos >= len(content):
        return (
            f"not valid JSON: the line ends inside a record ({error.msg}); JSON Lines needs each record whole on "
            "one line, not pretty-printed over several"
        )
    if error.msg == "Extra data":
        return (
            f"holds more than one JSON value: a second one starts at column {error.pos + 1}; put each record on a "
            "line of its own"
        )
    return f"not valid JSON: {error.msg} at column {error.pos + 1}"


# --- one file ---------------------------------------------------------------------------------------------------


def validate_file(path: str | os.PathLike[str], *, multi_turn_allowed: bool, decompress: bool = False) -> Report:
    """Validate a JSON Lines dataset file by streaming it; raises ``OSError`` if the file cannot be read.

    A gzip-compressed file is read through gzip with ``decompress``; without it (the synth, which uploads the file as
    it is) it is one problem, since Bedrock reads a training file as JSON Lines text.
    """
    name = os.fspath(path)
    with open(path, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        return validate_stream(stream, name, multi_turn_allowed=multi_turn_allowed, decompress=decompress, size=size)


def validate_stream(
    stream: BufferedIOBase,
    name: str,
    *,
    multi_turn_allowed: bool,
    decompress: bool = False,
    size: int | None = None,
) -> Report:
    """Validate the JSON Lines read from a binary stream (a file, standard input); ``name`` is what messages call it.

    ``size`` is the stream's length when known (a regular file): a file over the size limit is then refused without
    being read. Otherwise the bytes are counted as they are read, and reading stops at the limit.
    """
    report = Report(name, multi_turn_allowed)
    compressed = _peek(stream, len(GZIP_MAGIC)) == GZIP_MAGIC
    if compressed and not decompress:
        report.add(None, FILE, _compressed_message(name), keep=True)
        return report
    if not compressed and size is not None and size > MAX_FILE_BYTES:
        report.add(None, FILE, _too_large_message(f"is {size:,} bytes"), keep=True)
        return report
    if compressed:
        import gzip  # only a compressed file pays for these
        import zlib

        report.summary.gzip = True
        with gzip.GzipFile(fileobj=stream, mode="rb") as lines:
            try:
                _FileCheck(report, lines).run()
            except (OSError, EOFError, zlib.error) as error:
                report.add(None, FILE, f"the gzip data is damaged or cut off ({error}); compress the file again")
    else:
        _FileCheck(report, stream).run()
    _check_record_count(report)
    return report


def _peek(stream: BufferedIOBase, count: int) -> bytes:
    """The first bytes of a stream without consuming them (a buffered reader, as ``open`` and stdin give)."""
    peek = getattr(stream, "peek", None)
    return peek(count)[:count] if peek is not None else b""


def _compressed_message(name: str) -> str:
    return (
        'is gzip-compressed; a training file must be JSON Lines text (Bedrock user guide, "Prepare your training '
        f'datasets for distillation"): decompress it (gunzip -k {name}) and use the .jsonl file'
    )


def _too_large_message(size: str) -> str:
    return (
        f"{size}; this check allows a training file of at most {MAX_FILE_BYTES:,} bytes "
        f"({MAX_FILE_BYTES / 1024**3:g} GiB), a cap of its own "
        "since the Bedrock user guide gives none for distillation: split the file or sample fewer records"
    )


class _FileCheck:
    """The line loop of one file: each line is a record, a blank line, or the start of a record pretty-printed over
    several lines, which is then read whole so that its one real problem is reported once."""

    def __init__(self, report: Report, stream: BufferedIOBase) -> None:
        self.report = report
        self.summary = report.summary
        self.lines: Iterator[bytes] = iter(stream)
        self.pushed_back: list[bytes] = []
        self.number = 0
        # Blank lines are reported once the next record shows they are not at the end of the file: (first, count).
        self.blank: tuple[int, int] | None = None

    def run(self) -> None:
        while (line := self._next_line()) is not None:
            self._check_line(line)
            if self.summary.bytes > MAX_FILE_BYTES:
                self.report.add(None, FILE, _too_large_message(f"holds more than {MAX_FILE_BYTES:,} bytes"), keep=True)
                return
        if self.blank is not None:
            first, count = self.blank
            for number in range(first, first + count):
                self.report.add(number, RECORD, TRAILING_BLANK_LINE_MESSAGE)

    def _next_line(self) -> bytes | None:
        line = self.pushed_back.pop() if self.pushed_back else next(self.lines, None)
        if line is not None:
            self.number += 1
            self.summary.bytes += len(line)
        return line

    def _put_back(self, line: bytes) -> None:
        self.pushed_back.append(line)
        self.number -= 1
        self.summary.bytes -= len(line)

    def _check_line(self, line: bytes) -> None:
        number = self.number
        if line.startswith(BOM):
            self.report.add(number, RECORD, BOM_MESSAGE)
            line = line[len(BOM) :]
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            self._record(number, line)
            self.report.add(number, RECORD, _not_utf8_message(line, error))
            return
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            self._not_json(line, text, error)
            return
        self._record(number, line)
        self._check_record(number, record)

    def _record(self, number: int, data: bytes) -> None:
        """Count a line (or lines) that holds a record, valid or not, after reporting any blank lines before it."""
        if self.blank is not None:
            first, count = self.blank
            for blank in range(first, first + count):
                self.report.add(blank, RECORD, BLANK_LINE_MESSAGE)
            self.blank = None
        summary = self.summary
        summary.records += 1
        size = len(data) - data.endswith(b"\n")
        if size > summary.largest_record_bytes:
            summary.largest_record_bytes = size
            summary.largest_record_line = number

    def _check_record(self, number: int, record: object) -> None:
        findings = validate_record(record, multi_turn_allowed=self.report.multi_turn_allowed)
        if findings:
            for finding in findings:
                self.report.add(number, finding.field, finding.message)
            return
        assert isinstance(record, dict)  # a record without findings is an object with its messages
        turns = len(record["messages"])
        summary = self.summary
        if turns % 2:
            summary.prompt_only += 1
        else:
            summary.with_response += 1
        if turns > 2:
            summary.multi_turn += 1

    def _not_json(self, line: bytes, text: str, error: json.JSONDecodeError) -> None:
        number = self.number
        content = text.rstrip()
        if not content.strip():
            first, count = self.blank or (number, 0)
            self.blank = (first, count + 1)
            return
        if error.pos >= len(content) and content.lstrip().startswith(("{", "[")):
            block = self._read_block(line)
            if block is not None:
                self._check_block(number, block)
                return
        self._record(number, line)
        self.report.add(number, RECORD, _not_json_message(text, error, last_line=self._at_end()))

    def _at_end(self) -> bool:
        """Whether the line just read is the file's last."""
        following = self._next_line()
        if following is None:
            return True
        self._put_back(following)
        return False

    def _read_block(self, first: bytes) -> list[bytes] | None:
        """The lines of a record pretty-printed over several lines, starting with ``first``, up to where its
        brackets close. None, with the lines read put back, when they are not one: a line that holds a whole record
        of its own (a record cut short, then the next ones) or no end within ``MAX_RECORD_LINES``."""
        block = [first]
        depth = _bracket_depth(first)
        while depth > 0 and len(block) < MAX_RECORD_LINES:
            line = self._next_line()
            if line is None:
                break
            if _is_whole_record(line):
                self._put_back(line)
                break
            block.append(line)
            depth += _bracket_depth(line)
        if depth == 0:
            return block
        for line in reversed(block[1:]):
            self._put_back(line)
        return None

    def _check_block(self, first_number: int, block: list[bytes]) -> None:
        last_number = first_number + len(block) - 1
        data = b"".join(block)
        self._record(first_number, data)
        spread = (
            f"one record is written over lines {first_number} to {last_number}; JSON Lines needs each record whole "
            "on one line"
        )
        try:
            record = parse_line(data)
        except LineError:
            where = _block_error(data, first_number)
            self.report.add(first_number, RECORD, f"{spread}, and it is not valid JSON: {where}")
            return
        self.report.add(first_number, RECORD, f"{spread}: write it without line breaks (json.dumps with no indent)")
        self._check_record(first_number, record)


def _bracket_depth(line: bytes) -> int:
    """How many objects and lists a line opens, less those it closes, outside strings."""
    bare = _JSON_STRING.sub(b"", line)
    return bare.count(b"{") + bare.count(b"[") - bare.count(b"}") - bare.count(b"]")


def _is_whole_record(line: bytes) -> bool:
    """A line that starts at its first column with an object that is whole on the line: the next record of a JSON
    Lines file, never a line inside a pretty-printed one (those are indented, or not whole)."""
    if not line.startswith(b"{"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _block_error(data: bytes, first_number: int) -> str:
    """Where a pretty-printed record's JSON breaks, by line and column of the file."""
    try:
        text = data.decode("utf-8")
        json.loads(text)
    except UnicodeDecodeError as error:
        return f"byte 0x{data[error.start]:02x} is not UTF-8; save the file as UTF-8"
    except json.JSONDecodeError as error:
        if error.msg == "Expecting ',' delimiter":
            # The parser stops at the token after the missing comma; the comma belongs after the token before it.
            end = len(text[: error.pos].rstrip())
            line = text.count("\n", 0, end) + first_number
            column = end - text.rfind("\n", 0, end)
            return f"a comma is missing after line {line}, column {column - 1}"
        return f"{error.msg} at line {error.lineno + first_number - 1}, column {error.colno}"
    return "it is not valid JSON"


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
