"""A scriptable fake of the Gemini API, served for real on loopback.

``google-genai`` talks HTTP through its own stack (httpx2 or aiohttp), so nothing can intercept it
in-process: the SDK is pointed at this server with ``HttpOptions(base_url=fake.base_url)`` and
speaks the real wire format. The server runs in a background thread with its own event loop, so
a test's loop (or a synchronous caller) never serves its own requests.

Tests script it per model or globally::

    with FakeGemini() as fake:
        fake.queue(Reply.error(429), Reply.json({"intent": "buy"}), model="gemini-2.5-flash")
        ...
        assert fake.requests[0].system_instruction == "..."

With nothing queued, ``responder`` (request → text) answers, which is how ``funnel dev`` and the
eval harness drive whole conversations; with neither, the fake answers 400 so an unscripted call
fails loudly instead of retrying. Embedding calls return deterministic vectors of the requested
``outputDimensionality`` from the offline hashing embedder, so retrieval through the fake still
ranks related texts together.

This module imports no database code and no SDK: it is the other side of the wire.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import math
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self

import uvicorn
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from funnel.core.llm.embeddings import HashingEmbedder

#: The key the fake accepts unless told otherwise. Deliberately not a real-looking key.
FAKE_API_KEY = "fake-gemini-key"

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer: a model text (status 200) or an API error, optionally late."""

    status: int = 200
    text: str = ""
    #: Seconds the server waits before answering; longer than the client's timeout means "slow".
    delay_s: float = 0.0
    error_message: str = ""
    finish_reason: str = "STOP"
    #: For an error: the ``RetryInfo.retryDelay`` Gemini attaches to a 429, in seconds.
    retry_delay_s: float | None = None
    #: Set: the prompt itself is blocked (``promptFeedback.blockReason``), with no candidate.
    prompt_block_reason: str = ""
    #: Overrides the token counts the fake would otherwise estimate.
    prompt_tokens: int | None = None
    output_tokens: int | None = None

    @classmethod
    def json(cls, value: BaseModel | dict[str, Any] | list[Any], **kwargs: Any) -> Reply:
        """Valid JSON text for ``value`` (a model instance is dumped the way the API would)."""
        if isinstance(value, BaseModel):
            return cls(text=value.model_dump_json(), **kwargs)
        return cls(text=json.dumps(value, ensure_ascii=False), **kwargs)

    @classmethod
    def raw(cls, text: str, **kwargs: Any) -> Reply:
        """Exactly ``text`` as the model's output: invalid JSON, prose, anything."""
        return cls(text=text, **kwargs)

    @classmethod
    def invalid_json(cls, **kwargs: Any) -> Reply:
        """Output cut off mid-object, as a model that hit its token limit produces."""
        text = '{"intent": "pricing", "confidence": 0.'
        return cls(text=text, finish_reason="MAX_TOKENS", **kwargs)

    @classmethod
    def fenced(cls, value: BaseModel | dict[str, Any], **kwargs: Any) -> Reply:
        """Valid JSON wrapped in a Markdown code fence, which models sometimes add."""
        inner = cls.json(value).text
        return cls(text=f"```json\n{inner}\n```", **kwargs)

    @classmethod
    def error(cls, status: int, message: str = "", **kwargs: Any) -> Reply:
        """An API error with Google's error envelope (429, 500, 400, 403...)."""
        return cls(status=status, error_message=message or f"scripted {status}", **kwargs)

    @classmethod
    def blocked(cls, reason: str = "SAFETY", *, prompt: bool = False) -> Reply:
        """A safety refusal: of the prompt (no candidate) or of the output (finish reason)."""
        if prompt:
            return cls(prompt_block_reason=reason)
        return cls(text="", finish_reason=reason)

    @classmethod
    def slow(cls, delay_s: float, then: Reply | None = None) -> Reply:
        """``then`` (an empty JSON object by default), answered after ``delay_s`` seconds."""
        base = then if then is not None else cls(text="{}")
        return dataclasses.replace(base, delay_s=delay_s)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """What the SDK sent, as the server saw it."""

    version: str
    model: str
    method: str
    api_key: str | None
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float = field(default_factory=time.monotonic)

    @property
    def system_instruction(self) -> str | None:
        instruction = self.body.get("systemInstruction")
        if not isinstance(instruction, dict):
            return None
        return "".join(str(part.get("text", "")) for part in instruction.get("parts", []))

    @property
    def prompt_text(self) -> str:
        """All user text of a generate call, joined: what the model was asked."""
        texts: list[str] = []
        for content in self.body.get("contents", []):
            texts.extend(str(part.get("text", "")) for part in content.get("parts", []))
        return "\n".join(texts)

    @property
    def generation_config(self) -> dict[str, Any]:
        config = self.body.get("generationConfig")
        return config if isinstance(config, dict) else {}

    @property
    def embed_requests(self) -> list[dict[str, Any]]:
        """The per-text requests of an embedding call (one for ``embedContent``)."""
        if self.method == "batchEmbedContents":
            return list(self.body.get("requests", []))
        if self.method == "embedContent":
            return [self.body]
        return []


Responder = Callable[[RecordedRequest], "str | Reply"]


class FakeGemini:
    """The fake's state and its uvicorn runner. Thread-safe: tests script it from their thread."""

    def __init__(
        self,
        *,
        api_key: str = FAKE_API_KEY,
        responder: Responder | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.api_key = api_key
        self.responder = responder
        self.host = host
        self._lock = threading.Lock()
        self._queues: dict[str | None, collections.deque[Reply]] = collections.defaultdict(
            collections.deque
        )
        self._requests: list[RecordedRequest] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port = 0
        # Set (on the server's loop) when stopping, so replies still sleeping end at once and
        # shutdown never waits for a scripted delay.
        self._closing: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._embedder_cache: dict[int, HashingEmbedder] = {}
        self.app = Starlette(
            lifespan=self._lifespan,
            routes=[
                Route(
                    "/{version}/models/{model_and_method:path}",
                    self._handle,
                    methods=["POST"],
                )
            ],
        )

    # -- scripting -------------------------------------------------------------------------

    def queue(self, *replies: Reply, model: str | None = None) -> None:
        """Answer the next calls with ``replies``, in order: for ``model``, or any model."""
        with self._lock:
            self._queues[model].extend(replies)

    def reset(self) -> None:
        """Forget queued replies, recorded requests and the responder (between tests)."""
        with self._lock:
            self._queues.clear()
            self._requests.clear()
        self.responder = None

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def calls(
        self, method: str = "generateContent", model: str | None = None
    ) -> list[RecordedRequest]:
        return [
            r for r in self.requests if r.method == method and (model is None or r.model == model)
        ]

    @property
    def pending(self) -> int:
        """Replies queued but not yet served: a test can assert its script was used up."""
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    def _next_reply(self, model: str) -> Reply | None:
        with self._lock:
            for key in (model, None):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
        return None

    # -- serving ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("FakeGemini is not started")
        return f"http://{self.host}:{self._port}"

    def start(self) -> Self:
        if self._thread is not None:
            return self
        # Binding here, before the thread starts, gives a free port with no race: the socket is
        # handed to uvicorn already listening.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen(128)
        self._socket = sock
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"fake-gemini-{self._port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("FakeGemini did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        if self._closing is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._closing.set)
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None
        self._port = 0
        self._closing = None
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the API ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        # Made on the server's loop before the first request; the loop is kept so stop() can
        # set the event from the caller's thread.
        self._loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        yield

    async def _handle(self, request: Request) -> Response:
        version = request.path_params["version"]
        model, sep, method = str(request.path_params["model_and_method"]).partition(":")
        if not sep:
            return _error(404, f"no method in {model!r}")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "request body is not JSON")
        api_key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        recorded = RecordedRequest(
            version=version,
            model=model,
            method=method,
            api_key=api_key,
            # The key is recorded above on its own; the headers copy never carries it, so a test
            # that prints a request never prints a key.
            headers={k: v for k, v in request.headers.items() if k != "x-goog-api-key"},
            body=body if isinstance(body, dict) else {"_": body},
        )
        with self._lock:
            self._requests.append(recorded)
        if api_key != self.api_key:
            # What Gemini answers for a wrong key: 400, not 401.
            return _error(400, "API key not valid. Please pass a valid API key.")

        if method in ("batchEmbedContents", "embedContent"):
            reply = self._next_reply(model)
            if reply is not None:
                await self._wait(reply.delay_s)
                if reply.status != 200:
                    return _error(reply.status, reply.error_message)
            return JSONResponse(self._embeddings(recorded))

        if method not in ("generateContent", "streamGenerateContent"):
            return _error(404, f"method {method!r} is not faked")

        scripted = self._next_reply(model)
        if scripted is None and self.responder is not None:
            answer = self.responder(recorded)
            scripted = answer if isinstance(answer, Reply) else Reply(text=answer)
        if scripted is None:
            return _error(
                400, f"fake Gemini: nothing scripted for model {model!r} and no responder"
            )
        await self._wait(scripted.delay_s)
        if scripted.status != 200:
            return _error(scripted.status, scripted.error_message, scripted.retry_delay_s)
        if method == "streamGenerateContent":
            return StreamingResponse(
                _sse_chunks(recorded, scripted), media_type="text/event-stream"
            )
        return JSONResponse(_generate_payload(recorded, scripted, scripted.text, final=True))

    async def _wait(self, delay_s: float) -> None:
        if delay_s <= 0:
            return
        assert self._closing is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), timeout=delay_s)

    def _embeddings(self, recorded: RecordedRequest) -> dict[str, Any]:
        vectors: list[dict[str, Any]] = []
        for item in recorded.embed_requests:
            dims = int(item.get("outputDimensionality") or 3072)
            embedder = self._embedder_cache.get(dims)
            if embedder is None:
                embedder = self._embedder_cache[dims] = HashingEmbedder(dimensions=dims)
            text = "".join(
                str(part.get("text", "")) for part in item.get("content", {}).get("parts", [])
            )
            # Like the real API, the vectors are not normalised at reduced dimensions: scaled
            # so a client that forgets to normalise gets caught by a unit-length check.
            vectors.append({"values": [3.0 * v for v in embedder.embed_sync(text)]})
        if recorded.method == "embedContent":
            return {"embedding": vectors[0]}
        return {"embeddings": vectors}


def _error(status: int, message: str, retry_delay_s: float | None = None) -> JSONResponse:
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": _STATUS_NAMES.get(status, "UNKNOWN"),
    }
    if retry_delay_s is not None:
        error["details"] = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_delay_s}s"}
        ]
    return JSONResponse({"error": error}, status_code=status)


def _estimate_tokens(text: str) -> int:
    # Roughly what Gemini's tokenizer gives for English: four characters a token.
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _generate_payload(
    recorded: RecordedRequest, reply: Reply, text: str, *, final: bool
) -> dict[str, Any]:
    prompt_tokens = (
        reply.prompt_tokens
        if reply.prompt_tokens is not None
        else _estimate_tokens((recorded.system_instruction or "") + recorded.prompt_text)
    )
    output_tokens = (
        reply.output_tokens if reply.output_tokens is not None else _estimate_tokens(reply.text)
    )
    usage = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens,
    }
    if reply.prompt_block_reason:
        return {
            "promptFeedback": {"blockReason": reply.prompt_block_reason},
            "usageMetadata": {**usage, "candidatesTokenCount": 0},
            "modelVersion": recorded.model,
        }
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "index": 0,
    }
    if final:
        candidate["finishReason"] = reply.finish_reason
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": recorded.model,
        "responseId": uuid.uuid4().hex[:20],
    }


def _sse_chunks(recorded: RecordedRequest, reply: Reply) -> Iterator[str]:
    # Two chunks, as a real stream splits a reply: a client must join them.
    middle = len(reply.text) // 2
    parts = [reply.text[:middle], reply.text[middle:]]
    for i, part in enumerate(parts):
        payload = _generate_payload(recorded, reply, part, final=i == len(parts) - 1)
        yield f"data: {json.dumps(payload, ensure_ascii=False)}\r\n\r\n"
