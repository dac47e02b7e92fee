"""XML compared as documents, not as strings: prefixes, attribute order and indentation do not count.

Both sides are canonicalised with C14N 2.0 (lxml's `etree.canonicalize`), whitespace-only text dropped and
namespace prefixes rewritten in order of use; a difference is shown as a diff of the two, one element a line.
"""

from __future__ import annotations

import difflib

from lxml import etree

Xml = bytes | str | etree._Element


def _element(document: Xml) -> etree._Element:
    if isinstance(document, etree._Element):
        return document
    return etree.fromstring(document.encode("utf-8") if isinstance(document, str) else document)


def canonical(document: Xml) -> str:
    """The C14N 2.0 form of a document or element, whitespace-only text stripped, prefixes rewritten."""
    text = etree.tostring(_element(document), encoding="unicode")
    return etree.canonicalize(text, strip_text=True, rewrite_prefixes=True)


def assert_same_xml(actual: Xml, expected: Xml) -> None:
    """Fail with a readable diff unless the two are the same XML document."""
    got, want = canonical(actual), canonical(expected)
    if got != want:
        lines = [form.replace("><", ">\n<").splitlines() for form in (want, got)]
        diff = "\n".join(difflib.unified_diff(*lines, "expected", "actual", lineterm=""))
        raise AssertionError(f"the XML documents differ:\n{diff}")
