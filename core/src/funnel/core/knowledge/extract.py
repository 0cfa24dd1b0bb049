"""From uploaded bytes to :class:`Block` s: PDF (pypdf, page by page), Markdown, plain text.

Every failure here is a :class:`KnowledgeInputError` raised before anything is written: an
unsupported type, bytes that are not what they claim, a file with no text in it.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from pathlib import PurePath

from funnel.core.knowledge.chunking import Block
from funnel.core.knowledge.schemas import EmptyDocument, KnowledgeInputError, UnsupportedDocument
from funnel.core.models.enums import KnowledgeDocumentType

_EXTENSIONS = {
    ".pdf": KnowledgeDocumentType.PDF,
    ".md": KnowledgeDocumentType.MARKDOWN,
    ".markdown": KnowledgeDocumentType.MARKDOWN,
    ".txt": KnowledgeDocumentType.TEXT,
    ".text": KnowledgeDocumentType.TEXT,
}
_MIME_TYPES = {
    "application/pdf": KnowledgeDocumentType.PDF,
    "text/markdown": KnowledgeDocumentType.MARKDOWN,
    "text/x-markdown": KnowledgeDocumentType.MARKDOWN,
    "text/plain": KnowledgeDocumentType.TEXT,
}
MIME_OF = {
    KnowledgeDocumentType.PDF: "application/pdf",
    KnowledgeDocumentType.MARKDOWN: "text/markdown",
    KnowledgeDocumentType.TEXT: "text/plain",
}

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
# PostgreSQL text cannot hold NUL; PDFs with odd font encodings produce it.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def detect_type(filename: str, mime_type: str | None = None) -> KnowledgeDocumentType:
    """The format, from the extension first (browsers send ``application/octet-stream`` for
    Markdown more often than not), then the declared MIME type."""
    by_extension = _EXTENSIONS.get(PurePath(filename).suffix.lower())
    if by_extension is not None:
        return by_extension
    by_mime = _MIME_TYPES.get((mime_type or "").split(";")[0].strip().lower())
    if by_mime is not None:
        return by_mime
    raise UnsupportedDocument(
        f"unsupported document type for {PurePath(filename).name!r} ({mime_type or 'no type'}); "
        "upload PDF, Markdown (.md) or plain text (.txt)"
    )


def extract_blocks(doc_type: KnowledgeDocumentType, content: bytes) -> list[Block]:
    if not content.strip():
        raise EmptyDocument("the document is empty")
    if doc_type is KnowledgeDocumentType.PDF:
        blocks = _pdf_blocks(content)
        if not blocks:
            raise EmptyDocument(
                "the PDF has no extractable text (a scanned image?); upload a text PDF or the "
                "text itself"
            )
        return blocks
    text = _decode(content)
    blocks = (
        markdown_blocks(text)
        if doc_type is KnowledgeDocumentType.MARKDOWN
        else plain_text_blocks(text)
    )
    if not blocks:
        raise EmptyDocument("the document has no text")
    return blocks


def clean_text(text: str) -> str:
    # NFC, not NFKC: keep what the author wrote, but one encoding per character, so the same
    # Hindi word typed on two keyboards indexes the same way.
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return unicodedata.normalize("NFC", text)


def _decode(content: bytes) -> str:
    try:
        return clean_text(content.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise KnowledgeInputError(
            f"the file is not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8"
        ) from exc


def plain_text_blocks(text: str) -> list[Block]:
    return [Block(text=p.strip()) for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


def markdown_blocks(text: str) -> list[Block]:
    """Paragraphs and fenced code blocks, each with the path of headings above it."""
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    paragraph: list[str] = []
    lines = text.split("\n")

    def heading_path() -> tuple[str, ...]:
        return tuple(title for _, title in path)

    def end_paragraph() -> None:
        body = "\n".join(paragraph).strip()
        paragraph.clear()
        if body:
            blocks.append(Block(text=body, heading_path=heading_path()))

    def open_heading(level: int, title: str) -> None:
        end_paragraph()
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, _plain_heading(title)))

    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence is not None:
            end_paragraph()
            marker = fence.group(1)
            code = [line]
            index += 1
            while index < len(lines):
                code.append(lines[index])
                index += 1
                if lines[index - 1].strip().startswith(marker[0] * len(marker)):
                    break
            blocks.append(Block(text="\n".join(code), heading_path=heading_path(), code=True))
            continue
        heading = _ATX_HEADING.match(line)
        if heading is not None:
            open_heading(len(heading.group(1)), heading.group(2))
        elif _SETEXT.match(line) and len(paragraph) == 1 and paragraph[0].strip():
            # "Title\n=====" / "Title\n-----": the single line above is the heading.
            title = paragraph.pop()
            open_heading(1 if line.strip().startswith("=") else 2, title)
        elif not line.strip():
            end_paragraph()
        else:
            paragraph.append(line)
        index += 1
    end_paragraph()
    return blocks


def _plain_heading(title: str) -> str:
    # Headings carry emphasis and links more often than body text; the title should read plainly.
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)
    return re.sub(r"[*_`]+", "", title).strip()


def _pdf_blocks(content: bytes) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs every recoverable oddity of a real-world PDF as a warning; the upload either
    # yields text or fails with a clear error below, so the noise is of no use to anyone.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise KnowledgeInputError("the PDF is password-protected; upload an unlocked copy")
        blocks: list[Block] = []
        for number, page in enumerate(reader.pages, start=1):
            text = clean_text(page.extract_text() or "")
            blocks.extend(
                Block(text=p.strip(), page=number)
                for p in _PARAGRAPH_BREAK.split(text)
                if p.strip()
            )
    except KnowledgeInputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # pypdf reports a damaged file through several exception types; all mean the same here.
        raise KnowledgeInputError(f"not a readable PDF: {exc}") from exc
    return blocks
