"""The OpenAI-compatible API (`/v1/chat/completions`, streamed or not, and `/v1/models`) over `Assistant`.

Any chat client that speaks OpenAI's API reaches the assistant through `assistant27 serve`: the last user
message is the question, the earlier user and assistant messages the conversation (follow-ups keep their
context, as in the web chat), any `model` is answered by this one, system messages are ignored (the assistant has its own prompts). The answer's
text ends with its sources, numbered as its [n] markers; the message also carries them as `citations` (the
`ask --json` citations), with `refusal_kind` (null, "absent" or "unverified") and `confidence`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant27.assistant import Assistant
from assistant27.conversations import source_label
from assistant27.errors import Assistant27Error, GeneratorError, IndexMissingError, QuestionError
from assistant27.schema import Answer

MODEL_ID = "assistant27"
SOURCES_HEADING = "Sources :"
# What the answer streams as: a few words a chunk, so a client shows it being written.
WORDS_PER_CHUNK = 4


class RequestError(ValueError):
    """A request this API cannot serve; the message says what to send instead."""


def conversation_of(body: Any) -> tuple[str, list[dict[str, str]]]:
    """The question (the last user message) and the conversation before it, from a chat completion request."""
    if not isinstance(body, dict):
        raise RequestError("The body must be a JSON object with `messages`.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError('`messages` must be a non-empty list, e.g. [{"role": "user", "content": "..."}].')
    turns = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in {"system", "developer", "user", "assistant"}:
            raise RequestError("Each message needs a `role` (system, user or assistant) and a `content`.")
        if message["role"] in {"user", "assistant"}:
            turns.append({"role": str(message["role"]), "content": _text(message.get("content"))})
    if not turns or turns[-1]["role"] != "user":
        raise RequestError("The last message must be the user's question.")
    question = turns[-1]["content"]
    # A previous answer is repeated without its sources: the history is what was said, not its references.
    history = [{**t, "content": t["content"].split(f"\n\n{SOURCES_HEADING}\n")[0]} for t in turns[:-1]]
    return question, history


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    raise RequestError("A message's `content` must be a string or a list of text parts.")


def answer_text(answer: Answer) -> str:
    """The answer, then its sources numbered as its [n] markers (publication, year, page or section, file)."""
    if not answer.citations:
        return answer.answer
    lines = [f"[{c.n}] {source_label(c.to_json())}" for c in answer.citations]
    return f"{answer.answer}\n\n{SOURCES_HEADING}\n" + "\n".join(lines)


def structured(answer: Answer) -> dict[str, Any]:
    """The fields added to OpenAI's message: citations as in `ask --json`, the refusal kind, the confidence."""
    return {
        "citations": [c.to_json() for c in answer.citations],
        "refusal_kind": answer.refusal,
        "confidence": answer.confidence,
    }


def completion(answer: Answer) -> dict[str, Any]:
    """A `chat.completion` object for a finished answer."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer_text(answer), **structured(answer)},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
    }


def completion_chunks(events: Iterator[object]) -> Iterator[str]:
    """Server-sent events: `chat.completion.chunk`s, then `data: [DONE]`.

    The role comes at once; the text comes once the answer is checked, since the citation check may drop a
    sentence or a marker that a stream of raw tokens would already have shown. Meanwhile each generated token
    sends an SSE comment, which clients ignore and which keeps proxies from closing a quiet connection.
    """
    common = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time())}

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return (
            f"data: {json.dumps({**common, 'model': MODEL_ID, 'choices': [choice], **extra}, ensure_ascii=False)}\n\n"
        )

    yield chunk({"role": "assistant", "content": ""})
    try:
        for event in events:
            if isinstance(event, Answer):
                words = answer_text(event).split(" ")
                for i in range(0, len(words), WORDS_PER_CHUNK):
                    yield chunk({"content": ("" if i == 0 else " ") + " ".join(words[i : i + WORDS_PER_CHUNK])})
                fields = structured(event)
                yield chunk(fields, "stop", **fields)
            else:
                yield ": generating\n\n"
    except Assistant27Error as exc:  # the status is sent already: the error travels as an event
        yield f"data: {json.dumps(error_body(exc), ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def error_body(exc: Exception) -> dict[str, Any]:
    """OpenAI's error shape, with our message (it says what to do next)."""
    kind = "invalid_request_error" if isinstance(exc, RequestError | QuestionError) else "server_error"
    return {"error": {"message": str(exc), "type": kind, "param": None, "code": None}}


def unauthorized() -> dict[str, Any]:
    """The 401 body for a request without the server's access token (its clients send it as their API key)."""
    return {
        "error": {
            "message": "This server needs its access token (ASSISTANT27_WEB_TOKEN): send it as the API key "
            "(Authorization: Bearer TOKEN).",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }


def status_of(exc: Exception) -> int:
    if isinstance(exc, RequestError | QuestionError):
        return 400
    if isinstance(exc, GeneratorError | IndexMissingError):
        return 503
    return 500


def mount_openai_api(app: FastAPI, assistant: Assistant) -> None:
    """Add `/v1/models` and `/v1/chat/completions` to a FastAPI app (before Gradio is mounted at its root)."""
    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": MODEL_ID}]}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse(error_body(RequestError("The body is not JSON.")), status_code=400)
        try:
            question, history = conversation_of(body)
        except RequestError as exc:
            return JSONResponse(error_body(exc), status_code=400)
        if body.get("stream"):
            # A sync iterator: Starlette runs it in a worker thread, so retrieval and generation never block the loop.
            events = assistant.ask_stream(question, history)
            return StreamingResponse(
                completion_chunks(events),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        try:
            answer = await run_in_threadpool(assistant.ask, question, history)
        except Assistant27Error as exc:
            return JSONResponse(error_body(exc), status_code=status_of(exc))
        return JSONResponse(completion(answer))
