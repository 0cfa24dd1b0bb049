"""The fake Gemini server itself: routing, key check, scripting, streaming, embeddings, shutdown.

Most of it is exercised through the real SDK; raw HTTP (httpx) is used where a test needs to see
exactly what goes over the wire.
"""

from __future__ import annotations

import json
import math
import threading
import time

import httpx
import pytest
from google import genai
from google.genai import types

from funnel.core.llm.embeddings import HashingEmbedder
from funnel.core.llm.fake_gemini import FAKE_API_KEY, FakeGemini, RecordedRequest, Reply

MODEL = "gemini-2.5-flash"


def sdk(fake: FakeGemini, api_key: str = FAKE_API_KEY) -> genai.Client:
    return genai.Client(api_key=api_key, http_options=types.HttpOptions(base_url=fake.base_url))


def post(
    fake: FakeGemini, path: str, body: object, key: str | None = FAKE_API_KEY
) -> httpx.Response:
    headers = {"x-goog-api-key": key} if key is not None else {}
    return httpx.post(f"{fake.base_url}{path}", json=body, headers=headers, timeout=10)


def test_a_wrong_or_missing_key_gets_gemini_s_400(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply.json({"ok": True}))
    body = {"contents": [{"parts": [{"text": "hi"}], "role": "user"}]}

    missing = post(fake_gemini, f"/v1/models/{MODEL}:generateContent", body, key=None)
    wrong = post(fake_gemini, f"/v1/models/{MODEL}:generateContent", body, key="nope")

    for response in (missing, wrong):
        assert response.status_code == 400
        assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
        assert "API key not valid" in response.json()["error"]["message"]
    # The scripted reply is still there for a caller with the right key.
    assert fake_gemini.pending == 1
    assert [r.api_key for r in fake_gemini.requests] == [None, "nope"]


def test_the_key_is_never_kept_in_recorded_headers(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply.json({"ok": True}))
    post(fake_gemini, f"/v1/models/{MODEL}:generateContent", {"contents": []})
    (recorded,) = fake_gemini.requests
    assert recorded.api_key == FAKE_API_KEY
    assert FAKE_API_KEY not in repr(recorded.headers)


def test_routes_on_version_model_and_method(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply.json({"n": 1}), Reply.json({"n": 2}))

    first = post(fake_gemini, "/v1beta/models/gemini-3-pro:generateContent", {"contents": []})
    second = post(fake_gemini, "/v1/models/gemini-2.5-flash-lite:generateContent", {})
    unknown = post(fake_gemini, "/v1/models/gemini-2.5-flash:countTokens", {})

    assert first.status_code == second.status_code == 200
    assert unknown.status_code == 404
    assert [(r.version, r.model, r.method) for r in fake_gemini.requests] == [
        ("v1beta", "gemini-3-pro", "generateContent"),
        ("v1", "gemini-2.5-flash-lite", "generateContent"),
        ("v1", "gemini-2.5-flash", "countTokens"),
    ]


def test_per_model_queue_comes_before_the_global_one(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply.raw("global"))
    fake_gemini.queue(Reply.raw("brain"), model="gemini-2.5-pro")
    client = sdk(fake_gemini)

    pro = client.models.generate_content(model="gemini-2.5-pro", contents="x")
    flash = client.models.generate_content(model=MODEL, contents="x")

    assert (pro.text, flash.text) == ("brain", "global")
    assert fake_gemini.pending == 0


def test_responder_answers_when_nothing_is_queued(fake_gemini: FakeGemini) -> None:
    seen: list[RecordedRequest] = []

    def responder(request: RecordedRequest) -> str:
        seen.append(request)
        return json.dumps({"echo": request.prompt_text.upper()})

    fake_gemini.responder = responder
    fake_gemini.queue(Reply.raw("scripted first"))
    client = sdk(fake_gemini)

    scripted = client.models.generate_content(model=MODEL, contents="one")
    answered = client.models.generate_content(
        model=MODEL,
        contents="two",
        config=types.GenerateContentConfig(system_instruction="be brief"),
    )

    assert scripted.text == "scripted first"
    assert answered.text == '{"echo": "TWO"}'
    assert [r.system_instruction for r in seen] == ["be brief"]


def test_unscripted_call_fails_loudly_without_inviting_a_retry(fake_gemini: FakeGemini) -> None:
    response = post(fake_gemini, f"/v1/models/{MODEL}:generateContent", {"contents": []})
    assert response.status_code == 400
    assert "nothing scripted" in response.json()["error"]["message"]


def test_usage_metadata_is_estimated_or_scripted(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply.raw("x" * 40), Reply.raw("{}", prompt_tokens=7, output_tokens=3))
    client = sdk(fake_gemini)

    estimated = client.models.generate_content(model=MODEL, contents="y" * 80)
    scripted = client.models.generate_content(model=MODEL, contents="z")

    assert estimated.usage_metadata is not None
    assert estimated.usage_metadata.prompt_token_count == 20
    assert estimated.usage_metadata.candidates_token_count == 10
    assert scripted.usage_metadata is not None
    assert scripted.usage_metadata.total_token_count == 10


def test_streaming_splits_the_reply_into_chunks(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply.json({"greeting": "नमस्ते, how can I help?"}))
    client = sdk(fake_gemini)

    chunks = list(client.models.generate_content_stream(model=MODEL, contents="hi"))

    assert len(chunks) == 2
    assert "".join(c.text or "" for c in chunks) == '{"greeting": "नमस्ते, how can I help?"}'
    assert fake_gemini.requests[0].method == "streamGenerateContent"


def test_scripted_errors_use_google_s_envelope(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply.error(429, "quota"), Reply.error(503))
    body: dict[str, object] = {"contents": []}

    limited = post(fake_gemini, f"/v1/models/{MODEL}:generateContent", body)
    down = post(fake_gemini, f"/v1/models/{MODEL}:generateContent", body)

    assert limited.status_code == 429
    assert limited.json() == {
        "error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}
    }
    assert down.status_code == 503
    assert down.json()["error"]["status"] == "UNAVAILABLE"


def test_a_delay_holds_the_answer(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply.slow(0.4, Reply.raw("late")))
    started = time.monotonic()
    response = post(fake_gemini, f"/v1/models/{MODEL}:generateContent", {"contents": []})
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.4


def test_embeddings_are_deterministic_and_of_the_requested_size(fake_gemini: FakeGemini) -> None:
    client = sdk(fake_gemini)
    texts = ["delivery takes 3 days", "प्रो प्लान की कीमत", "delivery takes 3 days"]

    response = client.models.embed_content(
        model="gemini-embedding-001",
        contents=texts,
        config=types.EmbedContentConfig(task_type="RETRIEVAL_DOCUMENT", output_dimensionality=256),
    )

    assert response.embeddings is not None
    vectors = [e.values or [] for e in response.embeddings]
    assert [len(v) for v in vectors] == [256, 256, 256]
    assert vectors[0] == vectors[2]
    assert vectors[0] != vectors[1]
    # Scaled like the real API's reduced-dimension vectors: not unit length.
    assert math.sqrt(sum(v * v for v in vectors[0])) == pytest.approx(3.0)
    expected = HashingEmbedder(dimensions=256).embed_sync(texts[1])
    assert [v / 3.0 for v in vectors[1]] == pytest.approx(expected)
    (recorded,) = fake_gemini.calls("batchEmbedContents")
    assert [r["taskType"] for r in recorded.embed_requests] == ["RETRIEVAL_DOCUMENT"] * 3


def test_single_embed_content_endpoint(fake_gemini: FakeGemini) -> None:
    body = {"content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 64}
    response = post(fake_gemini, "/v1beta/models/gemini-embedding-001:embedContent", body)
    assert response.status_code == 200
    assert len(response.json()["embedding"]["values"]) == 64


def test_stop_does_not_wait_for_a_slow_reply() -> None:
    fake = FakeGemini().start()
    fake.queue(Reply.slow(30.0, Reply.raw("never")))
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(
                post(fake, f"/v1/models/{MODEL}:generateContent", {"contents": []}).status_code
            )
        except httpx.HTTPError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    fake.stop()
    caller.join(timeout=10)

    assert time.monotonic() - started < 5
    assert not caller.is_alive()
    assert outcome, "the in-flight call ended, one way or the other"
    with pytest.raises(RuntimeError, match="not started"):
        _ = fake.base_url
