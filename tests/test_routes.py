"""The ways of answering: the first route that plans answers, and routes never reach back into the assistant."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import build_assistant as build

from assistant27.config import Settings
from assistant27.generators import ExtractiveGenerator, ScriptedGenerator
from assistant27.routes import PassagesFound, Token

ROUTES = Path(__file__).resolve().parents[1] / "src" / "assistant27" / "routes"


def test_each_question_is_answered_by_the_first_route_that_plans(settings: Settings) -> None:
    assistant = build(settings, ExtractiveGenerator())
    assert [r.name for r in assistant.routes] == ["catalogue", "years", "generation"]
    # The catalogue's own kind of question: a programme's partners.
    listed = assistant.ask("Quels partenaires pour Nouveaux Accords ?")
    assert listed.route == "catalogue" and listed.generator == "catalogue"
    # Two years named: each year's publications answer on their own.
    compared = assistant.ask("Que disent les rapports de 2022 et 2025 sur la Région ?")
    assert compared.route == "years" and {c.passage.year for c in compared.citations} == {2022, 2025}
    # Anything else: the generator.
    plain = assistant.ask("Quand le programme Nouveaux Accords a-t-il démarré ?")
    assert plain.route == "generation" and plain.to_json()["route"] == "generation"


def test_the_catalogue_declines_what_its_facts_do_not_hold_and_the_next_route_answers(settings: Settings) -> None:
    """« How much did the partners pay? » is recognised as about partners, but the catalogue holds no amount."""
    answer = build(settings, ExtractiveGenerator()).ask("Combien ont versé les partenaires de Nouveaux Accords ?")
    assert answer.route == "generation" and answer.refused


def test_a_refusal_before_any_route_has_no_route(settings: Settings) -> None:
    answer = build(settings, ExtractiveGenerator()).ask("Qui a participé à Nouveaux Accords avec la Ville d'Exempleville ?")
    assert answer.refused and answer.refusal == "absent" and answer.route is None


def test_the_passages_shown_first_are_those_the_route_answers_from(settings: Settings) -> None:
    scripted = ScriptedGenerator(["La Ville de Vitry-le-François a participé [1].", "La Région Grand Est [1]."])
    events = list(build(settings, scripted).ask_stream("Quelles Régions ont été réunies en 2022 et en 2025 ?"))
    found = events[0]
    assert isinstance(found, PassagesFound)
    assert {p.year for p in found.passages[:2]} == {2022, 2025}  # each year's best, taken in turn
    assert any(isinstance(e, Token) for e in events)
    assert events[-1].passages == found.passages  # type: ignore[union-attr]


def test_routes_never_import_the_assistant() -> None:
    """A route uses the lower floors it is handed (search, validation, generators), never the facade above it."""
    for path in ROUTES.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m and m.startswith(("assistant27.assistant", "assistant27.web"))}, path


def test_a_follow_up_reaches_the_generator_with_what_was_searched(settings: Settings) -> None:
    scripted = ScriptedGenerator(["Il porte sur le contrat de ville [1]."])
    history = [{"role": "user", "content": "C'est quoi Nouveaux Accords ?"}, {"role": "assistant", "content": "…"}]
    answer = build(settings, scripted).ask("et ça porte sur quoi ?", history=history)
    assert answer.route == "generation" and not answer.refused
    request = scripted.requests[-1]
    assert request.question == "et ça porte sur quoi ?"
    assert request.query == "C'est quoi Nouveaux Accords ? et ça porte sur quoi ?"


def test_an_english_question_answered_with_french_quotes_says_so_in_english(settings: Settings) -> None:
    """The answer is in the question's language, the quotes in the publication's."""
    assistant = build(settings, ExtractiveGenerator())
    english = assistant.ask("What is the Transfo programme about?").to_json()
    assert english["refused"] is False, english["answer"]
    assert english["answer"].startswith("The publications say (quoted in French): La Transfo est un programme")
    french = assistant.ask("C'est quoi le programme La Transfo ?").to_json()
    assert french["answer"].startswith("La Transfo est un programme"), french["answer"]
