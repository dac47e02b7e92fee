"""XML is compared as documents: prefixes, attribute order and indentation do not count, content does."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.support.xml import assert_same_xml

DOCUMENT = """<?xml version="1.0" encoding="utf-8"?>
<f:Answer xmlns:f="urn:epolicy:fund:v1" version="2" kind="policy">
  <f:Enp>7754900882000015</f:Enp>
  <f:Holder>Иванова</f:Holder>
</f:Answer>"""


def test_the_same_document_written_otherwise_is_the_same_xml() -> None:
    other = '<Answer xmlns="urn:epolicy:fund:v1" kind="policy" version="2"><Enp>7754900882000015</Enp>' + (
        "<Holder>Иванова</Holder></Answer>"
    )

    assert_same_xml(other, DOCUMENT)
    assert_same_xml(etree.fromstring(other.encode()), DOCUMENT.encode())


@pytest.mark.parametrize(
    "changed",
    [
        DOCUMENT.replace("Иванова", "Петрова"),
        DOCUMENT.replace('version="2"', 'version="3"'),
        DOCUMENT.replace("urn:epolicy:fund:v1", "urn:epolicy:fund:v2"),
        DOCUMENT.replace("<f:Holder>Иванова</f:Holder>", ""),
    ],
)
def test_a_different_document_fails_with_a_diff_of_the_two(changed: str) -> None:
    with pytest.raises(
        AssertionError, match=r"(?s)the XML documents differ:\n--- expected\n\+\+\+ actual\n@@.*\n[-+]<"
    ):
        assert_same_xml(changed, DOCUMENT)
