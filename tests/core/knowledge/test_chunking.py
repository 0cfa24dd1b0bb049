"""Chunking: the cap holds for every format, overlap carries context, headings and pages are
kept, code stays whole when it fits, and Hindi text is never cut inside a syllable."""

from __future__ import annotations

import itertools
import unicodedata

import pytest

from funnel.core.knowledge.chunking import (
    Block,
    ChunkingOptions,
    chunk_blocks,
    estimate_tokens,
)
from funnel.core.knowledge.extract import markdown_blocks, plain_text_blocks

SENTENCES = [f"Sentence number {i} talks about delivery slot {i * 7}." for i in range(120)]
LONG_PARAGRAPH = " ".join(SENTENCES)  # ~6,000 characters, one paragraph


def _normalised(text: str) -> str:
    return " ".join(text.split())


def test_a_long_markdown_section_is_capped_unlike_the_original() -> None:
    blocks = markdown_blocks(f"# Shipping\n\n{LONG_PARAGRAPH}\n")
    chunks = chunk_blocks(blocks, "Policies")
    assert len(chunks) >= 6
    assert all(len(c.content) <= 1000 for c in chunks)
    assert all(c.heading_path == ("Shipping",) for c in chunks)


@pytest.mark.parametrize("max_chars", [300, 1000, 2000])
def test_every_chunk_respects_the_cap_and_no_sentence_is_lost(max_chars: int) -> None:
    options = ChunkingOptions(max_chars=max_chars, overlap_chars=max_chars * 15 // 100)
    text = "\n\n".join([LONG_PARAGRAPH, "Short one.", LONG_PARAGRAPH[:900]])
    chunks = chunk_blocks(plain_text_blocks(text), "Doc", options)
    assert all(len(c.content) <= max_chars for c in chunks)
    joined = _normalised(" ".join(c.content for c in chunks))
    for sentence in SENTENCES:
        assert sentence in joined


def test_consecutive_chunks_overlap_by_about_fifteen_percent() -> None:
    chunks = chunk_blocks(plain_text_blocks(LONG_PARAGRAPH), "Doc")
    for previous, current in itertools.pairwise(chunks):
        # The next chunk starts with text the previous one ended with, at a sentence start.
        head = current.content[:60]
        assert head in previous.content
        overlap = len(previous.content) - previous.content.rindex(head)
        assert 20 <= overlap <= 150
        assert head.startswith("Sentence number")


def test_no_overlap_when_disabled() -> None:
    options = ChunkingOptions(max_chars=400, overlap_chars=0)
    chunks = chunk_blocks(plain_text_blocks(LONG_PARAGRAPH), "Doc", options)
    total = sum(len(c.content) for c in chunks)
    assert total <= len(LONG_PARAGRAPH)


def test_heading_paths_titles_and_sections_never_mixed() -> None:
    markdown = """# Store policies

Intro.

## Returns

Return within 7 days.

### Refunds

Refunds in 5 days.

## Warranty

Two years.

Setext heading
--------------

Under setext.
"""
    chunks = chunk_blocks(markdown_blocks(markdown), "Saanjh")
    by_path = {c.heading_path: c for c in chunks}
    assert set(by_path) == {
        ("Store policies",),
        ("Store policies", "Returns"),
        ("Store policies", "Returns", "Refunds"),
        ("Store policies", "Warranty"),
        ("Store policies", "Setext heading"),
    }
    refunds = by_path[("Store policies", "Returns", "Refunds")]
    assert refunds.title == "Saanjh › Store policies › Returns › Refunds"
    assert refunds.content == "Refunds in 5 days."
    # "## Warranty" after "### Refunds" closes both Refunds and Returns.
    assert by_path[("Store policies", "Warranty")].content == "Two years."
    assert refunds.metadata["heading_path"] == ["Store policies", "Returns", "Refunds"]
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_headings_are_stripped_of_markup() -> None:
    blocks = markdown_blocks("## **Pricing** for [kadai](https://x.example) `2026`\n\nText.")
    assert blocks[0].heading_path == ("Pricing for kadai 2026",)


def test_a_code_block_that_fits_is_never_split() -> None:
    code = "```bash\n" + "\n".join(f"echo line {i}" for i in range(40)) + "\n```"
    prose = "Setup. " * 100
    chunks = chunk_blocks(markdown_blocks(f"# Guide\n\n{prose}\n\n{code}\n\nAfter."), "D")
    holding = [c for c in chunks if "echo line 0" in c.content]
    assert len(holding) == 1
    assert "echo line 39\n```" in holding[0].content


def test_a_code_block_larger_than_a_chunk_is_split_at_line_ends() -> None:
    lines = [f"step_{i} = compute({i})" for i in range(150)]
    code = "```python\n" + "\n".join(lines) + "\n```"
    chunks = chunk_blocks(markdown_blocks(f"# Code\n\n{code}"), "D")
    assert len(chunks) > 2
    assert all(len(c.content) <= 1000 for c in chunks)
    found = {line for c in chunks for line in c.content.split("\n")}
    assert set(lines) <= found  # every line whole in some chunk


def test_pages_are_recorded_including_a_chunk_that_crosses_a_page_break() -> None:
    blocks = [
        Block(text="Page one intro.", page=1),
        Block(text="Page two has the price list.", page=2),
        Block(text=LONG_PARAGRAPH[:2500], page=3),
    ]
    chunks = chunk_blocks(blocks, "Catalogue")
    assert chunks[0].pages == (1, 2, 3)  # small pages pack together, up to the cap
    assert all(c.pages[-1] == 3 for c in chunks[1:])
    assert chunks[0].page == 1


def test_devanagari_is_capped_and_never_cut_inside_a_syllable() -> None:
    sentence = "हम पूरे भारत में डिलीवरी करते हैं और बड़े शहरों में ऑर्डर चार दिन में पहुँचता है।"
    text = " ".join([sentence] * 60)
    chunks = chunk_blocks(plain_text_blocks(text), "डिलीवरी नीति")
    assert len(chunks) > 1
    assert all(len(c.content) <= 1000 for c in chunks)
    assert chunks[0].title == "डिलीवरी नीति"
    for chunk in chunks:
        assert unicodedata.category(chunk.content[0]) not in ("Mn", "Mc")
        assert chunk.content.endswith("है।")


def test_a_word_longer_than_a_chunk_is_cut_at_a_safe_place() -> None:
    # No spaces at all: the cut falls back to a character boundary, moved off vowel signs.
    word = "कि" * 1200
    chunks = chunk_blocks([Block(text=word)], "D", ChunkingOptions(max_chars=301))
    assert all(len(c.content) <= 301 for c in chunks)
    for chunk in chunks:
        assert unicodedata.category(chunk.content[0]) != "Mc"
        assert chunk.content[0] == "क"


def test_token_estimate_counts_indic_characters_heavier() -> None:
    assert estimate_tokens("a" * 400) == 100
    assert estimate_tokens("क" * 400) == 200


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        ChunkingOptions(max_chars=50)
    with pytest.raises(ValueError, match="overlap"):
        ChunkingOptions(max_chars=1000, overlap_chars=600)
