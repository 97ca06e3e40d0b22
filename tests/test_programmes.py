"""The programme catalogue (rules over chunks) and the list / timeline / comparison answers built from it."""

from __future__ import annotations

from assistant27.programme_answers import CatalogueAnswer, answer, recognise
from assistant27.programmes import Catalogue, build_catalogue, name_key
from assistant27.schema import Chunk

# Three publications, written like the corpus (its phrasing, its capitals, its line breaks).
TEXTS = {
    ("rapport-2014.txt", 2014): [
        "La Transfo est un programme inter-régional initié en 2011 par La 27e Région en partenariat avec "
        "quatre Régions. Il a réuni la Région Bourgogne et la Région Pays de la Loire. La Transfo a reçu le soutien "
        "du programme européen Interreg.",
        "Elle conduit aussi des interventions : une intervention à Lyon, une autre intervention à Nantes. "
        "Intervention pour le projet Intervention à la Ville de Lyon.",
    ],
    ("rapport-2019.txt", 2019): [
        "C'est le type de question que nous explorons dans la nouvelle édition du programme La Transfo lancée en "
        "2016 avec le soutien de la Fondation Bloomberg Philanthropies et en partenariat avec la Ville de Grenoble.",
        "Débuté en 2015, Les Eclaireurs est un programme de prospective collaborative mené à Rennes.",
    ],
    ("rapport-2024.txt", 2024): [
        "Nous avons lancé le programme de recherche-action Rebonds en octobre 2023, en partenariat avec l'ADEME "
        "et la Ville de Poitiers. Le programme\nREBONDS se poursuit jusqu'à fin 2025.",
        "Le programme a aussi embarqué deux organisations publiques : la Ville de Tours et la Métropole de Nancy.",
        "Dans ce rapport : les forêts (Tronc Commun, page 12), le développement économique (Rebonds, page 6) "
        "et la comptabilité (Nouvelles Mesures, page 8).",
        "Nous avons lancé au printemps 2024 le programme Tronc Commun, co-financé par le ministère de "
        "l'agriculture, sur la gouvernance des forêts. Tronc Commun associe le Parc naturel régional des Boucles "
        "et la Communauté de communes du Vercors.",
        "Le programme Nouvelles Mesures, soutenu par la Fondation de France, a été lancé en 2020.",
    ],
    ("rapport-2025.txt", 2025): [
        "Le programme NOUVELLES MESURES vise à repenser les outils de gestion dans une perspective écologique. "
        "Lancé en 2021, Nouvelles Mesures a mené des tests avec la Ville de Clermont-Ferrand.",
    ],
}


def chunks() -> list[Chunk]:
    out = []
    for (source, year), texts in TEXTS.items():
        for i, text in enumerate(texts):
            out.append(
                Chunk(
                    id=f"{source}-{i}",
                    source=source,
                    text=text,
                    page=None,
                    heading="",
                    start=0,
                    end=len(text),
                    title=f"Rapport {year}",
                    year=year,
                )
            )
    return out


PUBLISHERS = ["La 27e Région"]  # the publisher column of these texts' catalogue.csv


def catalogue() -> Catalogue:
    return build_catalogue(chunks(), PUBLISHERS)


def test_names_come_from_the_phrasing_and_variants_merge() -> None:
    cat = catalogue()
    names = {p.name for p in cat.programmes}
    assert {"La Transfo", "Les Eclaireurs", "Rebonds", "Tronc Commun", "Nouvelles Mesures"} <= names
    # An ordinary word used as a name once ("le projet Intervention") is not a programme.
    assert not any(name_key(n) == "intervention" for n in names)
    rebonds = cat.find("REBONDS")
    assert rebonds is not None and {"Rebonds", "REBONDS"} <= set(rebonds.variants)
    assert cat.find("Transfo") is cat.find("la transfo") is not None


def test_every_fact_points_to_a_passage_that_says_it() -> None:
    cat = catalogue()
    by_id = {c.id: c for c in chunks()}
    rebonds = cat.find("Rebonds")
    assert rebonds is not None
    assert {"ADEME", "Ville de Poitiers"} <= {f.value for f in rebonds.partners}
    assert "Poitiers" in {f.value for f in rebonds.places}
    # "Le programme a aussi embarqué ..." in the next passage is about Rebonds, the programme named last.
    assert {"Ville de Tours", "Métropole de Nancy"} <= {f.value for f in rebonds.partners}
    tronc = cat.find("Tronc Commun")
    assert tronc is not None
    assert "Communauté de communes du Vercors" in {f.value for f in tronc.partners}
    assert "Ville de Tours" not in {f.value for f in tronc.partners}
    nm = cat.find("Nouvelles Mesures")
    assert nm is not None and "Fondation de France" in {f.value for f in nm.funders}
    transfo = cat.find("La Transfo")
    assert transfo is not None and "Interreg" in {f.value for f in transfo.funders}  # a funding programme
    for p in cat.programmes:
        for fact in [*p.partners, *p.funders, *p.places]:
            for chunk_id, quote in zip(fact.chunks, fact.quotes):
                assert fact.value.split()[-1] in by_id[chunk_id].text
                assert quote in by_id[chunk_id].text.replace("\n", " ") or quote.split()[0] in by_id[chunk_id].text
        assert {m.year for m in p.mentions} == set(p.years)


def test_stated_starts_and_disagreements() -> None:
    cat = catalogue()
    transfo = cat.find("La Transfo")
    assert transfo is not None
    # "la nouvelle édition ... lancée en 2016" is a new edition, not the start.
    assert transfo.start == 2011 and not transfo.disagreements()
    nm = cat.find("Nouvelles Mesures")
    assert nm is not None and nm.start == 2020
    (first, second), *_ = nm.disagreements()
    assert (first.start, first.source, second.start, second.source) == (
        2020,
        "rapport-2024.txt",
        2021,
        "rapport-2025.txt",
    )
    rebonds = cat.find("Rebonds")
    assert rebonds is not None and rebonds.start == 2023


def test_catalogue_round_trips_through_its_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cat = catalogue()
    cat.save(tmp_path)
    loaded = Catalogue.load(tmp_path)
    assert loaded is not None and loaded.to_json() == cat.to_json()
    assert Catalogue.load(tmp_path / "missing") is None


def test_question_shapes() -> None:
    cat = catalogue()
    shape = recognise("Comment Nouvelles Mesures a-t-il évolué entre 2022 et 2025 ?", cat)
    assert shape and shape.kind == "timeline" and (shape.year_min, shape.year_max) == (2022, 2025)
    for asked in ("Quand Rebonds a-t-il commencé ?", "Rebonds, ça a commencé quand ?", "et ça a démarré quand, Rebonds ?"):
        shape = recognise(asked, cat)
        assert shape and shape.kind == "timeline" and shape.programmes[0].name == "Rebonds", asked
    shape = recognise("Quels programmes ont été lancés depuis 2019 ?", cat)
    assert shape and (shape.kind, shape.target, shape.year_min) == ("list", "programmes", 2019)
    shape = recognise("Which programmes did Bloomberg Philanthropies support?", cat)
    assert shape and shape.target == "programmes" and "Bloomberg" in shape.partner
    shape = recognise("Quels partenaires pour Rebonds ?", cat)
    assert shape and (shape.target, shape.programmes[0].name) == ("partners", "Rebonds")
    shape = recognise("Qui finance Nouvelles Mesures ?", cat)
    assert shape and shape.target == "funders"
    shape = recognise("Quelle différence entre Rebonds et Tronc Commun ?", cat)
    assert shape and shape.kind == "comparison" and len(shape.programmes) == 2
    shape = recognise("Avec quelles collectivités avons-nous travaillé sur les forêts ?", cat)
    assert shape and shape.target == "partners" and shape.topic == ["foret"]
    assert recognise("Qu'est-ce que la réglementation des achats publics ?", cat) is None
    assert recognise("c koi Rebonds", cat) is None  # a definition: ordinary retrieval answers it


def _markers(text: str) -> list[int]:
    import re

    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def test_timeline_is_ordered_by_year_with_a_citation_per_step() -> None:
    cat = catalogue()
    by_id = {c.id: c for c in chunks()}
    q = "Comment Nouvelles Mesures a-t-il évolué ?"
    shape = recognise(q, cat)
    assert shape is not None
    reply = answer(shape, q, cat, by_id)
    assert reply is not None
    steps = [line for line in reply.text.splitlines() if line.startswith("- ")]
    assert [s[2:6] for s in steps] == ["2024", "2025"]
    assert all(_markers(s) for s in steps)
    assert "ne concordent pas" in reply.text and "2020" in reply.text and "2021" in reply.text
    assert max(_markers(reply.text)) == len(reply.cited)


def test_lists_cite_each_item() -> None:
    cat = catalogue()
    by_id = {c.id: c for c in chunks()}
    q = "Quels programmes ont été lancés depuis 2019 ?"
    shape = recognise(q, cat)
    assert shape is not None
    reply = answer(shape, q, cat, by_id)
    assert reply is not None
    items = [line for line in reply.text.splitlines() if line.startswith("- ")]
    names = [line[2:].split(" (")[0] for line in items]
    assert set(names) == {
        "Rebonds",
        "Tronc Commun",
        "Nouvelles Mesures",
    }  # La Transfo (2011), Eclaireurs (2015): before
    for line in items:
        (n,) = _markers(line)
        assert reply.cited[n - 1].year is not None
    q = "Which programmes did Bloomberg Philanthropies support?"
    shape = recognise(q, cat)
    assert shape is not None
    reply = answer(shape, q, cat, by_id, language="en")
    assert reply is not None and reply.text.splitlines()[1].startswith("- La Transfo")
    assert "Bloomberg" in reply.cited[0].text
    q = "Avec quelles collectivités avons-nous travaillé sur les forêts ?"
    shape = recognise(q, cat)
    assert shape is not None
    reply = answer(shape, q, cat, by_id)
    assert reply is not None
    assert "Communauté de communes du Vercors" in reply.text and "ADEME" not in reply.text


def test_nothing_known_means_no_catalogue_answer() -> None:
    cat = catalogue()
    # A body the catalogue does not know: ordinary retrieval answers (or refuses), not a made-up list.
    assert recognise("Quels programmes avec la Fondation Inconnue ?", cat) is None
    assert recognise("Quels partenaires ?", Catalogue([])) is None


def test_ordinary_questions_stay_with_retrieval() -> None:
    cat = catalogue()
    # "La 27e Région" is the publisher, not a place; a singular "avec quelle ville" wants one fact, not a list.
    assert recognise("Depuis quand La 27e Région est-elle une association indépendante ?", cat) is None
    assert recognise("Qui a rejoint l'équipe de La 27e Région fin août 2022 ?", cat) is None
    assert recognise("Avec quelle ville La 27e Région a-t-elle mené l'expérience des mégotiers ?", cat) is None
    # Projects inside one programme are not the catalogue's list of programmes.
    assert recognise("Quels projets concrets illustrent La Transfo ?", cat) is None


def test_a_partner_list_across_publications_says_which_names_which() -> None:
    cat = catalogue()
    by_id = {c.id: c for c in chunks()}
    q = "Les rapports 2024 et 2025 donnent-ils les mêmes partenaires pour Nouvelles Mesures ?"
    shape = recognise(q, cat)
    assert shape is not None and shape.by_year and shape.target == "partners"
    reply = answer(shape, q, cat, by_id)
    assert reply is not None
    assert "- Fondation de France (2024)" in reply.text and "- Ville de Clermont-Ferrand (2025)" in reply.text
    assert reply.text.splitlines()[-1].startswith("Nommés dans une seule publication")


MORE = {
    ("rapport-2022.txt", 2022): [
        "Capacités Publiques est un programme sur les organisations. Le programme a embarqué 3 organisations "
        "publiques : la Communauté urbaine de Dunkerque, la communauté d'agglomération de  Cergy-Pontoise, "
        "le lab La Piste (Département de l'Isère).",
        "Avec le programme Territoires en Communs, l'ANCT accompagne quatre collectivités (Vaison-la-Romaine, "
        "Thiers et la communauté de communes de la Vallée de Kaysersberg) pour concevoir une politique locale.",
        "Lieux Communs est un programme sur la gestion en commun de lieux, avec la Ville de Sevran.",
    ],
    ("rapport-2024.txt", 2024): [
        "Territoires en commun est un programme de l'ANCT : entre 2022 et 2023, quatre territoires y ont participé.",
        "Nous avons lancé le programme Tronc Commun sur les forêts, avec le Parc naturel régional des Boucles. "
        "Nous avons été retenus dans le cadre du programme européen Erasmus+ pour des voyages en 2025-2026. "
        "Le programme est porté par un consortium qui comprend la ville de Paris et l'association Aequitaz.",
        "Tronc Commun a tenu un atelier. Intervention pour le programme sud-africain d'échanges urbains, "
        "animé par le Ministère de l'économie d'Afrique du Sud, 3 mai.",
        "En 2019, Tel Aviv a lancé Hazira, un programme inspiré de Tronc Commun. Une agence créée avec le soutien "
        "de Bloomberg Philanthropies aide 14 territoires. Tronc Commun a reçu le soutien de Bloomberg "
        "Philanthropies en 2024 pour sa première phase.",
    ],
}


def more_chunks() -> list[Chunk]:
    return [
        Chunk(
            id=f"{source}-{i}",
            source=source,
            text=text,
            page=None,
            heading="",
            start=0,
            end=len(text),
            title=f"Rapport {year}",
            year=year,
        )
        for (source, year), texts in MORE.items()
        for i, text in enumerate(texts)
    ]


def test_bodies_written_in_lower_case_and_lists_in_brackets() -> None:
    cat = build_catalogue(more_chunks())
    capacites = cat.find("Capacités Publiques")
    assert capacites is not None
    partners = {f.value for f in capacites.partners}
    assert {"Communauté d'agglomération de Cergy-Pontoise", "Communauté urbaine de Dunkerque"} <= partners
    assert "Communauté" not in partners  # a name cut at its first lower-case word
    # "Territoires en Communs" (plural, capital) is the programme the 2024 report calls "Territoires en commun".
    tec = cat.find("Territoires en commun")
    assert tec is not None and tec.years == [2022, 2024]
    assert {"Vaison-la-Romaine", "Thiers", "Communauté de communes de la Vallée de Kaysersberg"} <= {
        f.value for f in tec.partners
    }


def test_a_body_name_goes_on_in_lower_case_up_to_its_end() -> None:
    """« Direction des achats de l'État », « ministère de la transition écologique »: the whole name, not its head."""
    from assistant27.programmes import organisations

    found = organisations(
        "Le programme associe la Direction des achats de l'Etat, la Métropole européenne de Lille et le "
        "Commissariat général au développement durable (CGDD) ; il est co-financé par le ministère de "
        "l'agriculture et le ministère de la transition écologique via un appel à projets."
    )
    assert found == [
        "Direction des achats de l'Etat",
        "Métropole européenne de Lille",
        "Commissariat général au développement durable",
        "CGDD",
        "Ministère de l'agriculture",
        "Ministère de la transition écologique",
    ]
    # A head followed by a clause is not a name; a kind of body alone is not one either.
    assert organisations("En 2019, le Centre a ouvert ses portes.") == []
    assert organisations("La convention a été signée par le Parc naturel régional.") == []
    # « co-financé par le ministère de l'agriculture »: a funder, though its name is written in lower case.
    tronc = catalogue().find("Tronc Commun")
    assert tronc is not None and "Ministère de l'agriculture" in {f.value for f in tronc.funders}
    # A list item cut at its first lower-case word, leaving only the kind of body, is no partner.
    from assistant27.programmes import enumerated

    assert "Parc" not in enumerated("Tronc Commun associe le Parc naturel régional (PNR) des Boucles de la Seine.")


def test_le_programme_after_another_programme_is_that_one() -> None:
    tronc = build_catalogue(more_chunks()).find("Tronc Commun")
    assert tronc is not None
    # "Le programme est porté par ..." follows "le programme européen Erasmus+": not Tronc Commun's consortium.
    assert not {"Ville de Paris", "Aequitaz"} & {f.value for f in tronc.partners}
    # "le programme sud-africain" is another programme, not an anaphora of Tronc Commun.
    assert not any("sud-africain" in m.sentence for m in tronc.mentions if m.named)


def test_topic_and_partner_lists_quote_what_says_it() -> None:
    cat = build_catalogue(more_chunks())
    by_id = {c.id: c for c in more_chunks()}
    q = "Quels programmes ont porté sur les communs ?"
    shape = recognise(q, cat)
    assert shape is not None
    reply = answer(shape, q, cat, by_id)
    assert reply is not None
    names = [line[2:].split(" (")[0] for line in reply.text.splitlines() if line.startswith("- ")]
    assert "Lieux Communs" in names  # the topic is in its name
    q = "Which programmes did Bloomberg Philanthropies support?"
    shape = recognise(q, cat)
    assert shape is not None
    reply = answer(shape, q, cat, by_id, language="en")
    assert reply is not None
    # The sentence that names both, not the Hazira sentence that names them on either side of a full stop.
    assert "première phase" in reply.quotes[0] and "Hazira" not in reply.quotes[0]


def test_a_programme_list_adds_what_the_passages_found_say_of_the_partner() -> None:
    """A retrieved sentence that names the partner but no listed programme is added after the items, cited."""
    from assistant27.schema import Passage

    cat = catalogue()
    by_id = {c.id: c for c in chunks()}
    extra = Chunk(
        id="extra",
        source="rapport-2024.txt",
        text="Nous avons été retenus par la Fondation Bloomberg Philanthropies pour des visites en 2025-2026. "
        "La Transfo a aussi reçu le soutien de la Fondation Bloomberg Philanthropies.",
        page=None,
        heading="",
        start=0,
        end=10,
        title="Rapport 2024",
        year=2024,
    )
    by_id[extra.id] = extra
    unrelated = by_id["rapport-2024.txt-0"]
    found = [Passage.of(extra, rank=1), Passage.of(unrelated, rank=2)]
    q = "Quels programmes ont été soutenus par Bloomberg Philanthropies ?"
    shape = recognise(q, cat)
    assert shape is not None
    reply = answer(shape, q, cat, by_id, retrieved=found)
    assert reply is not None
    lines = reply.text.splitlines()
    assert lines[1].startswith("- La Transfo") and lines[2] == "Aussi dans les passages retrouvés :"
    (n,) = _markers(lines[3])
    assert "2025-2026" in lines[3] and reply.cited[n - 1].id == "extra"
    assert len(lines) == 4  # one sentence a passage; the Rebonds passage names no Bloomberg
    assert "Aussi" not in (answer(shape, q, cat, by_id) or reply).text  # nothing retrieved, nothing added


def test_partners_of_a_programme_from_a_passage_about_it_that_names_them_lines_away() -> None:
    """The page's sub-heading 'Exploration en partenariat avec l'ANCT' is far from the programme's name."""
    from assistant27.schema import Passage

    cat = catalogue()
    by_id = {c.id: c for c in chunks()}
    page = Chunk(
        id="page",
        source="rapport-2024.txt",
        text="Exploration en partenariat avec l'ANCT\nDans quelle mesure les communs peuvent-ils inspirer les "
        "collectivités ? Nous organisons une série d'ateliers pour sensibiliser ces acteurs. L'ensemble est "
        "documenté sur le blog de Rebonds.",
        page=None,
        heading="",
        start=0,
        end=10,
        title="Rapport 2024",
        year=2024,
    )
    by_id[page.id] = page
    q = "Avec quelles agences nationales Rebonds a-t-il travaillé ?"
    shape = recognise(q, cat)
    assert shape is not None and shape.target == "partners"
    reply = answer(shape, q, cat, by_id, retrieved=[Passage.of(page, rank=1)])
    assert reply is not None
    line = next(line for line in reply.text.splitlines() if line.startswith("- ANCT"))
    (n,) = _markers(line)
    assert reply.cited[n - 1].id == "page"
    without = answer(shape, q, cat, by_id)  # the catalogue alone does not know it
    assert without is None or "ANCT" not in without.text


def _reply_from_one_publication(texts: list[str], year: int, question: str, kind: str) -> CatalogueAnswer:
    """The catalogue answer to `question` over one publication of `year` whose chunks are `texts`."""
    found = [
        Chunk(id=f"p-{i}", source="p.txt", text=t, page=None, heading="", start=0, end=len(t), title="P", year=year)
        for i, t in enumerate(texts)
    ]
    cat = build_catalogue(found)
    shape = recognise(question, cat)
    assert shape is not None and shape.kind == kind
    reply = answer(shape, question, cat, {c.id: c for c in found})
    assert reply is not None
    return reply


def test_a_topic_list_quotes_what_a_programme_named_after_the_topic_says_of_it() -> None:
    """« Lieux Communs » is on a list about « communs » by its name; its quote is the sentence that speaks of
    communs beyond the name, not the dated one the list would otherwise take."""
    texts = [
        "Le programme Lieux Communs a tenu trois ateliers à Sevran en mars 2022.",
        "Lieux Communs accompagne les bailleurs qui veulent gérer leurs locaux résidentiels comme des communs.",
    ]
    reply = _reply_from_one_publication(texts, 2022, "Quels programmes ont porté sur les communs ?", "list")
    line = next(line for line in reply.text.splitlines() if line.startswith("- Lieux Communs"))
    assert "comme des communs" in line and "ateliers" not in line


def test_a_timeline_quotes_the_dated_list_under_a_heading_that_names_the_programme() -> None:
    """« LES QUATRE TRANSFO / DÉJÀ MENÉES / Bourgogne (2011-2013) / ... »: the heading alone is too short to be a
    step; with its dated items (their subtitles left out, marked) it says in what order the programme ran."""
    texts = [
        "La Transfo est un programme inter-régional initié en 2011 par La 27e Région avec quatre Régions.",
        "LES QUATRE TRANSFO\nDÉJÀ MENÉES\nBourgogne (2011-2013)\nImmersion prospective dans la ruralité\n"
        "Champagne-Ardenne (2011-2014)\nRepenser les politiques jeunesse\nPays de la Loire (2012-2014)\n"
        "La prospective au service de l'innovation\nLes résidents travaillent avec les agents pendant dix semaines.",
    ]
    q = "Dans quel ordre les premières Transfo ont-elles été menées ?"
    reply = _reply_from_one_publication(texts, 2014, q, "timeline")
    step = "LES QUATRE TRANSFO DÉJÀ MENÉES … Bourgogne (2011-2013) … Champagne-Ardenne (2011-2014) … Pays de la Loire"
    assert step in reply.text
    assert "Immersion" not in reply.text  # a subtitle between the items


def test_a_timeline_step_the_layout_cut_before_a_quote_mark_is_read_to_its_end() -> None:
    """« Lieux Communs est mené dans le cadre du projet / « Construire au futur » ... » ends on the next lines: the
    step quotes the whole sentence, up to « Territoires d'innovation »."""
    texts = [
        "Le programme Lieux Communs prend appui sur l'expérimentation menée à Sevran de mars 2021 à décembre 2022.",
        "Lieux Communs est mené dans le cadre du projet\n« Construire au futur, habiter le futur » porté par\n"
        "La Région Île-de-France, lauréat de l'appel à projets national « Territoires d'innovation ».\n"
        "Nous organisons avec l'ANRU une série d'ateliers.",
    ]
    reply = _reply_from_one_publication(texts, 2022, "Quelles ont été les étapes de Lieux Communs ?", "timeline")
    assert "« Lieux Communs est mené dans le cadre du projet « Construire au futur, habiter le futur » porté par " in (
        reply.text
    )
    assert "« Territoires d'innovation ». » [" in reply.text  # read up to the sentence's end, not beyond


def test_a_timeline_step_after_a_line_ending_with_a_colon_is_quoted_with_it() -> None:
    """« 6 sessions ont été organisées en 2022 : / En juillet, ... »: the line before the step says what it is one of."""
    texts = [
        "Le programme Les Labonautes a été lancé début 2022 avec la DITP.",
        "Presque toutes les sessions des Labonautes ont fait l'objet d'un compte-rendu en ligne.\n"
        "6 sessions ont été organisées en 2022 :\n"
        "En juillet, les premiers enseignements ont été présentés et testés sur un groupe « miroir ».",
    ]
    reply = _reply_from_one_publication(texts, 2022, "Comment s'est déroulée l'année 2022 des Labonautes ?", "timeline")
    assert "« 6 sessions ont été organisées en 2022 : En juillet, les premiers enseignements" in reply.text


def test_associe_says_with_whom_not_what_about() -> None:
    """« A quels programmes X a-t-il été associé ? » asks for the programmes run with X: « associé » is no topic
    (as a topic it found no programme, and the question went to the generator)."""
    shape = recognise("A quels programmes le Parc naturel régional des Boucles a-t-il été associé ?", catalogue())
    assert shape is not None and shape.kind == "list" and shape.target == "programmes"
    assert "boucles" in shape.partner_words and shape.topic == []


def test_a_question_asking_what_a_programme_is_finds_the_sentence_that_says_it() -> None:
    from assistant27.programme_answers import defining_mention

    cat = catalogue()
    for q in ("C'est quoi La Transfo ?", "Qu'est-ce que La Transfo ?", "What is La Transfo?", "c koi la transfo"):
        mention = defining_mention(q, cat)
        assert mention is not None and mention.sentence.startswith("La Transfo est un programme inter-régional"), q
    mention = defining_mention("Qu'est-ce que Nouvelles Mesures ?", cat)
    assert mention is not None and "vise à repenser les outils de gestion" in mention.sentence
    assert defining_mention("Qui finance La Transfo ?", cat) is None  # not a question of what it is
    assert defining_mention("C'est quoi la différence entre Rebonds et Tronc Commun ?", cat) is None  # two named


# --- general rules, measured on publications the catalogue was not written from (issue 16) -----------------


def _one_publication(*texts: str, year: int = 2031) -> Catalogue:
    found = [
        Chunk(id=f"p-{i}", source="p.txt", text=t, page=None, heading="", start=0, end=len(t), title="P", year=year)
        for i, t in enumerate(texts)
    ]
    return build_catalogue(found, ["Exemple"])


def test_a_name_seen_only_in_capitals_after_its_cue_is_found_in_title_case_elsewhere() -> None:
    # Named once after its cue, in capitals: without its title-case mentions it looked named once, in passing.
    cat = _one_publication(
        "Le programme JARDINS COMMUNS porte sur la gouvernance des forêts et des sols agricoles du territoire.",
        "Jardins Communs s'inscrit dans une réflexion de long terme sur les communs fonciers et leurs usages.",
    )
    p = cat.find("Jardins Communs")
    assert p is not None and p.name == "Jardins Communs"
    assert len([m for m in p.mentions if m.named]) == 2


def test_a_hyphenated_compound_names_another_programme() -> None:
    cat = _one_publication(
        "Archipel est un programme de recherche-action mené avec la Ville de Valcourt depuis plusieurs années.",
        "Le Post-Archipel a réuni la Ville de Montclair et la Métropole de Bourg autour de sessions dédiées.",
    )
    p = cat.find("Archipel")
    assert p is not None
    assert not any("Post-Archipel" in m.sentence for m in p.mentions if m.named)
    assert not any("Montclair" in f.value for f in p.partners)


def test_a_sentence_saying_who_did_not_follow_the_programme_gives_it_no_partner() -> None:
    cat = _one_publication(
        "Archipel est un programme de recherche-action mené en partenariat avec la Ville de Valcourt. "
        "Le travail a porté sur l'accueil des usagers dans les services publics locaux. "
        "D'autres collectivités n'ayant pas suivi le programme mais engagées de leur côté ont été invitées : "
        "il s'agit de la Ville de Montclair et de la Métropole de Bourg."
    )
    p = cat.find("Archipel")
    assert p is not None
    partners = [f.value for f in p.partners]
    assert "Ville de Valcourt" in partners
    assert not any("Montclair" in v or "Bourg" in v for v in partners)


def test_le_programme_followed_by_mais_still_points_back_to_the_programme() -> None:
    # « mais » ends like an adjective of origin (« sud-africain », « français »): it was read as « le programme
    # français », another programme.
    cat = _one_publication(
        "Archipel est un programme de recherche-action mené avec la Ville de Valcourt depuis plusieurs années.",
        "Nous avons prolongé le programme mais avec de nouveaux partenaires comme la Ville de Montclair.",
    )
    p = cat.find("Archipel")
    assert p is not None
    assert any("prolongé le programme mais" in m.sentence for m in p.mentions if m.named)


def test_a_heading_that_the_next_line_defines_is_a_name() -> None:
    cat = _one_publication(
        "Nos réseaux\nLes Veilleurs Publics\nUn réseau international de pionniers de l'innovation publique "
        "co-fondé par Exemple."
    )
    assert [p.name for p in cat.programmes] == ["Les Veilleurs Publics"]


def test_a_name_cut_by_a_line_break_in_prose_is_not_taken_for_its_tail() -> None:
    cat = _one_publication(
        "En juillet, nous avons aidé l'agence à expliciter la méthode Grand\nDéfi, un programme conçu pour "
        "accélérer la transformation écologique d'une filière."
    )
    assert cat.find("Défi") is None


def test_a_name_in_apposition_to_its_cue_is_a_name() -> None:
    cat = _one_publication(
        "Nous restons engagés comme caution solidaire de notre ancien projet de tiers-lieux collectifs, les Halles "
        "Vives. Cette affaire nous oppose à l'ancien bailleur du lieu.",
        "Déficit estimé (hors procédure Halles Vives) : 10 000 euros.",
    )
    assert [p.name for p in cat.programmes] == ["Halles Vives"]


def test_a_sentence_opening_is_no_name() -> None:
    cat = _one_publication(
        "Chaque programme vise à interroger en profondeur une politique publique ou un ensemble de pratiques.",
        "Pour chaque piste, un projet est mené avec les agents. Programme : une journée de restitution.",
    )
    assert cat.programmes == []


def test_a_list_qualified_by_what_the_passages_do_not_say_goes_to_the_general_path() -> None:
    cat = catalogue()
    assert recognise("Quelles collectivités ont participé au programme Rebonds ?", cat) is not None
    # Nothing of the catalogue says which are Italian, Norman or Spanish: a list of all would be no answer.
    assert recognise("Quelles villes italiennes ont participé au programme Rebonds ?", cat) is None
    assert recognise("quelle ville normande a participe a Rebonds ?", cat) is None
    assert recognise("Which Spanish cities are among the partners of Rebonds?", cat) is None
    # The level of a body is part of its name (« Agence nationale ... »): still a list of partners.
    shape = recognise("Avec quelles agences nationales Rebonds a-t-il travaillé ?", cat)
    assert shape is not None and shape.target == "partners"


def test_a_longer_name_or_an_origin_question_goes_to_the_general_path() -> None:
    cat = catalogue()
    assert recognise("Which places are part of the 'Rebonds Santé' programme?", cat) is None
    shape = recognise("Where does the name Rebonds come from?", cat)
    assert shape is None or shape.target != "places"
    shape = recognise("D'où vient le nom Rebonds ?", cat)
    assert shape is None or shape.target != "places"
    shape = recognise("Où le programme Rebonds a-t-il été mené ?", cat)
    assert shape is not None and shape.target == "places"
