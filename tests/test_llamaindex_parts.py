"""assistant27's retriever and generators as llama-index parts, and llama-index LLMs as our generators."""

from __future__ import annotations

import pytest
from appserver import make_app
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import CitationQueryEngine, RetrieverQueryEngine

from assistant27.assistant import Assistant, make_generator
from assistant27.config import Settings
from assistant27.errors import ConfigError
from assistant27.generators import ExtractiveGenerator, GenerationRequest, ScriptedGenerator
from assistant27.llamaindex_parts import (
    AssistantRetriever,
    GeneratorLLM,
    LlamaIndexGenerator,
    load_llm,
    request_from_prompt,
)

QUESTION = "Qui participe à Nouveaux Accords ?"


def assistant_over(settings: Settings, generator: object = None) -> Assistant:
    """The small corpus ingested into a real chromadb in the test's temp dir (hashing embedder)."""
    return make_app(settings, generator or ExtractiveGenerator()).assistant  # type: ignore[arg-type]


def test_a_citation_query_engine_on_our_retriever_answers_with_our_metadata(settings: Settings) -> None:
    assistant = assistant_over(settings)
    retriever = AssistantRetriever(assistant.retriever, top_k=4)
    engine = CitationQueryEngine(retriever=retriever, llm=GeneratorLLM(ExtractiveGenerator()))

    response = engine.query(QUESTION)

    assert "Dunkerque" in str(response) and "[1]" in str(response)
    cited = response.source_nodes[0]
    assert cited.node.metadata["source"] == "rapport-2022.txt"
    assert cited.node.metadata["title"] == "Rapport d'activité 2022" and cited.node.metadata["year"] == 2022
    assert {"page", "section", "chunk_id", "score_bm25"} <= set(cited.node.metadata)
    # The fused scores and ranks of our retriever, kept on the nodes.
    passages = assistant.search(QUESTION, top_k=4)
    assert [n.node.metadata["chunk_id"] for n in retriever.retrieve(QUESTION)] == [p.chunk_id for p in passages]
    assert [n.score for n in retriever.retrieve(QUESTION)] == pytest.approx([p.score for p in passages])
    assert cited.node.metadata["chunk_id"] == passages[0].chunk_id


def test_a_retriever_query_engine_shows_the_model_the_place_not_the_ids(settings: Settings) -> None:
    scripted = ScriptedGenerator(["Avec la Communauté urbaine de Dunkerque."])
    engine = RetrieverQueryEngine.from_args(
        AssistantRetriever(assistant_over(settings).retriever, top_k=2), llm=GeneratorLLM(scripted)
    )
    assert str(engine.query(QUESTION)) == "Avec la Communauté urbaine de Dunkerque."
    prompt = scripted.requests[0].messages[0]["content"]
    assert "Dunkerque" in prompt and "year: 2022" in prompt and "chunk_id" not in prompt


def test_our_generator_streams_as_a_llama_index_llm() -> None:
    llm = GeneratorLLM(ScriptedGenerator(["Une réponse en quatre mots."]))
    deltas = [r.delta for r in llm.stream_complete("Question : laquelle ?")]
    assert deltas == ["Une", " réponse", " en", " quatre", " mots."]


def test_the_sources_of_a_citation_prompt_are_read_after_its_example() -> None:
    prompt = (
        "For example:\nSource 1:\nThe sky is red.\nQuery: When?\nAnswer: now [1].\n"
        "Now it's your turn.\n------\nSource 1:\nPremier extrait.\n\nSource 2:\nSecond extrait.\n\n------\n"
        "Query: Quel extrait ?\nAnswer: "
    )
    request = request_from_prompt(prompt)
    assert request.question == "Quel extrait ?"
    assert [p.text for p in request.passages] == ["Premier extrait.", "Second extrait."]


def test_our_assistant_answers_through_a_llama_index_llm(settings: Settings) -> None:
    # Any llama-index LLM: here our scripted fake behind llama-index's own chat-to-prompt path.
    scripted = ScriptedGenerator(["Nouveaux Accords est mené avec la Communauté urbaine de Dunkerque [1]."])
    assistant = assistant_over(settings, LlamaIndexGenerator(GeneratorLLM(scripted)))

    answer = assistant.ask(QUESTION)

    assert answer.refused is False and answer.generator == "llamaindex"
    assert "Dunkerque" in answer.answer and answer.citations[0].passage.source == "rapport-2022.txt"
    prompt = scripted.requests[0].messages[0]["content"]  # our system and user messages, as llama-index joins them
    assert "Question : Qui participe à Nouveaux Accords ?" in prompt and "Dunkerque" in prompt


def test_a_llama_index_llm_is_chosen_by_naming_its_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT27_GENERATOR", "llamaindex:llama_index.core.llms.MockLLM")
    monkeypatch.setenv("ASSISTANT27_LLAMAINDEX_KWARGS", '{"max_tokens": 3}')
    generator = make_generator(Settings.from_env())
    assert isinstance(generator, LlamaIndexGenerator) and isinstance(generator.llm, MockLLM)
    request = GenerationRequest("q", [], messages=[{"role": "user", "content": "Bonjour"}])
    assert "".join(generator.generate(request)) == "text text text"


@pytest.mark.parametrize(
    ("name", "kwargs", "says"),
    [
        ("llama_index.llms.notinstalled.Nothing", "", "pip install llama-index-llms-notinstalled"),
        ("json.JSONDecoder", "", "is not a llama-index LLM class"),
        ("llama_index.core.llms.MockLLM", "{max_tokens: 3}", "is not JSON"),
        ("llama_index.core.llms.MockLLM", "[3]", "must be a JSON object"),
        ("llama_index.core.llms.MockLLM", '{"max_tokens": "many"}', "does not take these arguments"),
        ("MockLLM", "", "name the class with its module"),
    ],
)
def test_a_wrong_llama_index_setting_says_what_to_fix(name: str, kwargs: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        load_llm(name, kwargs)


def test_an_unknown_generator_name_is_still_refused() -> None:
    with pytest.raises(ConfigError, match="llamaindex:MODULE.CLASS"):
        Settings.from_env({"ASSISTANT27_GENERATOR": "ollama"})


def test_a_missing_llama_index_package_stops_the_cli_with_the_fix(settings: Settings) -> None:
    from click.testing import CliRunner

    from assistant27.cli import main

    assert CliRunner().invoke(main, ["ingest"]).exit_code == 0
    env = {"ASSISTANT27_GENERATOR": "llamaindex:llama_index.llms.notinstalled.Nothing"}
    result = CliRunner().invoke(main, ["ask", QUESTION], env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Error: The module llama_index.llms.notinstalled is not installed" in result.output
    assert "pip install llama-index-llms-notinstalled" in result.output
