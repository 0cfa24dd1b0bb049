"""Structure-aware chunking with a hard size cap and overlap.

Extraction (``extract.py``) turns a file into :class:`Block` s: paragraphs, code blocks and
list items, each knowing its heading path (Markdown) or page (PDF). This module packs the blocks
of one section into chunks of at most ``max_chars`` characters, carrying the last
``overlap_chars`` of a chunk into the next so a fact cut at a boundary is still whole in one of
them.

Two rules fix the original system's chunker: *every* format goes through the cap (its Markdown
splitter had none, so a long section became one giant chunk), and a chunk never spans two
headings, so its title (document title + heading path) describes all of it. Sizes are counted in
characters (code points), never bytes, and a forced cut never separates a Devanagari consonant
from its vowel sign or virama.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from itertools import groupby

#: Characters per chunk. About 250 tokens of English: small enough that one chunk is about one
#: topic (a policy, a price list), large enough to carry the sentence that answers a question
#: together with its context. Gemini embeds up to 2,048 tokens, so this is a choice, not a limit.
DEFAULT_MAX_CHARS = 1000
#: 15% of the cap: one or two sentences repeated at the start of the next chunk.
DEFAULT_OVERLAP_CHARS = 150
#: Separator between blocks packed into one chunk.
_JOIN = "\n\n"
#: Chunk titles are stored in a VARCHAR(500).
MAX_TITLE_CHARS = 500
TITLE_SEPARATOR = " › "

# Sentence ends in English and Hindi (danda, double danda), followed by space; or a line break.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?।॥])\s+|\n+")


@dataclass(frozen=True, slots=True)
class ChunkingOptions:
    max_chars: int = DEFAULT_MAX_CHARS
    overlap_chars: int = DEFAULT_OVERLAP_CHARS

    def __post_init__(self) -> None:
        if self.max_chars < 100:
            raise ValueError("max_chars must be at least 100")
        if not 0 <= self.overlap_chars <= self.max_chars // 2:
            raise ValueError("overlap_chars must be between 0 and half of max_chars")

    @property
    def piece_budget(self) -> int:
        """The largest piece of one block that still fits next to a carried-over overlap."""
        return self.max_chars - self.overlap_chars - len(_JOIN)


@dataclass(frozen=True, slots=True)
class Block:
    """A unit extraction found: a paragraph, a list, a table or a fenced code block."""

    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    #: Code is split only when it alone exceeds a chunk, and then only at line ends.
    code: bool = False


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int
    title: str
    content: str
    heading_path: tuple[str, ...] = ()
    #: 1-based PDF pages the content came from (several when a chunk crosses a page break).
    pages: tuple[int, ...] = ()

    @property
    def page(self) -> int | None:
        return self.pages[0] if self.pages else None

    @property
    def token_estimate(self) -> int:
        return estimate_tokens(self.content)

    @property
    def embedding_text(self) -> str:
        # The title goes into the vector too: "Returns" under "Refunds" is what makes a chunk
        # that only says "within 7 days" findable by a question about refunds.
        return f"{self.title}\n\n{self.content}"

    @property
    def metadata(self) -> dict[str, object]:
        return {"heading_path": list(self.heading_path), "pages": list(self.pages)}


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: ~4 characters per token for Latin script, ~2 for Indic
    scripts, whose characters tokenizers split more finely."""
    indic = sum(1 for char in text if "\u0900" <= char <= "\u0dff")
    return math.ceil((len(text) - indic) / 4 + indic / 2)


def chunk_title(document_title: str, heading_path: tuple[str, ...]) -> str:
    title = TITLE_SEPARATOR.join((document_title, *heading_path))
    return safe_prefix(title, MAX_TITLE_CHARS)


def chunk_blocks(
    blocks: list[Block], document_title: str, options: ChunkingOptions | None = None
) -> list[Chunk]:
    """Pack ``blocks`` into capped, overlapping chunks, section by section, in order."""
    options = options or ChunkingOptions()
    chunks: list[Chunk] = []
    # groupby on consecutive blocks: a heading that comes back later is a new section.
    for heading_path, section in groupby(blocks, key=lambda b: b.heading_path):
        packer = _Packer(options)
        for block in section:
            for piece in _pieces(block, options.piece_budget):
                packer.add(piece, block.page)
        for content, pages in packer.finish():
            chunks.append(
                Chunk(
                    ordinal=len(chunks),
                    title=chunk_title(document_title, heading_path),
                    content=content,
                    heading_path=heading_path,
                    pages=pages,
                )
            )
    return chunks


@dataclass
class _Packer:
    """Greedy packing of one section's pieces, with the overlap carried between chunks."""

    options: ChunkingOptions
    #: The current chunk's parts: (text, page). The first may be the carried-over overlap.
    parts: list[tuple[str, int | None]] = field(default_factory=list)
    #: Whether the current chunk holds anything besides the overlap.
    fresh: bool = False
    done: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)

    @property
    def length(self) -> int:
        return sum(len(text) for text, _ in self.parts) + len(_JOIN) * max(len(self.parts) - 1, 0)

    def add(self, piece: str, page: int | None) -> None:
        extra = len(piece) + (len(_JOIN) if self.parts else 0)
        if self.fresh and self.length + extra > self.options.max_chars:
            self._flush()
        self.parts.append((piece, page))
        self.fresh = True

    def finish(self) -> list[tuple[str, tuple[int, ...]]]:
        if self.fresh:
            self._emit()
        return self.done

    def _emit(self) -> str:
        text = _JOIN.join(t for t, _ in self.parts)
        pages = tuple(sorted({p for _, p in self.parts if p is not None}))
        self.done.append((text, pages))
        return text

    def _flush(self) -> None:
        text = self._emit()
        tail = _overlap_tail(text, self.options.overlap_chars)
        self.parts = [(tail, self._page_at(len(text) - len(tail)))] if tail else []
        self.fresh = False

    def _page_at(self, offset: int) -> int | None:
        """The page of the part that holds character ``offset`` of the joined text."""
        position = 0
        for text, page in self.parts:
            position += len(text) + len(_JOIN)
            if offset < position:
                return page
        return self.parts[-1][1] if self.parts else None


def _overlap_tail(text: str, size: int) -> str:
    """Up to ``size`` trailing characters of ``text``, starting at a sentence start if one is in
    reach, else at a word start. Nothing when the chunk is so short the overlap would repeat
    most of it."""
    if size == 0 or len(text) <= 2 * size:
        return ""
    window_start = len(text) - size
    window = text[window_start:]
    sentence = _SENTENCE_BREAK.search(window)
    if sentence is not None and sentence.end() < len(window):
        return window[sentence.end() :]
    space = re.search(r"\s+", window)
    if space is not None and space.end() < len(window):
        return window[space.end() :]
    return text[_safe_cut(text, window_start) :]


def _pieces(block: Block, budget: int) -> list[str]:
    text = block.text.strip()
    if not text:
        return []
    if len(text) <= budget:
        return [text]
    if block.code:
        # Line by line; the fence goes with the first and last piece only, which keeps each
        # piece readable as code without inventing fences the author did not write.
        return _pack(text.split("\n"), budget, "\n")
    return _pack(_SENTENCE_BREAK.split(text), budget, " ")


def _pack(segments: list[str], budget: int, joiner: str) -> list[str]:
    """Greedily join ``segments`` into pieces of at most ``budget`` characters; a segment that
    is itself too long is cut at word boundaries, and a word that is too long, anywhere safe."""
    pieces: list[str] = []
    current = ""
    for segment in segments:
        segment = segment.strip() if joiner == " " else segment.rstrip()
        if not segment:
            continue
        for part in _split_long(segment, budget):
            candidate = f"{current}{joiner}{part}" if current else part
            if len(candidate) <= budget:
                current = candidate
            else:
                pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


def _split_long(segment: str, budget: int) -> list[str]:
    if len(segment) <= budget:
        return [segment]
    parts: list[str] = []
    rest = segment
    while len(rest) > budget:
        cut = rest.rfind(" ", 0, budget + 1)
        if cut <= 0:
            cut = _safe_cut(rest, budget)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _safe_cut(text: str, position: int) -> int:
    """``position`` moved back so the cut does not start the next piece with a combining mark
    (a Devanagari vowel sign or virama) or a zero-width joiner."""
    while position > 1 and (
        unicodedata.category(text[position]) in ("Mn", "Mc", "Me")
        or text[position] in "\u200c\u200d"
    ):
        position -= 1
    return position


def safe_prefix(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: _safe_cut(text, limit)]
