"""The real corpus with the real embedder (and the local model): what a user sees from `ask --json`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant27.cli import main

pytestmark = pytest.mark.slow


def ask(env: dict[str, str], question: str, *flags: str) -> dict:
    result = CliRunner().invoke(main, ["ask", "--json", *flags, question], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_nouveaux_accords_answer_cites_dunkerque(real_index: dict[str, str]) -> None:
    data = ask(real_index, "Quelles collectivités ont participé à Nouveaux Accords ?")
    assert not data["refused"]
    assert "Dunkerque" in data["answer"]
    assert any("Dunkerque" in c["text"] for c in data["citations"])
    assert len(data["passages"]) >= 10


def test_question_the_corpus_cannot_answer_is_refused(real_index: dict[str, str]) -> None:
    data = ask(real_index, "Quel est le prix d'un billet de train Paris-Lyon en 2023 ?")
    assert data["refused"] is True and data["citations"] == []
    assert data["passages"], "a refusal still lists the closest passages"


def test_reingest_unchanged_corpus_embeds_nothing(real_index: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["ingest"], env=real_index)
    assert "5 unchanged" in result.output and "0 chunks embedded" in result.output


def test_local_generator_answers_with_citations(real_index: dict[str, str]) -> None:
    # Not a list question (those are answered from the programme catalogue, without the model).
    data = ask(real_index, "Sur quoi porte le programme Nouveaux Accords ?", "--generator", "local")
    assert data["generator"] == "local"
    assert not data["refused"]
    assert "contrat" in data["answer"] and "ville" in data["answer"]
    assert data["citations"] and data["timings"]["first_token_s"] is not None
