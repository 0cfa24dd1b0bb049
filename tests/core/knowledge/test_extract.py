"""Extraction: formats detected, PDFs read page by page, bad input refused with a clear error."""

from __future__ import annotations

import pytest

from funnel.core.knowledge.extract import detect_type, extract_blocks, markdown_blocks
from funnel.core.knowledge.schemas import EmptyDocument, KnowledgeInputError, UnsupportedDocument
from funnel.core.models.enums import KnowledgeDocumentType
from tests.fixtures.knowledge.pdf import build_pdf


@pytest.mark.parametrize(
    ("filename", "mime", "expected"),
    [
        ("catalogue.PDF", None, KnowledgeDocumentType.PDF),
        ("faq.md", "application/octet-stream", KnowledgeDocumentType.MARKDOWN),
        ("notes.txt", None, KnowledgeDocumentType.TEXT),
        ("upload", "application/pdf", KnowledgeDocumentType.PDF),
        ("upload", "text/plain; charset=utf-8", KnowledgeDocumentType.TEXT),
    ],
)
def test_type_from_extension_then_mime(
    filename: str, mime: str | None, expected: KnowledgeDocumentType
) -> None:
    assert detect_type(filename, mime) is expected


def test_unsupported_types_are_refused() -> None:
    with pytest.raises(UnsupportedDocument, match=r"prices\.docx"):
        detect_type("prices.docx", "application/vnd.openxmlformats")


def test_multi_page_pdf_blocks_carry_their_page() -> None:
    pdf = build_pdf(
        [
            ["Price list", "Kadai costs Rs. 2,499."],
            ["Shipping", "Free above Rs. 799."],
            ["Warranty (2 years)", "Claims by WhatsApp."],
        ]
    )
    blocks = extract_blocks(KnowledgeDocumentType.PDF, pdf)
    assert [b.page for b in blocks] == [1, 2, 3]
    assert "Kadai costs Rs. 2,499." in blocks[0].text
    assert "Warranty (2 years)" in blocks[2].text


def test_a_pdf_without_text_is_refused() -> None:
    with pytest.raises(EmptyDocument, match="no extractable text"):
        extract_blocks(KnowledgeDocumentType.PDF, build_pdf([[], []]))


def test_bytes_that_are_not_a_pdf_are_refused() -> None:
    with pytest.raises(KnowledgeInputError, match="not a readable PDF"):
        extract_blocks(KnowledgeDocumentType.PDF, b"%PDF-1.4 this is not really a pdf")


def test_empty_and_non_utf8_text_is_refused() -> None:
    with pytest.raises(EmptyDocument):
        extract_blocks(KnowledgeDocumentType.TEXT, b"  \n\n ")
    with pytest.raises(KnowledgeInputError, match="not UTF-8"):
        extract_blocks(KnowledgeDocumentType.MARKDOWN, "Preis: 5 €".encode("cp1252"))


def test_text_is_cleaned_of_nul_and_normalised() -> None:
    # "क़" typed as one code point or as "क" + nukta must index the same; a NUL (which
    # PostgreSQL refuses in text) is dropped, and so is the byte-order mark.
    composed = extract_blocks(KnowledgeDocumentType.TEXT, "\ufeff\u0958ीमत\x00\r\n".encode())
    typed = extract_blocks(KnowledgeDocumentType.TEXT, "\u0915\u093cी\x00मत".encode())
    assert composed[0].text == typed[0].text
    assert "\x00" not in typed[0].text
    assert not composed[0].text.startswith("\ufeff")


def test_markdown_fenced_code_keeps_hashes_as_code() -> None:
    blocks = markdown_blocks("# Title\n\n```\n# not a heading\n```\n\nText.")
    assert [b.code for b in blocks] == [True, False]
    assert blocks[0].heading_path == ("Title",)
    assert "# not a heading" in blocks[0].text
