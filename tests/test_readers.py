"""Readers: each format to sections, metadata precedence, errors that name the file, corpus discovery."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
from datetime import datetime
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.errors import DependencyError

from assistant27.errors import ReadError
from assistant27.readers import (
    EMPTY_FILE_WARNING,
    NO_TEXT_LAYER_WARNING,
    SUPPORTED_SUFFIXES,
    CatalogueEntry,
    find_publications,
    load_catalogue,
    read_publication,
    remove_running_lines,
    split_markdown,
)
from assistant27.schema import Publication

DATA = Path(__file__).parent / "data"
CORPUS = Path(__file__).parents[1] / "corpus"


def make_pdf(pages: list[str], title: str | None = None, creation: str | None = None, font: bytes = b"") -> bytes:
    """A minimal valid PDF of Helvetica text, lines split on "\\n" ("" makes a page with no text); `font` is added
    to the font's dictionary (an /Encoding pypdf cannot read)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(len(pages))), len(pages)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica%s >>" % (b" " + font if font else b""),
    ]
    for i, text in enumerate(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        shown = b" 0 -14 Td ".join(b"(%s) Tj" % line.encode("latin-1") for line in escaped.split("\n"))
        stream = b"BT /F1 12 Tf 72 720 Td %s ET" % shown if text else b""
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    info = b""
    if title or creation:
        fields = ([b"/Title (%s)" % title.encode("latin-1")] if title else []) + (
            [b"/CreationDate (%s)" % creation.encode("latin-1")] if creation else []
        )
        objects.append(b"<< " + b" ".join(fields) + b" >>")
        info = b" /Info %d 0 R" % len(objects)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (len(objects) + 1, info))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def with_page_labels(pdf: bytes, *ranges: tuple[int, int, str, int]) -> bytes:
    """The PDF with printed page numbers: (first page, last page (0-based), pypdf style, start) for each range."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for first, last, style, start in ranges:
        writer.set_page_label(first, last, style=style, start=start)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def joined(*pdfs: bytes) -> bytes:
    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(io.BytesIO(pdf)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypt(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password, owner_password="owner-secret")  # RC4: no `cryptography` needed
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read(path: Path, corpus: Path | None = None, catalogue: dict[str, CatalogueEntry] | None = None) -> Publication:
    return read_publication(path, corpus or path.parent, catalogue or {})


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


# --- PDF ---------------------------------------------------------------------------------------


def test_committed_pdf_fixture_is_what_the_generator_makes() -> None:
    expected = make_pdf(
        ["Bonjour page un (alpha)", "Page deux : beta"],
        title="Titre des metadonnees",
        creation="D:20180314120000+01'00'",
    )
    assert (DATA / "two-pages.pdf").read_bytes() == expected


def test_pdf_gives_one_section_per_page_with_metadata() -> None:
    pub = read(DATA / "two-pages.pdf")
    assert [s.page for s in pub.sections] == [1, 2]
    assert pub.sections[0].text == "Bonjour page un (alpha)"
    assert pub.sections[1].text == "Page deux : beta"
    assert pub.source == "two-pages.pdf"
    assert pub.title == "Titre des metadonnees"
    assert pub.year == 2018
    assert pub.kind == "publication"
    assert pub.content_hash == hashlib.sha256((DATA / "two-pages.pdf").read_bytes()).hexdigest()
    assert pub.warnings == []


def test_pdf_pages_keep_their_printed_labels_where_they_differ_from_the_position(tmp_path: Path) -> None:
    """Two roman-numbered front pages, then the body numbered from 1: the printed number goes with each page whose
    position says otherwise; a PDF without /PageLabels gives none."""
    pages = ["Preface du guide.", "Sommaire detaille.", "Premier chapitre.", "Second chapitre.", "Annexe."]
    pdf = with_page_labels(make_pdf(pages), (0, 1, "/r", 1), (2, 3, "/D", 1), (4, 4, "/D", 5))
    pub = read(write(tmp_path / "guide.pdf", pdf))
    assert [(s.page, s.page_label) for s in pub.sections] == [(1, "i"), (2, "ii"), (3, "1"), (4, "2"), (5, "")]
    assert all(s.page_label == "" for s in read(DATA / "two-pages.pdf").sections)


def test_pypdf_font_warnings_become_one_summary_per_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fonts pypdf cannot map make it log a line per font and page; reading counts the pages instead, and says so
    once. The text is still read."""
    bad = make_pdf(["Page deux.", "Page trois."], font=b"/Encoding << /Differences 5 >>")
    pdf = joined(make_pdf(["Page une."]), bad)
    with caplog.at_level(logging.DEBUG):
        pub = read(write(tmp_path / "mal-fait.pdf", pdf))
    assert [s.text for s in pub.sections] == ["Page une.", "Page deux.", "Page trois."]
    assert len(pub.warnings) == 1
    assert pub.warnings[0].startswith("2 of 3 pages had font or encoding problems (pages 2, 3; pypdf: « Font encoding")
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert "encoding" not in capsys.readouterr().err
    assert logging.getLogger("pypdf").propagate and not logging.getLogger("pypdf").handlers  # left as found


def test_pdf_page_without_text_keeps_its_place(tmp_path: Path) -> None:
    path = write(tmp_path / "mixed.pdf", make_pdf(["Texte", "", "Encore"]))
    pub = read(path)
    assert [(s.page, s.text) for s in pub.sections] == [(1, "Texte"), (2, ""), (3, "Encore")]
    assert pub.warnings == []


def test_pdf_running_header_and_footer_are_removed(tmp_path: Path) -> None:
    header, footer = "Guide de la concertation", "Guide de la concertation {} / 12"
    bodies = [
        ["Premier point du guide.", "La mairie ouvre le dossier.", "Suite du premier point."],
        ["Voir le tableau de synthese.", "Le jury se reunit en mai.", "Suite du deuxieme point."],
        ["Voir le tableau de synthese.", "Le Guide de la concertation date de 2019.", "Fin du troisieme point."],
        ["Le vote a lieu en juin.", "Les habitants sont invites.", "Fin du quatrieme point."],
        ["Annexe : contacts.", "Le service repond en une semaine.", "Fin du guide."],
    ]
    pages = ["\n".join([header, *body, footer.format(n)]) for n, body in enumerate(bodies, start=3)]
    pub = read(write(tmp_path / "guide.pdf", make_pdf(pages)))
    assert [s.text for s in pub.sections] == ["\n".join(body) for body in bodies]
    # A body line on two pages and the header's words inside a sentence are content: they stay.
    assert pub.sections[2].text.startswith("Voir le tableau de synthese.\nLe Guide de la concertation date")
    assert [s.page for s in pub.sections] == [1, 2, 3, 4, 5]
    assert pub.warnings == []
    assert pub.repairs == {"running_header_footer": 10}  # counted, so ingestion reports them with its repairs


def test_pdf_bare_page_numbers_go_roman_ones_too_but_a_number_in_the_text_stays(tmp_path: Path) -> None:
    bodies = [f"Ligne {word} de la page.\nAutre ligne {word}." for word in ("un", "deux", "trois", "quatre", "cinq")]
    numbers = ["iii", "iv", "1", "2", "3"]  # front matter numbered in roman numerals
    pages = [f"{body}\n{number}" for body, number in zip(bodies, numbers, strict=True)]
    pages[4] = "Tableau des effectifs\nAnnee | Agents\n2019 | 12\n2020 | 14\nTotal\n26\n3"
    pub = read(write(tmp_path / "rapport.pdf", make_pdf(pages)))
    assert [s.text for s in pub.sections] == [
        *bodies[:4],
        "Tableau des effectifs\nAnnee | Agents\n2019 | 12\n2020 | 14\nTotal\n26",  # only the outermost number
    ]


def test_running_lines_are_found_only_when_most_pages_share_them() -> None:
    short = ["Rapport\nTexte un.\nFin", "Rapport\nTexte deux.\nFin", "Rapport\nTexte trois.\nFin"]
    assert remove_running_lines(short) == (short, 0)  # under 4 pages: no evidence
    rare = ["Rapport\nA.", "Rapport\nB.", "Autre\nC.", "Autre\nD.", "Titre\nE.", "Titre\nF.", "Fin\nG."]
    assert remove_running_lines(rare) == (rare, 0)  # each header on 2 of 7 pages


def test_running_lines_alternating_on_odd_and_even_pages_are_removed() -> None:
    pages = [f"{'Guide' if n % 2 else 'Chapitre deux'}\nTexte {n}.\nSuite {n}.\n{n}" for n in range(1, 8)]
    assert remove_running_lines(pages) == ([f"Texte {n}.\nSuite {n}." for n in range(1, 8)], 14)


def test_running_lines_never_empty_a_page_nor_take_table_cells() -> None:
    pages = ["Guide\nTexte un.\n1", "Guide\n2", "Guide\nTexte trois.\n3", "Guide\nTexte quatre.\n4"]
    assert remove_running_lines(pages) == (["Texte un.", "Guide\n2", "Texte trois.", "Texte quatre."], 6)
    # « Oui » ends every page but is more often inside the pages: a table's cells, not a footer.
    table = [f"Question {w} | Reponse\nOui\nNon\nOui\nNon\nOui" for w in ("un", "deux", "trois", "quatre", "cinq")]
    assert remove_running_lines(table) == (table, 0)


def test_pdf_without_text_layer_is_kept_with_an_ocr_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "scan-2017.pdf", make_pdf(["", ""]))
    pub = read(path)
    assert [(s.page, s.text) for s in pub.sections] == [(1, ""), (2, "")]
    assert pub.warnings == [NO_TEXT_LAYER_WARNING]
    assert "ocrmypdf" in pub.warnings[0]
    assert (pub.title, pub.year) == ("Scan 2017", 2017)


def test_encrypted_pdf_raises_with_what_to_do(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.pdf", encrypt((DATA / "two-pages.pdf").read_bytes(), "pass"))
    with pytest.raises(ReadError) as error:
        read(path)
    assert str(error.value) == (
        "secret.pdf: the PDF is encrypted. Remove the password (e.g. qpdf --decrypt) and ingest again."
    )


def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "protected.pdf", encrypt((DATA / "two-pages.pdf").read_bytes(), ""))
    pub = read(path)
    assert [s.text for s in pub.sections] == ["Bonjour page un (alpha)", "Page deux : beta"]


def test_aes_pdf_without_cryptography_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def needs_cryptography(self: PdfReader, password: str) -> None:
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", needs_cryptography)
    path = write(tmp_path / "aes.pdf", encrypt((DATA / "two-pages.pdf").read_bytes(), ""))
    with pytest.raises(ReadError, match=r"^aes\.pdf: the PDF is encrypted with AES.*pip install cryptography"):
        read(path)


def test_truncated_pdf_raises_naming_the_file() -> None:
    with pytest.raises(ReadError, match=r"^truncated\.pdf: the PDF cannot be read \(.+\)\. It may be truncated"):
        read(DATA / "truncated.pdf")


def test_binary_file_named_pdf_raises() -> None:
    with pytest.raises(ReadError, match=r"^not-a-pdf\.pdf: not a PDF .*ingest again"):
        read(DATA / "not-a-pdf.pdf")


# --- empty, text, Markdown ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.txt", "empty.pdf", "empty.docx", "empty.html", "empty.md"])
def test_empty_file_gives_an_empty_publication_with_a_warning(tmp_path: Path, name: str) -> None:
    path = shutil.copy(DATA / "empty.txt", tmp_path / name)
    pub = read(Path(path))
    assert pub.sections == []
    assert pub.warnings == [EMPTY_FILE_WARNING]
    assert pub.content_hash == hashlib.sha256(b"").hexdigest()


def test_utf8_text_is_one_section_without_page(tmp_path: Path) -> None:
    path = write(tmp_path / "note.txt", "\n\nLa 27e Région\r\net les politiques publiques.\n\n")
    pub = read(path)
    assert len(pub.sections) == 1
    assert pub.sections[0].text == "La 27e Région\net les politiques publiques."
    assert (pub.sections[0].page, pub.sections[0].heading) == (None, "")
    assert pub.warnings == []


def test_latin1_text_is_decoded_with_a_warning() -> None:
    pub = read(DATA / "latin1.txt")
    assert pub.sections[0].text == "Rapport rédigé à Montréal : l’été des coopératives."
    assert len(pub.warnings) == 1
    assert "not UTF-8" in pub.warnings[0] and "cp1252" in pub.warnings[0]


def test_utf16_text_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path / "windows.txt", "Été à Nantes".encode("utf-16"))
    pub = read(path)
    assert pub.sections[0].text == "Été à Nantes"
    assert "UTF-16" in pub.warnings[0]


def test_binary_file_named_txt_raises(tmp_path: Path) -> None:
    path = write(tmp_path / "image.txt", bytes(range(256)) * 8)
    with pytest.raises(ReadError, match=r"^image\.txt: does not look like text"):
        read(path)


def test_markdown_is_split_by_headings() -> None:
    pub = read(DATA / "notes.md")
    assert [(s.heading, s.text) for s in pub.sections] == [
        ("", "Introduction avant tout titre."),
        ("Première partie", "Texte de la première partie.\n\n```\n# pas un titre : c'est du code\n```"),
        ("Deuxième partie", "Texte de la deuxième partie."),
        ("Troisième partie", "Texte de la troisième partie."),
    ]
    assert all(s.page is None for s in pub.sections)
    assert (pub.title, pub.year) == ("Notes de terrain", 2021)  # from the front matter


def test_markdown_single_h1_is_the_title() -> None:
    sections, level_one = split_markdown("# Le titre\n\nTexte.\n\n## Partie\n\nSuite.")
    assert level_one == ["Le titre"]
    assert [s.heading for s in sections] == ["Le titre", "Partie"]


# --- HTML --------------------------------------------------------------------------------------


def test_html_keeps_the_article_and_drops_menus_scripts_and_footer() -> None:
    pub = read(DATA / "page.html")
    text = "\n".join(s.heading + "\n" + s.text for s in pub.sections)
    assert "recherche-action" in text and "laboratoires d'innovation publique" in text
    for noise in ("SCRIPT_A_NE_PAS_INDEXER", "AUTRE_SCRIPT", "MENU_PROGRAMMES", "PIED_DE_PAGE"):
        assert noise not in text
    assert [s.heading for s in pub.sections] == [
        "Les laboratoires d'innovation publique",
        "Une démarche de recherche-action",
    ]
    assert pub.sections[1].text.startswith("Le programme repose")
    assert pub.title == "Les laboratoires d'innovation publique"
    assert pub.language == "fr"
    assert pub.warnings == []


def test_html_line_breaks_separate_words(tmp_path: Path) -> None:
    page = (
        "<html><head><title>Lois</title></head><body><main><h2>La réglementation</h2>"
        "<p>Les dons de matériel sont encadrés par plusieurs textes, rappelés ci-dessous avec leurs dates.</p><ul>"
        "<li><strong>Loi de finances</strong> du 29 décembre 2020<br>Autorisation de dons de biens réformés</li>"
        "<li><strong>Loi Exemple</strong> du 15 novembre 2021<br/>Dons aux associations</li></ul></main></body></html>"
    )
    pub = read(write(tmp_path / "lois.html", page.encode()))
    text = "\n".join(s.text for s in pub.sections)
    assert "du 29 décembre 2020 Autorisation de dons" in text and "2021 Dons aux" in text


def test_html_without_body_text_warns() -> None:
    pub = read(DATA / "empty-body.html")
    assert pub.sections == []
    assert len(pub.warnings) == 1 and "no main text" in pub.warnings[0]
    assert pub.title == "Page vide"


# --- DOCX --------------------------------------------------------------------------------------


def save_docx(document: docx.document.Document, path: Path) -> Path:
    document.save(str(path))
    return path


def test_docx_headings_start_sections_and_tables_are_read(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "Bilan des résidences"
    document.core_properties.created = datetime(2016, 5, 4)
    document.add_paragraph("Avant-propos sans titre.")
    document.add_heading("Les résidences", level=1)
    document.add_paragraph("Une équipe s'installe trois semaines.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Région", "Durée"
    table.cell(1, 0).text, table.cell(1, 1).text = "Bretagne", "3 semaines"
    document.add_heading("Résultats", level=2)
    document.add_paragraph("Des prototypes testés.")
    pub = read(save_docx(document, tmp_path / "bilan.docx"))
    assert [(s.heading, s.text) for s in pub.sections] == [
        ("", "Avant-propos sans titre."),
        ("Les résidences", "Une équipe s'installe trois semaines.\n\nRégion | Durée\nBretagne | 3 semaines"),
        ("Résultats", "Des prototypes testés."),
    ]
    assert (pub.title, pub.year) == ("Bilan des résidences", 2016)
    assert all(s.page is None for s in pub.sections)


def test_docx_with_only_a_table_yields_text(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Calendrier 2020"
    for column, value in enumerate(["Janvier", "Février", "Mars"]):
        table.cell(1, column).text = value
    pub = read(save_docx(document, tmp_path / "calendrier-2020.docx"))
    assert [s.text for s in pub.sections] == ["Calendrier 2020\nJanvier | Février | Mars"]
    # python-docx's template says "created 2013": not trusted, so the name gives the year.
    assert (pub.title, pub.year) == ("Calendrier 2020", 2020)


def test_broken_docx_raises(tmp_path: Path) -> None:
    path = write(tmp_path / "ancien.docx", b"\xd0\xcf\x11\xe0 an old .doc renamed")
    with pytest.raises(ReadError, match=r"^ancien\.docx: not a readable DOCX .*save it as \.docx"):
        read(path)


def test_unsupported_suffix_raises(tmp_path: Path) -> None:
    path = write(tmp_path / "tableur.xlsx", b"PK")
    with pytest.raises(ReadError, match=r"^tableur\.xlsx: unsupported file type '\.xlsx'"):
        read(path)


# --- metadata ----------------------------------------------------------------------------------


def test_catalogue_wins_over_file_metadata_which_wins_over_the_name(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    pdf = (DATA / "two-pages.pdf").read_bytes()
    write(corpus / "rapports" / "rapport-2010.pdf", pdf)
    write(corpus / "autre-2011.pdf", pdf)
    write(corpus / "nom-seul-2012.pdf", make_pdf(["x"]))
    write(corpus / "titre-vide-2013.pdf", pdf)
    write(
        corpus / "catalogue.csv",
        "file,title,kind,year,language,publisher\n"
        "rapports/rapport-2010.pdf,Titre du catalogue,rapport d'activité,2009,fr,La 27e Région\n"
        "autre-2011.pdf,Autre titre,,,en,\n"
        "titre-vide-2013.pdf,,brochure,,,\n",
    )
    catalogue = load_catalogue(corpus / "catalogue.csv")
    by_source = {p.source: p for p in (read(path, corpus, catalogue) for path in find_publications(corpus))}
    catalogued = by_source["rapports/rapport-2010.pdf"]
    assert (catalogued.title, catalogued.year, catalogued.kind, catalogued.language) == (
        "Titre du catalogue",
        2009,
        "rapport d'activité",
        "fr",
    )
    partial = by_source["autre-2011.pdf"]  # catalogue title and language; year from the PDF
    assert (partial.title, partial.year, partial.kind, partial.language) == ("Autre titre", 2018, "publication", "en")
    empty_title = by_source["titre-vide-2013.pdf"]  # catalogue kind, PDF title and year
    assert (empty_title.title, empty_title.year, empty_title.kind) == ("Titre des metadonnees", 2018, "brochure")
    name_only = by_source["nom-seul-2012.pdf"]
    assert (name_only.title, name_only.year, name_only.kind, name_only.language) == (
        "Nom seul 2012",
        2012,
        "publication",
        "fr",
    )


def test_catalogue_row_matches_by_file_name_in_a_subfolder(tmp_path: Path) -> None:
    path = write(tmp_path / "2019" / "rapport-activite-2019.txt", "Du texte.")
    catalogue = {"rapport-activite-2019.txt": CatalogueEntry("Rapport d'activité 2019", "rapport", 2019, "fr")}
    pub = read(path, tmp_path, catalogue)
    assert pub.source == "2019/rapport-activite-2019.txt"
    assert (pub.title, pub.kind) == ("Rapport d'activité 2019", "rapport")


def test_title_and_year_from_the_file_name(tmp_path: Path) -> None:
    pub = read(write(tmp_path / "rapport-activite_2019.txt", "Texte."))
    assert (pub.title, pub.year, pub.kind, pub.language) == ("Rapport activite 2019", 2019, "publication", "fr")
    assert read(write(tmp_path / "notes.txt", "Texte.")).year is None


def test_language_is_detected_when_not_catalogued(tmp_path: Path) -> None:
    english = "The region and the state are working on the future of public policy, with the people."
    assert read(write(tmp_path / "en.txt", english)).language == "en"
    french = "La Région et les agents travaillent sur les politiques publiques."
    assert read(write(tmp_path / "fr.txt", french)).language == "fr"


def test_load_catalogue_skips_bad_rows_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(
        tmp_path / "catalogue.csv",
        "\ufefffile,title,kind,year,language,publisher\n"
        "bon.pdf,Bon,rapport,2020,FR,X\n"
        ",Sans fichier,rapport,2020,fr,X\n"
        "annee.pdf,Année fausse,rapport,vingt,fr,X\n"
        "bon.pdf,Doublon,rapport,2021,fr,X\n"
        "\n"
        "./sous/dossier.pdf,Dossier,,,,\n",
    )
    with caplog.at_level(logging.WARNING, logger="assistant27.readers"):
        catalogue = load_catalogue(path)
    assert catalogue == {
        "bon.pdf": CatalogueEntry("Bon", "rapport", 2020, "fr"),
        "sous/dossier.pdf": CatalogueEntry("Dossier", "", None, ""),
    }
    messages = "\n".join(r.getMessage() for r in caplog.records)
    assert "line 3: no file name" in messages
    assert "line 4: year 'vingt'" in messages
    assert "listed twice" in messages


def test_load_catalogue_missing_file_and_excel_variants(tmp_path: Path) -> None:
    assert load_catalogue(tmp_path / "absent.csv") == {}
    path = write(
        tmp_path / "catalogue.csv", "file;title;kind;year;language\nété.pdf;Été;brochure;2015;fr\n".encode("cp1252")
    )
    assert load_catalogue(path) == {"été.pdf": CatalogueEntry("Été", "brochure", 2015, "fr")}


# --- finding files -----------------------------------------------------------------------------


def test_find_publications_is_recursive_sorted_and_skips_what_it_should(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    outside = write(tmp_path / "outside" / "secret.txt", "hors corpus")
    for name in ("b.pdf", "a.TXT", "sous/c.md", "sous/d.html", "sous/e.htm", "f.docx"):
        write(corpus / name, "x")
    for name in ("catalogue.csv", "notes.csv", ".cache.txt", ".git/HEAD.txt", "~$f.docx", "image.png"):
        write(corpus / name, "x")
    os.symlink(corpus / "b.pdf", corpus / "lien-dedans.pdf")
    os.symlink(outside, corpus / "lien-dehors.txt")
    os.symlink(corpus / "absent.txt", corpus / "lien-casse.txt")
    os.symlink(outside.parent, corpus / "dossier-dehors")
    found = [p.relative_to(corpus).as_posix() for p in find_publications(corpus)]
    assert found == ["a.TXT", "b.pdf", "f.docx", "lien-dedans.pdf", "sous/c.md", "sous/d.html", "sous/e.htm"]
    assert find_publications(tmp_path / "absent") == []
    assert set(SUPPORTED_SUFFIXES) == {".pdf", ".txt", ".md", ".html", ".htm", ".docx"}


# --- the real corpus ---------------------------------------------------------------------------


@pytest.mark.slow
def test_real_corpus_is_read_with_catalogue_metadata() -> None:
    catalogue = load_catalogue(CORPUS / "catalogue.csv")
    publications = [read_publication(path, CORPUS, catalogue) for path in find_publications(CORPUS)]
    assert [(p.source, p.year) for p in publications] == [
        ("presentation-la-27e-region-2014.txt", 2014),
        ("rapport-activite-2019.txt", 2019),
        ("rapport-activite-2022.txt", 2022),
        ("rapport-activite-2024.txt", 2024),
        ("rapport-activite-2025.txt", 2025),
    ]
    titles = {p.source: p.title for p in publications}
    assert titles["rapport-activite-2019.txt"] == "Rapport d'activité 2019"
    assert titles["presentation-la-27e-region-2014.txt"].startswith("La 27 quoi ?")
    for pub in publications:
        assert pub.language == "fr" and pub.warnings == []
        assert len(pub.sections) == 1 and len(pub.sections[0].text) > 10_000
        assert len(pub.content_hash) == 64
