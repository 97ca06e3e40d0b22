"""Generated sentences that repeat the prompt's instructions never reach the user."""

from __future__ import annotations

from appserver import make_app

from assistant27.config import Settings
from assistant27.generators import ScriptedGenerator
from assistant27.prompt_echo import instruction_runs, shown_while_written, strip_prompt_echo
from assistant27.prompts import PROMPT_FILES, load

QUESTION = "Qui a participé à Nouveaux Accords ?"
PASSAGE = (
    "Nouveaux Accords est un programme de recherche-action sur le contrat de ville, mené en partenariat avec "
    "la Communauté urbaine de Dunkerque."
)
ECHOED = (
    "Les extraits numérotés [1], [2] et [3] indiquent que la Communauté urbaine de Dunkerque a participé au "
    "programme Nouveaux Accords [1]. Réponds en français, en 1 à 3 phrases."
)


def test_the_instructions_are_read_from_the_prompt_files() -> None:
    runs = instruction_runs()
    assert ("les", "extraits", "numerotes") in runs and ("les", "mots", "exacts") in runs
    assert "numérotés" in " ".join(load(name).template for name in PROMPT_FILES)
    assert ("a", "la", "question") not in runs  # too few content words: everyday French


def test_a_lead_in_copied_from_the_prompt_is_cut_and_a_rule_copied_is_dropped() -> None:
    said = strip_prompt_echo(ECHOED, [QUESTION, PASSAGE])
    assert said == "La Communauté urbaine de Dunkerque a participé au programme Nouveaux Accords [1]."


def test_what_the_passages_or_the_question_say_is_no_echo() -> None:
    passage = "Les agents recopient les mots exacts des extraits de loi dans leurs fiches."
    answer = "Les agents recopient les mots exacts des extraits de loi [1]."
    assert strip_prompt_echo(answer, [passage]) == answer
    everyday = "La Transfo pose la question des laboratoires [1].\nElle réunit les Régions [1]."
    assert strip_prompt_echo(everyday, [PASSAGE]) == everyday


def test_an_answer_that_only_repeats_the_prompt_is_empty() -> None:
    assert strip_prompt_echo("Recopie les mots exacts de l'extrait qui répond.", [PASSAGE]) == ""
    assert strip_prompt_echo("Termine chaque phrase par le numéro de l'extrait utilisé.", [PASSAGE]) == ""


def test_the_assistant_answers_without_the_prompts_words(settings: Settings) -> None:
    app = make_app(settings, ScriptedGenerator([ECHOED, "Tu es un assistant documentaire. Réponds en français."]))
    answer = app.assistant.ask(QUESTION)
    assert answer.answer.startswith("La Communauté urbaine de Dunkerque a participé")
    assert "numérotés" not in answer.answer and "Réponds" not in answer.answer and answer.citations
    assert answer.generated == ECHOED  # the raw text stays in ask --json, for diagnosis
    refused = app.assistant.ask(QUESTION)  # nothing but the prompt: no answer, said plainly
    assert refused.refused and "assistant documentaire" not in refused.answer


def test_while_written_the_start_of_an_echo_waits_for_the_next_words() -> None:
    sources = [QUESTION, PASSAGE]
    shown = [shown_while_written(ECHOED[:end], sources) for end in range(1, len(ECHOED) + 1)]
    assert not any("numérotés" in s or "Réponds" in s or "phrases" in s for s in shown)
    assert shown[-1] == "La Communauté urbaine de Dunkerque a participé au programme Nouveaux Accords [1]."
    assert shown_while_written("La Communauté urbaine de Dunk", sources) == "La Communauté urbaine de"


def test_forms_the_local_model_wrote_keep_what_they_report() -> None:
    # Shapes of the 16 recorded local answers the replay changed (evals/reports/*local*), on the tiny corpus.
    sources = [QUESTION, PASSAGE]
    said = "La Communauté urbaine de Dunkerque a participé au programme [1]."
    assert strip_prompt_echo(f"Les extraits numérotés [1] et [3] contiennent la réponse : {said}", sources) == said
    long_lead = "Les extraits numérotés [1] et [2] mentionnent le partenaire du programme de recherche-action, "
    assert strip_prompt_echo(f"{long_lead}respectivement : {said}", sources) == said
    assert strip_prompt_echo(f"Les extraits numérotés [1] et [3] contiennent les informations. {said}", sources) == said
