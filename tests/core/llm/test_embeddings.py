"""Embedders: Gemini's through the SDK and the fake server, and the offline hashing embedder."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from pydantic import SecretStr

from funnel.core.llm.base import Embedder, LlmRateLimited, LlmRejected
from funnel.core.llm.embeddings import HASHING_MODEL, GeminiEmbedder, HashingEmbedder
from funnel.core.llm.fake_gemini import FakeGemini, Reply
from funnel.core.settings import EmbeddingsSettings, LlmSettings
from tests.core.llm.conftest import RecordingSleep, fast_retry, llm_settings


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


# ---------------------------------------------------------------------------- Gemini


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def gemini_embedder(fake_gemini: FakeGemini, sleep: RecordingSleep) -> GeminiEmbedder:
    return GeminiEmbedder(
        llm_settings(fake_gemini),
        EmbeddingsSettings(batch_size=3),
        retry=fast_retry(2),
        sleep=sleep,
    )


async def test_documents_go_in_batches_as_retrieval_documents_at_768(
    fake_gemini: FakeGemini, gemini_embedder: GeminiEmbedder
) -> None:
    texts = [f"chunk {i} about delivery in Pune" for i in range(7)]

    vectors = await gemini_embedder.embed_documents(texts)

    calls = fake_gemini.calls("batchEmbedContents")
    assert [len(c.embed_requests) for c in calls] == [3, 3, 1]
    for call in calls:
        assert call.model == "gemini-embedding-001"
        for item in call.embed_requests:
            assert item["taskType"] == "RETRIEVAL_DOCUMENT"
            assert item["outputDimensionality"] == 768
            assert item["model"] == "models/gemini-embedding-001"
    sent = [item["content"]["parts"][0]["text"] for c in calls for item in c.embed_requests]
    assert sent == texts
    assert len(vectors) == 7
    assert all(len(v) == 768 for v in vectors)
    # The fake answers at 3x unit length, as the API's reduced-dimension vectors are not unit.
    assert all(norm(v) == pytest.approx(1.0) for v in vectors)
    # Order is kept across batches: each vector is its own text's.
    reference = HashingEmbedder(768)
    for text, vector in zip(texts, vectors, strict=True):
        assert vector == pytest.approx(reference.embed_sync(text))


async def test_query_is_a_retrieval_query(
    fake_gemini: FakeGemini, gemini_embedder: GeminiEmbedder
) -> None:
    vector = await gemini_embedder.embed_query("kitne din me delivery?")

    (call,) = fake_gemini.calls("batchEmbedContents")
    assert call.embed_requests[0]["taskType"] == "RETRIEVAL_QUERY"
    assert len(vector) == 768
    assert norm(vector) == pytest.approx(1.0)


async def test_embeddings_are_retried_on_rate_limits_only(
    fake_gemini: FakeGemini, gemini_embedder: GeminiEmbedder, sleep: RecordingSleep
) -> None:
    fake_gemini.queue(Reply.error(429), model="gemini-embedding-001")
    assert len(await gemini_embedder.embed_documents(["a", "b"])) == 2
    assert len(fake_gemini.calls("batchEmbedContents")) == 2
    assert len(sleep.delays) == 1

    fake_gemini.queue(Reply.error(400, "text too long"), model="gemini-embedding-001")
    with pytest.raises(LlmRejected):
        await gemini_embedder.embed_documents(["c"])
    assert len(fake_gemini.calls("batchEmbedContents")) == 3

    fake_gemini.queue(*[Reply.error(429)] * 3, model="gemini-embedding-001")
    with pytest.raises(LlmRateLimited):
        await gemini_embedder.embed_query("d")
    assert len(fake_gemini.calls("batchEmbedContents")) == 6


async def test_empty_text_is_refused_before_any_call(
    fake_gemini: FakeGemini, gemini_embedder: GeminiEmbedder
) -> None:
    with pytest.raises(ValueError, match="empty"):
        await gemini_embedder.embed_documents(["fine", "   "])
    with pytest.raises(ValueError, match="empty"):
        await HashingEmbedder().embed_query("")
    assert fake_gemini.requests == []


def test_gemini_embedder_needs_a_key() -> None:
    with pytest.raises(ValueError, match="API key"):
        GeminiEmbedder(LlmSettings(), EmbeddingsSettings())
    embedder = GeminiEmbedder(LlmSettings(api_key=SecretStr("k")), EmbeddingsSettings())
    assert isinstance(embedder, Embedder)
    assert (embedder.model, embedder.dimensions) == ("gemini-embedding-001", 768)


# ---------------------------------------------------------------------------- hashing


def test_hashing_vectors_are_unit_768_and_deterministic() -> None:
    embedder = HashingEmbedder()
    assert isinstance(embedder, Embedder)
    assert (embedder.model, embedder.dimensions) == (HASHING_MODEL, 768)
    for text in ["Pro plan price?", "डिलीवरी कब होगी", "👍👍", "a", "1299"]:
        vector = embedder.embed_sync(text)
        assert len(vector) == 768
        assert norm(vector) == pytest.approx(1.0)
        assert vector == HashingEmbedder().embed_sync(text)
    assert embedder.embed_sync("👍") != embedder.embed_sync("🙏")


def test_hashing_is_stable_across_processes() -> None:
    # Python's own hash() is salted per process; vectors stored by one worker must match the
    # queries of another.
    code = (
        "from funnel.core.llm.embeddings import HashingEmbedder;"
        "print(repr(HashingEmbedder().embed_sync('कीमत kya hai')[:8]))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert other.strip() == repr(HashingEmbedder().embed_sync("कीमत kya hai")[:8])


def test_character_ngrams_relate_word_forms() -> None:
    embedder = HashingEmbedder()
    instructor = embedder.embed_sync("instructor")
    # Sharing only character n-grams, at most 0.45 is reachable; unrelated words sit near 0.
    assert cosine(instructor, embedder.embed_sync("instructors")) > 0.3
    assert cosine(embedder.embed_sync("किताब"), embedder.embed_sync("किताबें")) > 0.2
    assert abs(cosine(instructor, embedder.embed_sync("warranty"))) < 0.15


def test_sales_concepts_meet_across_languages() -> None:
    embedder = HashingEmbedder()
    pairs = [
        ("delivery", "deliveries"),
        ("daam", "price"),
        ("डिलीवरी", "shipping"),
        ("कीमत", "cost"),
    ]
    for left, right in pairs:
        assert cosine(embedder.embed_sync(left), embedder.embed_sync(right)) > 0.5, (left, right)
    assert abs(cosine(embedder.embed_sync("daam"), embedder.embed_sync("refund"))) < 0.15


def test_devanagari_words_are_not_split_at_vowel_signs() -> None:
    embedder = HashingEmbedder()
    # Python's \w does not match vowel signs: split there, "कीमत" (price) would contain the
    # word "मत" (don't) and match it.
    assert abs(cosine(embedder.embed_sync("कीमत"), embedder.embed_sync("मत"))) < 0.15
    # The danda ends a sentence; it is not part of the last word.
    assert embedder.embed_sync("उम्र 12 साल।") == embedder.embed_sync("उम्र 12 साल")


async def test_large_batches_are_embedded_off_the_loop_with_the_same_result() -> None:
    embedder = HashingEmbedder()
    texts = [f"chunk number {i} on pricing and delivery" for i in range(40)]
    vectors = await embedder.embed_documents(texts)
    assert vectors == [embedder.embed_sync(t) for t in texts]


# The retrieval sanity set. DEV was used to choose the feature weights, so its score flatters;
# HELD_OUT was written before its first run and never tuned on. docs/llm.md records both.
DEV_PASSAGES = {
    "pricing": "Our Basic plan costs ₹499 per month and the Pro plan costs ₹1,299 per month. "
    "Prices include GST.",
    "shipping": "We ship across India. Orders are dispatched within 24 hours and deliveries take "
    "3 to 5 working days in metro cities.",
    "returns": "You can return any unused product within 7 days of delivery for a full refund "
    "to the original payment method.",
    "payment": "We accept UPI, credit and debit cards, net banking, and cash on delivery for "
    "orders below ₹5,000.",
    "hours": "Our Pune store is open from 10 am to 8 pm, Monday to Saturday, and closed on "
    "Sundays.",
    "location": "Visit our showroom at 14 MG Road, Camp, Pune, next to the City Bank branch.",
    "warranty": "Every mixer grinder comes with a two-year manufacturer warranty covering the "
    "motor.",
    "discount": "Use the code FESTIVE10 for 10% off your first order until Diwali.",
    "demo": "Book a free 20-minute video demo with a product expert from our website.",
    "human": "To talk to someone from our support team, call +91 20 5555 0100, or ask here and "
    "an agent will reply.",
    "installation": "Installation of water purifiers is free and is done by our technician "
    "within 48 hours of delivery.",
    "cancel_hi": "ऑर्डर रद्द करने के लिए डिस्पैच से पहले हमें व्हाट्सऐप पर संदेश भेजें। रद्द किए गए "
    "ऑर्डर का पैसा 5 दिन में लौटा दिया जाता है।",
}
DEV_QUERIES = [
    ("What is the price of the Pro plan?", "pricing"),
    ("How long does delivery take to Mumbai?", "shipping"),
    ("Can I send it back and get my money back?", "returns"),
    ("Do you take cash on delivery?", "payment"),
    ("What time does the store open on Saturday?", "hours"),
    ("Where is your showroom?", "location"),
    ("Is there a warranty on the mixer?", "warranty"),
    ("Any discount code for my first order?", "discount"),
    ("I want to book a demo", "demo"),
    ("Can I talk to a real person?", "human"),
    ("delivery kitne din me hogi?", "shipping"),  # Hinglish
    ("Pro plan ka daam kya hai", "pricing"),  # Hinglish
    ("ऑर्डर कैसे रद्द करें?", "cancel_hi"),  # Hindi
    ("डिलीवरी में कितने दिन लगते हैं?", "shipping"),  # Hindi query, English passage
    ("is purifier installation free?", "installation"),
]
HELD_OUT_PASSAGES = {
    "membership": "A monthly membership is ₹2,500 and gives unlimited classes; a drop-in class "
    "costs ₹400.",
    "schedule": "Morning classes start at 6:30 am and evening classes at 7 pm, every day except "
    "Monday.",
    "trial": "Your first class is free. Book the trial slot through WhatsApp a day in advance.",
    "location": "The studio is on the second floor of Lotus Plaza, Baner, Pune, with parking in "
    "the basement.",
    "cancellation": "Classes cancelled less than 2 hours before the start are counted as attended.",
    "teachers": "All our instructors are certified by the Yoga Alliance and have at least five "
    "years of teaching experience.",
    "what_to_bring": "Bring your own mat and a water bottle; towels and lockers are provided.",
    "online": "Can't come in? Join live online sessions on Zoom with the same membership.",
    "hindi_kids": "बच्चों के लिए योग कक्षाएं हर शनिवार सुबह 9 बजे होती हैं, उम्र 6 से 12 साल।",
    "payment": "Pay by UPI, card or cash at the front desk; memberships renew automatically each "
    "month.",
}
HELD_OUT_QUERIES = [
    ("how much is the monthly membership?", "membership"),
    ("what time are evening classes?", "schedule"),
    ("can I try a class for free?", "trial"),
    ("where is the studio located?", "location"),
    ("what happens if I cancel late?", "cancellation"),
    ("are the teachers certified?", "teachers"),
    ("do I need to bring a mat?", "what_to_bring"),
    ("do you have online classes?", "online"),
    ("क्या बच्चों के लिए योग कक्षा है?", "hindi_kids"),  # Hindi
    ("membership ka rate kya hai", "membership"),  # Hinglish
    ("payment kaise karna hai, upi chalega?", "payment"),  # Hinglish
    ("kids yoga on weekends?", "hindi_kids"),  # English query, Hindi passage
]


async def recall_at_1(
    embedder: HashingEmbedder, passages: dict[str, str], queries: list[tuple[str, str]]
) -> float:
    names = list(passages)
    documents = await embedder.embed_documents([passages[n] for n in names])
    hits = 0
    for query, expected in queries:
        vector = await embedder.embed_query(query)
        best = max(range(len(names)), key=lambda i: cosine(vector, documents[i]))
        hits += names[best] == expected
    return hits / len(queries)


async def test_hashing_retrieval_sanity() -> None:
    embedder = HashingEmbedder()
    dev = await recall_at_1(embedder, DEV_PASSAGES, DEV_QUERIES)
    held_out = await recall_at_1(embedder, HELD_OUT_PASSAGES, HELD_OUT_QUERIES)
    # Measured: dev 15/15 (tuned on), held-out 9/12 = 0.75. Chance is about 1/11.
    assert dev >= 0.85, f"dev recall@1 {dev:.3f}"
    assert held_out >= 0.66, f"held-out recall@1 {held_out:.3f}"


async def test_price_question_ranks_pricing_above_shipping() -> None:
    embedder = HashingEmbedder()
    query = await embedder.embed_query("what's the price?")
    pricing, shipping = await embedder.embed_documents(
        [DEV_PASSAGES["pricing"], DEV_PASSAGES["shipping"]]
    )
    assert cosine(query, pricing) > cosine(query, shipping) + 0.1
