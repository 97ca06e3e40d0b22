"""Chunking: French sentence boundaries, sizes, overlap, headings, stable ids, offsets."""

from assistant27.chunking import chunk_publication, split_sentences
from assistant27.schema import Publication, Section


def pub(text: str, page: int | None = None) -> Publication:
    return Publication("a.txt", "A", "rapport", 2022, "fr", [Section(text, page)])


def test_no_sentence_cut_after_abbreviations() -> None:
    text = "Voir p. 12 et le n° 3 du rapport. M. Dupont a parlé, cf. annexe. Fin du texte."
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    assert sentences == ["Voir p. 12 et le n° 3 du rapport.", "M. Dupont a parlé, cf. annexe.", "Fin du texte."]


def test_heading_paragraphs_become_the_section_of_following_chunks() -> None:
    text = "Nouveaux Accords\n\nQuel est le point de départ ?\n\nLe programme porte sur le contrat de ville. Il dure un an."
    chunks = chunk_publication(pub(text))
    assert len(chunks) == 1
    assert chunks[0].heading == "Nouveaux Accords — Quel est le point de départ ?"


def test_a_section_heading_kept_apart_by_its_reader_opens_the_section_text() -> None:
    # HTML, DOCX and Markdown readers keep headings apart from the text: the name over a role must be searchable.
    team = Publication(
        "equipe.html", "Équipe", "page", 2023, "fr",
        [Section("Co-responsable de la mission, direction du numérique.", None, "Camille Exemple"),
         Section("Camille Exemple préside la séance. Elle ouvre les débats.", None, "Camille Exemple")],
    )
    first, second = chunk_publication(team)
    assert first.text == "Camille Exemple\nCo-responsable de la mission, direction du numérique."
    assert first.heading == "Camille Exemple"
    assert second.text.count("Camille Exemple") == 1  # a text already opened by its heading gets it once


def test_chunks_are_sized_overlap_and_map_back_to_offsets() -> None:
    sentence = "La Région expérimente une nouvelle politique publique avec ses agents et ses habitants. "
    text = sentence * 60  # about 780 words
    chunks = chunk_publication(pub(text), max_words=170, overlap_words=30)
    assert len(chunks) >= 5
    for c in chunks:
        assert 40 <= len(c.text.split()) <= 170
        assert " ".join(text[c.start : c.end].split()) == c.text
    assert chunks[1].start < chunks[0].end  # overlap


def test_ids_are_stable_and_unique_and_pages_kept() -> None:
    p = Publication(
        "b.pdf", "B", "rapport", 2020, "fr", [Section("Page un. Du texte.", 1), Section("Page un. Du texte.", 2)]
    )
    first, again = chunk_publication(p), chunk_publication(p)
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == 2
    assert [c.page for c in first] == [1, 2]


def test_long_unpunctuated_runs_are_cut() -> None:
    urls = "\n".join(f"https://example.org/page-{i}" for i in range(400))
    chunks = chunk_publication(pub(urls), max_words=170)
    assert all(len(c.text.split()) <= 170 for c in chunks) and len(chunks) >= 3
