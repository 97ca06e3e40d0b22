"""French BM25 analysis: accents, elision, stop words, stemming."""

from assistant27.analysis import analyze, analyze_query, fold, normalize_query, strip_urls, tokenize


def test_accent_folding_makes_reglementation_match() -> None:
    assert analyze("reglementation") == analyze("réglementation") == analyze("Réglementation")
    assert analyze("collectivites") == analyze("collectivités")


def test_elision_is_removed_before_stemming() -> None:
    assert analyze("l’innovation") == analyze("innovation")
    assert analyze("d'innovations") == analyze("innovation")
    assert analyze("qu'elles") == []


def test_stop_words_and_question_words_are_dropped() -> None:
    assert tokenize("Quelles sont les collectivités de la Région ?") == ["collectivites", "region"]
    assert tokenize("c koi la transfo") == ["transfo"]
    assert tokenize("Which programmes did the Region run?") == ["programmes", "region", "run"]


def test_fold() -> None:
    assert fold("Île-de-France ÉTÉ") == "ile-de-france ete"


def test_informal_spellings_are_rewritten() -> None:
    assert normalize_query("cb d'adherents en 2025") == "combien d'adherents en 2025"
    assert normalize_query("la synchro c financé par qui et jusqua quand") == (
        "la synchro c financé par qui et jusqu'à quand"
    )
    assert analyze_query("pk koi cb") == []
    # A word that merely contains an informal spelling is left alone.
    assert normalize_query("kebab cbd") == "kebab cbd"


def test_references_to_the_publication_and_the_publisher_are_dropped() -> None:
    """The publisher comes from the corpus catalogue: its name as typed (article, accents, a spaced « 3 e »)."""
    publishers = ("La Maison 3e Lieu",)
    assert normalize_query(
        "Pourquoi La Maison 3e Lieu a-t-elle été fondée, selon la brochure de 2031 ?", publishers
    ) == ("pourquoi a-t-elle ete fondee, la de 2031 ?")
    assert normalize_query("c koi la maison 3 e lieu", publishers) == "c quoi"
    assert normalize_query("Pourquoi La Maison 3e Lieu ?") == "Pourquoi La Maison 3e Lieu ?"  # no publisher known
    assert analyze_query("les lieux de la maison", publishers=publishers) == analyze_query("les lieux de la maison")
    assert analyze_query("Comment le rapport 2019 définit-il les communs ?") == analyze("2019 définit communs")
    assert analyze_query("What is States of Change, according to the 2019 report?") == analyze("States of Change 2019")
    assert "2022" in analyze_query("Qui a rejoint l'équipe d'après le rapport d'activité 2022 ?")
    # "rapport" is content when it names something other than a yearly publication.
    assert analyze("rapport")[0] in analyze_query("Quand le rapport des Assises du design a-t-il été présenté ?")
    # "Région" alone is content (Région Bretagne); only the publisher's name goes.
    assert analyze("region")[0] in analyze_query("Quels projets avec la Région Bretagne ?")


def test_elisions_typed_without_apostrophe_are_split_when_the_index_knows_the_word() -> None:
    vocabulary = set(analyze("adhésions assemblée")) | {"2022"}
    assert analyze_query("combien dadhesions en 2022", vocabulary) == analyze("adhésions 2022")
    assert analyze_query("lassemblee", vocabulary) == analyze("assemblée")
    # Without a vocabulary, or when the glued word is itself known, nothing is split.
    assert analyze_query("dadhesions") == analyze("dadhesions")
    assert analyze_query("dessin", set(analyze("dessin essin"))) == analyze("dessin")


def test_the_names_a_question_asks_about_and_those_no_text_holds() -> None:
    from assistant27.analysis import asked_names, unmatched_names

    q = "Quel programme La 27e Région a-t-elle mené avec la Ville de Nice en 2019 ?"
    assert asked_names(q) == ["Région", "Ville", "Nice", "2019"]  # 'Quel' starts the sentence, 'La' is a stop word
    assert asked_names("Comment est qualifiée L'École du terrain ? Et le CO2 ?") == ["École", "CO2"]
    assert asked_names("c ki le tresorier de la 27e region ?") == []
    # English: a French name may be translated ('Brittany'); only years and acronyms count.
    assert asked_names("What did the Brittany region test with the DITP in 2020?", "en") == ["DITP", "2020"]
    texts = ["La Ville de Nice et les Régions (2019)"]
    assert unmatched_names("Quelles Régions, avec la Ville de Nice, en 2019 ?", texts) == []
    assert unmatched_names("Avec la Ville de Nicea en 2020 ?", texts) == ["Nicea", "2020"]
    assert unmatched_names("La Kafka Brigade ?", ["le do-tank lançait la 3Kafka Brigade"]) == []
    # A title in quotes: its words; one letter apart is the same word (the publication writes « hackaton »).
    q = "Qu'a donné le « hackathon juridique » et le programme « Villes nourricières » ?"
    assert asked_names(q) == ["Villes", "hackathon", "juridique", "nourricières"]
    assert unmatched_names(q, ["un «hackaton juridique» dans nos villes, pour nourrir"]) == ["nourricières"]


def test_stop_words_come_from_a_public_api_without_llama_index() -> None:
    """NLTK's French and English lists as bm25s ships them: importing llama-index cost seconds and ~40 MB."""
    import subprocess
    import sys

    script = (
        "import sys; from assistant27.analysis import stop_words; words = stop_words(); "
        "print('llama_index' in sys.modules, len(words), sorted({'nous', 'etaient', 'ourselves', \"i'm\", 'koi'} & words))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split(
        " ", 2
    )
    assert out[0] == "False"
    # The same 385 words as NLTK's files read before: bm25s's English copy lacks 19 contractions, added back.
    assert int(out[1]) == 385
    assert out[2].strip() == "['etaient', \"i'm\", 'koi', 'nous', 'ourselves']"


def test_a_title_typed_without_capitals_after_programme_must_be_found_as_a_phrase() -> None:
    """« le programme eau commune » names a programme though nothing is capitalised: each word may be in the
    passages (« l'eau », « une commune »), the title is not; the question's verb (« a-t-il ») is no title."""
    from assistant27.analysis import asked_names, unmatched_names

    question = "le programme eau commune de la 27 il a commence quand ?"
    assert "eau commune" in asked_names(question)
    passages = ["La commune a coupé l'eau en juin.", "Le programme Exemple a commencé en 2031."]
    assert unmatched_names(question, passages) == ["eau commune"]
    assert unmatched_names(question, ["Le programme Eau\ncommune a commencé en 2031."]) == []
    assert asked_names("quand le programme a-t-il commencé ?") == []
    assert asked_names("Qu'est-ce que le programme de recherche-action ?") == []


def test_web_addresses_are_left_out_of_matching_with_or_without_their_scheme() -> None:
    # PDFs print links as bare paths and slugs; they share the question's words and say nothing.
    text = (
        "Voir https://exemple.fr/a et nos-actions/les-defis-exemple/ ou u26414578/1158603/ ici.\n"
        "* la-participation-citoyenne-au-programme-exemple-2019-valcourt/ Au forum de Valcourt."
    )
    assert strip_urls(text) == "Voir et ou ici.\n* Au forum de Valcourt."
    # Not a date, an « et/ou », a span of years, a fraction or a compound name.
    kept = "Le 12/10/2019, les élu.e.s et/ou agents (2011/2014, 1/3) de Saint-Jean-de-Luz, c'est-à-dire au-delà."
    assert strip_urls(kept) == kept
