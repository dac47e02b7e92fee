"""README.md read as a test reads it: its shell code blocks, the commands in them, and what their `# →` lines state.

A command is one logical shell line: continuation lines (a trailing backslash), lines inside an open quote and
the lines of an unfinished `until`/`while`/`for`/`if` belong to it. The `# →` comment after a command is its
answer, together with the `#   ` lines indented under it; any other comment is a note and belongs to no command.

An answer states facts about the last HTTP answer of its command, and `stated` reads the ones it can check, up to
the first `;` (what follows tells of another case: `...; from after to → 422 VISITS_PERIOD_INVALID`) and leaving
out asides in parentheses (`(it is full)`):

- a status: the first three-digit number from 100 to 599 outside quotes (`# → 202, ...`, `# → 422 ...`); an answer
  that states none is a success (below 400);
- a media type: `application/...json` outside quotes, the start of the answer's Content-Type;
- headers: `Location: /api/v1/...`, the value's start when it ends with `…`;
- fields: `"key": value` with a scalar value (a string, a number, true, false, null): the JSON body's own when it
  has the key at its top level (an application's "status", not its history's), else anywhere in it; a string
  holding `…` or `<...>` is a placeholder and states nothing;
- reasons: codes of contracts/rejections.yaml (`CLINIC_FULL`), found as a value anywhere in the body;
- a history: `"history": accepted → verifying → issued`, the statuses of the body's history, in order.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
SHELLS = frozenset({"sh", "bash", "shell", "console"})
ARROW = "# →"

_FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)")
_OPENERS = {"until": "done", "while": "done", "for": "done", "select": "done", "if": "fi", "case": "esac"}
_CLOSERS = frozenset(_OPENERS.values())
_SEPARATORS = re.compile(r"^[();<>|&\n]+$")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")
_KEYWORDS = frozenset({*_OPENERS, *_CLOSERS, "do", "then", "else", "elif", "in", "!"})
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_STATUS = re.compile(r"(?<![\w.\-/])([1-5][0-9]{2})(?![\w.\-/])")
_MEDIA_TYPE = re.compile(r"\b(application/[a-z0-9.+-]*json)\b")
_HEADER = re.compile(r"\b(Location|Content-Type|Retry-After|ETag|Idempotent-Replayed): ([^\s\",;]+)")
_FIELD = re.compile(r'"([A-Za-z_][\w-]*)": ("(?:[^"\\]|\\.)*"|true|false|null|-?[0-9]+(?:\.[0-9]+)?)(?=[\s,}\]:;)]|$)')
_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
_INLINE_PROGRAM = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S* )*(?:make|epolicy|curl|\.venv/bin/\S+)(?: |$)")
_HISTORY = re.compile(r'"history": ([a-z_]+(?: → [a-z_]+)+)')


@dataclass(frozen=True)
class Command:
    """One command of a shell block, as written, with the answer its `# →` lines state ("" when none)."""

    text: str
    line: int
    answer: str = ""


@dataclass(frozen=True)
class Block:
    """A fenced code block: the `##` section it is in, its language, where its first line is, and its text."""

    section: str
    language: str
    line: int
    body: str

    @property
    def is_shell(self) -> bool:
        """Whether the block is shell (sh, bash, shell, console)."""
        return self.language in SHELLS

    def commands(self) -> tuple[Command, ...]:
        """The block's commands, each with its answer."""
        return split_commands(self.body, self.line)


@dataclass(frozen=True)
class Answer:
    """The facts a `# →` comment states about the last HTTP answer of its command."""

    status: int | None = None
    media_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    fields: tuple[tuple[str, Any], ...] = ()
    codes: tuple[str, ...] = ()
    history: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether it states nothing a test can check."""
        return self == Answer()


def readme_text() -> str:
    """README.md as it is in this checkout."""
    return README.read_text(encoding="utf-8")


def blocks(text: str) -> list[Block]:
    """Every fenced code block of a Markdown text, in order."""
    found: list[Block] = []
    section = ""
    fence: str | None = None
    language, start, lines = "", 0, list[str]()
    for number, line in enumerate(text.splitlines(), start=1):
        opening = _FENCE.match(line)
        if fence is None:
            if line.startswith("## "):
                section = line[3:].strip()
            elif opening:
                fence, language, start, lines = opening.group(1), opening.group(2).lower(), number + 1, []
        elif line.strip() == fence:
            found.append(Block(section, language, start, "\n".join(lines)))
            fence = None
        else:
            lines.append(line)
    return found


def shell_blocks(text: str, section: str | None = None) -> list[Block]:
    """The shell blocks of a Markdown text, or of one `##` section of it."""
    return [block for block in blocks(text) if block.is_shell and (section is None or block.section == section)]


def inline_commands(text: str) -> list[Command]:
    """The commands the prose names in code spans (`make soak`, `epolicy worker --metrics-port 8091`).

    A span counts when its program (after any `NAME=value`) is `make`, `epolicy`, `curl` or a `.venv/bin/` script;
    `stack|serve|worker` stands for each of its words in turn.
    """
    found: list[Command] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
        elif fence is not None:
            fence = None if line.strip() == fence else fence
        else:
            for span in re.findall(r"`([^`]+)`", line):
                if _INLINE_PROGRAM.match(span):
                    found += [Command(variant, number) for variant in _alternatives(span)]
    return found


def split_commands(body: str, first_line: int = 1) -> tuple[Command, ...]:
    """A shell block's commands, each with the `# →` answer that follows it."""
    commands: list[Command] = []
    pending: list[str] = []
    start = first_line
    answer: list[str] | None = None
    for number, line in enumerate(body.splitlines(), start=first_line):
        stripped = line.strip()
        if not pending and stripped.startswith("#"):
            if stripped.startswith(ARROW) and commands:
                answer = [stripped[len(ARROW) :].strip()]
                commands[-1] = Command(commands[-1].text, commands[-1].line, answer[0])
            elif answer is not None and line.startswith("#   "):
                answer.append(stripped[1:].strip())
                commands[-1] = Command(commands[-1].text, commands[-1].line, " ".join(answer))
            else:
                answer = None
            continue
        answer = None
        if not pending and not stripped:
            continue
        if not pending:
            start = number
        pending.append(line)
        text = "\n".join(pending)
        if is_complete(text):
            commands.append(Command(text, start))
            pending = []
    if pending:
        raise ValueError(f"README.md line {start}: the command never ends:\n" + "\n".join(pending))
    return tuple(commands)


def is_complete(text: str) -> bool:
    """Whether a shell text is a whole command: quotes closed, no continuation, every loop or `if` closed."""
    if text.rstrip().endswith(("\\", "|", "&&", "||")):
        return False
    try:
        tokens = _tokens(text)
    except ValueError:  # an open quote
        return False
    depth = 0
    for position, token in _command_words(tokens):
        if position and token in _OPENERS:
            depth += 1
        elif position and token in _CLOSERS:
            depth -= 1
    return depth <= 0


def simple_commands(text: str) -> list[list[str]]:
    """The simple commands of a shell text, each as its words, without leading `VAR=value` assignments.

    `$(...)` and pipes split as the shell splits them; keywords (`until`, `do`, `done`, ...) and the head of a
    `for` loop are dropped, so that the first word of each is the program it runs.
    """
    found: list[list[str]] = []
    current: list[str] = []
    loop_head = False
    for position, token in _command_words(_tokens(text)):
        separator = _is_separator(token)
        if separator or loop_head:
            loop_head = loop_head and not separator
            if current:
                found.append(current)
            current = []
            continue
        if position and token in ("for", "select"):
            loop_head = True
            continue
        if position and (token in _KEYWORDS or _ASSIGNMENT.match(token)):
            continue
        current.append(_word(token))
    if current:
        found.append(current)
    return found


def assigned_names(text: str) -> set[str]:
    """The shell variables a text assigns (`TOKEN=$(...)`), to carry them from one command to the next."""
    names = set()
    for position, token in _command_words(_tokens(text)):
        assignment = _ASSIGNMENT.match(token)
        if position and assignment:
            names.add(assignment.group(1))
    return names


def stated(answer: str) -> Answer:
    """The facts an answer states (see the module's docstring)."""
    answer = _first_case(answer)
    bare = _QUOTED.sub('""', answer)
    status = _STATUS.search(bare)
    media_type = _MEDIA_TYPE.search(bare)
    headers = tuple((name, value.rstrip('"')) for name, value in _HEADER.findall(answer))
    fields = tuple(
        (key, json.loads(value))
        for key, value in _FIELD.findall(answer)
        if not (value.startswith('"') and ("…" in value or re.search(r"<[^>]*>", value)))
    )
    known = catalogue_codes()
    codes = tuple(dict.fromkeys(code for code in _CODE.findall(answer) if code in known))
    history = _HISTORY.search(answer)
    return Answer(
        status=int(status.group(1)) if status else None,
        media_type=media_type.group(1) if media_type else None,
        headers=headers,
        fields=fields,
        codes=codes,
        history=tuple(history.group(1).split(" → ")) if history else (),
    )


def unmet(answer: Answer, status: int, headers: Mapping[str, str], body: bytes) -> list[str]:
    """What of `answer` the HTTP answer (status, headers by lower-case name, body) does not bear out."""
    problems: list[str] = []
    if answer.status is not None and status != answer.status:
        problems.append(f"status {status}, not {answer.status}")
    elif answer.status is None and status >= 400:
        problems.append(f"status {status}: an answer that states no status is a success")
    content_type = headers.get("content-type", "")
    if answer.media_type is not None and not content_type.startswith(answer.media_type):
        problems.append(f"Content-Type {content_type!r}, not {answer.media_type}")
    for name, value in answer.headers:
        got = headers.get(name.lower())
        if got is None or not (got.startswith(value[:-1]) if value.endswith("…") else got == value):
            problems.append(f"{name}: {got!r}, not {value}")
    needs_json = answer.fields or answer.codes or answer.history
    try:
        document = json.loads(body) if needs_json else None
    except ValueError:
        return [*problems, f"the body is no JSON: {body[:300]!r}"]
    pairs = list(_pairs(document))
    for key, value in answer.fields:
        if isinstance(document, dict) and key in document:
            found = _same(document[key], value)
        else:
            found = any(name == key and _same(got, value) for name, got in pairs)
        if not found:
            problems.append(f'no "{key}": {json.dumps(value, ensure_ascii=False)} in the body')
    values = {got for _, got in pairs if isinstance(got, str)}
    problems += [f"no reason {code} in the body" for code in answer.codes if code not in values]
    if answer.history:
        entries = document.get("history") if isinstance(document, dict) else None
        statuses = tuple(
            entry.get("status") for entry in entries or () if isinstance(entry, dict) and "note" not in entry
        )
        if statuses != answer.history:
            problems.append(f"history {' → '.join(map(str, statuses)) or 'none'}, not {' → '.join(answer.history)}")
    return problems


@cache
def catalogue_codes() -> frozenset[str]:
    """The codes of the reason catalogue, contracts/rejections.yaml."""
    data = yaml.safe_load((ROOT / "contracts" / "rejections.yaml").read_text(encoding="utf-8"))
    return frozenset(entry["code"] for entry in data["reasons"])


def _tokens(text: str) -> list[str]:
    """The shell's tokens of a text, quotes kept, comments dropped, each unquoted newline a separator."""
    lexer = shlex.shlex(text.replace("\\\n", " "), posix=False, punctuation_chars="();<>|&\n")
    lexer.whitespace_split = True
    lexer.commenters = ""  # a `#` inside a word or a quote is no comment: read them below
    lexer.whitespace = " \t\r"
    tokens: list[str] = []
    in_comment = False
    for token in lexer:
        separator = _is_separator(token)
        if in_comment:
            in_comment = not (separator and "\n" in token)
            if not in_comment:
                tokens.append(token)
        elif token.startswith("#"):
            in_comment = True
        else:
            tokens.append(token)
    return tokens


def _first_case(answer: str) -> str:
    """The answer up to its first `;`, without its asides in parentheses (both outside quotes)."""
    kept: list[str] = []
    depth, quoted = 0, False
    for position, char in enumerate(answer):
        if char == '"' and (position == 0 or answer[position - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")" and depth:
            depth -= 1
            continue
        elif not quoted and not depth and char == ";":
            break
        if not depth:
            kept.append(char)
    return "".join(kept)


def _alternatives(span: str) -> list[str]:
    choice = re.search(r"\b[\w-]+(?:\|[\w-]+)+", span)
    if choice is None:
        return [span]
    head, tail = span[: choice.start()], span[choice.end() :]
    return [variant for word in choice.group(0).split("|") for variant in _alternatives(head + word + tail)]


def _word(token: str) -> str:
    """A token as the program gets it: without its outer quotes."""
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    return token


def _command_words(tokens: list[str]) -> Iterator[tuple[bool, str]]:
    """Each token, and whether it stands where a command (or a keyword, or an assignment) may begin."""
    position = True
    for token in tokens:
        yield position, token
        position = _is_separator(token) or (position and (token in _KEYWORDS or bool(_ASSIGNMENT.match(token))))


def _is_separator(token: str) -> bool:
    return bool(_SEPARATORS.match(token))


def _pairs(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _pairs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _pairs(item)


def _same(got: Any, value: Any) -> bool:
    # JSON's true is not 1: compare the types too.
    return type(got) is type(value) and got == value
