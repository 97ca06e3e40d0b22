"""The OpenAI-compatible API, driven by the official `openai` client against the running app."""

from __future__ import annotations

import openai
import pytest
from appserver import make_app, serving

from assistant27.config import Settings
from assistant27.generators import ExtractiveGenerator
from assistant27.openai_api import RequestError, conversation_of

QUESTION = "Qui participe à Nouveaux Accords ?"
TOKEN = "correct-horse-battery-staple"


def client_of(url: str, api_key: str = "not-needed") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}v1", api_key=api_key, max_retries=0, timeout=60)


def test_chat_completions_answer_with_citations_streamed_or_not(settings: Settings) -> None:
    with serving(make_app(settings, ExtractiveGenerator())) as url:
        client = client_of(url)
        assert [m.id for m in client.models.list()] == ["assistant27"]

        reply = client.chat.completions.create(model="assistant27", messages=[{"role": "user", "content": QUESTION}])
        message = reply.choices[0].message
        assert reply.choices[0].finish_reason == "stop" and message.role == "assistant"
        answer, sources = message.content.split("\n\nSources :\n")
        assert "Dunkerque" in answer and "[1]" in answer
        # Publication, year, section (or page), file: one line a citation.
        assert sources.split("\n")[0] == (
            "[1] Rapport d'activité 2022 (2022), « Nouveaux Accords — Quel est le point de départ ? » — rapport-2022.txt"
        )
        citations = message.citations  # type: ignore[attr-defined]
        assert citations[0]["n"] == 1 and citations[0]["source"] == "rapport-2022.txt" and citations[0]["quote"]
        assert message.refusal_kind is None and message.confidence > 0  # type: ignore[attr-defined]

        chunks = list(
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}], stream=True
            )
        )
        assert chunks[0].choices[0].delta.role == "assistant"
        assert "".join(c.choices[0].delta.content or "" for c in chunks) == message.content
        assert len([c for c in chunks if c.choices[0].delta.content]) > 1  # written in pieces
        last = chunks[-1]
        assert last.choices[0].finish_reason == "stop" and last.model == "assistant27"
        assert last.citations == citations and last.refusal_kind is None  # type: ignore[attr-defined]


def test_a_refusal_says_its_kind(settings: Settings) -> None:
    with serving(make_app(settings, ExtractiveGenerator())) as url:
        client = client_of(url)
        messages = [{"role": "user", "content": "Quel programme avec la Ville de Valparaiso ?"}]
        message = client.chat.completions.create(model="assistant27", messages=messages).choices[0].message  # type: ignore[arg-type]
        assert message.refusal_kind == "absent" and message.citations == []  # type: ignore[attr-defined]
        assert "Valparaiso" in message.content and "Sources" not in message.content
        last = list(client.chat.completions.create(model="assistant27", messages=messages, stream=True))[-1]  # type: ignore[arg-type]
        assert last.refusal_kind == "absent"  # type: ignore[attr-defined]

        with pytest.raises(openai.BadRequestError, match="last message must be the user"):
            client.chat.completions.create(model="assistant27", messages=[{"role": "system", "content": "Hi"}])
        with pytest.raises(openai.BadRequestError, match="question is empty"):
            client.chat.completions.create(model="assistant27", messages=[{"role": "user", "content": "  "}])


def test_earlier_messages_are_the_conversation() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "Sois bref."},
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": "La Ville de Dunkerque [1].\n\nSources :\n[1] Rapport (2022) — r.txt"},
            {"role": "user", "content": [{"type": "text", "text": "Et depuis quand ?"}]},
        ]
    }
    question, history = conversation_of(body)
    assert question == "Et depuis quand ?"
    assert history == [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "La Ville de Dunkerque [1]."},
    ]
    with pytest.raises(RequestError, match="non-empty list"):
        conversation_of({"messages": []})


def test_the_api_needs_the_token_when_the_app_has_one(settings: Settings) -> None:
    with serving(make_app(settings, ExtractiveGenerator()), TOKEN) as url:
        with pytest.raises(openai.AuthenticationError, match="ASSISTANT27_WEB_TOKEN"):
            client_of(url, "wrong-token").models.list()
        with pytest.raises(openai.AuthenticationError):
            client_of(url, "wrong-token").chat.completions.create(
                model="assistant27", messages=[{"role": "user", "content": QUESTION}]
            )
        reply = client_of(url, TOKEN).chat.completions.create(
            model="assistant27", messages=[{"role": "user", "content": QUESTION}]
        )
        assert "Dunkerque" in (reply.choices[0].message.content or "")
