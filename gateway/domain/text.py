"""Text the back-ends can carry: characters of XML 1.0, on one line, and words written in one alphabet.

Every value of an application ends up in a SOAP message. XML 1.0 (Fifth Edition, §2.2) allows only
`Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`; a lone surrogate (a JSON
`"\\ud800"` decodes to one) is not a character at all and cannot even be written in UTF-8. Every field of the API
is one line (names, places, numbers, codes, e-mail, phone): a control character in one, TAB and line breaks
included, is a paste error or an attempt to slip a line into a log, an export or a registry's record, and is refused
rather than quietly changed.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterator

from gateway.domain.model import Violation

CHARACTERS_NOT_ALLOWED = "CHARACTERS_NOT_ALLOWED"
NAME_MIXED_SCRIPTS = "NAME_MIXED_SCRIPTS"

# Outside XML's Char (C0 controls but TAB, LF, CR; surrogates; U+FFFE, U+FFFF), or not for one line: TAB, LF, CR,
# DEL and the C1 controls (Unicode's Cc), and the line and paragraph separators U+2028, U+2029.
_NOT_ALLOWED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
# What separates the words of a name: spaces, hyphens and the apostrophes names may hold.
_WORD_BREAK = re.compile("[\\s\\-'\u2019\u02bc]+")
_SCRIPTS = ("CYRILLIC", "LATIN")


def not_allowed(text: str) -> list[str]:
    """The characters of `text` that no field may hold, each once, in code point order."""
    return sorted(set(_NOT_ALLOWED.findall(text)))


def code_points(characters: list[str]) -> str:
    """Characters as `U+0000 U+D800`: shown safely whatever they are."""
    return " ".join(f"U+{ord(char):04X}" for char in characters)


def escaped(text: str) -> str:
    """`text` with every character no field may hold written as `\\uXXXX`, so that it can be shown and logged."""
    return _NOT_ALLOWED.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def characters_violation(text: str, field: str | None) -> Violation | None:
    """CHARACTERS_NOT_ALLOWED naming the code points, or None when every character of `text` may be carried."""
    found = not_allowed(text)
    if not found:
        return None
    return Violation(CHARACTERS_NOT_ALLOWED, field, (("characters", code_points(found)),))


def texts_of(value: object, path: str = "") -> Iterator[tuple[str, str]]:
    """Every text of a domain value (dataclasses, tuples, texts) with its JSON path (`person.birth_place`)."""
    if isinstance(value, str):
        yield path, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from texts_of(getattr(value, item.name), f"{path}.{item.name}" if path else item.name)
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from texts_of(item, f"{path}[{index}]")


def carriage_violations(value: object, path: str = "") -> list[Violation]:
    """CHARACTERS_NOT_ALLOWED for every text of a domain value that a SOAP message could not carry."""
    found = (characters_violation(text, field or None) for field, text in texts_of(value, path))
    return [violation for violation in found if violation is not None]


def mixed_script_letters(name: str) -> str:
    """The letters of the less used alphabet in each word of `name` that mixes Cyrillic and Latin ("" if none).

    `Ивaновa` with a Latin «a» gives "a": the look-alike a keyboard in the other layout typed.
    """
    found: set[str] = set()
    for word in _WORD_BREAK.split(name):
        letters: dict[str, list[str]] = {script: [] for script in _SCRIPTS}
        for char in word:
            script = _script(char)
            if script is not None:
                letters[script].append(char)
        cyrillic, latin = letters["CYRILLIC"], letters["LATIN"]
        if cyrillic and latin:
            found.update(latin if len(latin) <= len(cyrillic) else cyrillic)
    return "".join(sorted(found))


def _script(char: str) -> str | None:
    # The script is the first word of the character's Unicode name: "CYRILLIC SMALL LETTER A", "LATIN SMALL LETTER A".
    if not char.isalpha():
        return None
    script = unicodedata.name(char, "").partition(" ")[0]
    return script if script in _SCRIPTS else None
