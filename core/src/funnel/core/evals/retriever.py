"""An in-memory keyword retriever over a scenario's knowledge snippets.

It implements the pipeline's :class:`~funnel.core.htl.turn.Retriever` seam the same way the
real hybrid search does at the interface (chunks with fused scores, a grounding threshold) but
with no database, so the harness runs in milliseconds. A score is the IDF-weighted share of the
query's content words found in a snippet (title counted too): a word every snippet has
("solar") counts for little, a distinctive one ("subsidy") for a lot, so the score lands above
the grounding threshold only when the snippet really talks about the query.
"""

from __future__ import annotations

import math
import re
import unicodedata

from funnel.core.evals.scenario import KnowledgeSnippet
from funnel.core.htl.schemas import Retrieval, RetrievedChunk, TurnContext

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "any",
        "are",
        "be",
        "can",
        "do",
        "does",
        "for",
        "from",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "please",
        "the",
        "there",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "about",
        "tell",
        "much",
    ]
)


def _terms(text: str) -> set[str]:
    folded = unicodedata.normalize("NFKC", text).lower()
    words = {w for w in _WORD.findall(folded) if w not in _STOP and len(w) > 1}
    # Light stemming so "prices" finds "price" and "installing" finds "install".
    return (
        words
        | {w[:-1] for w in words if w.endswith("s") and len(w) > 3}
        | {w[:-3] for w in words if w.endswith("ing") and len(w) > 5}
    )


class KeywordRetriever:
    def __init__(self, snippets: list[KnowledgeSnippet], *, top_k: int = 3) -> None:
        self.snippets = snippets
        self.top_k = top_k
        self._terms = [_terms(f"{s.title} {s.text}") for s in snippets]
        count = len(snippets)
        frequency: dict[str, int] = {}
        for terms in self._terms:
            for term in terms:
                frequency[term] = frequency.get(term, 0) + 1
        self._idf = {t: math.log(1 + count / df) for t, df in frequency.items()}
        #: A query word no snippet has is as distinctive as the rarest word.
        self._unseen_idf = math.log(1 + max(count, 1))

    async def __call__(self, ctx: TurnContext, query: str) -> Retrieval:
        wanted = _terms(query)
        weights = {t: self._idf.get(t, self._unseen_idf) for t in wanted}
        total = sum(weights.values())
        chunks: list[RetrievedChunk] = []
        for index, (snippet, terms) in enumerate(zip(self.snippets, self._terms, strict=True)):
            if not total:
                break
            score = sum(weights[t] for t in wanted & terms) / total
            if score > 0:
                chunks.append(
                    RetrievedChunk(
                        chunk_id=f"snippet-{index}",
                        document_id="scenario",
                        document_title=snippet.title,
                        text=snippet.text,
                        score=round(score, 4),
                    )
                )
        chunks.sort(key=lambda c: c.score, reverse=True)
        return Retrieval.from_chunks(query, chunks[: self.top_k])
