"""Bad input never breaks the index: each odd file is skipped or handled with a clear message, the rest is ingested."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA

from assistant27.cli import main
from assistant27.config import Settings
from assistant27.indexing import MAX_CHARACTERS, load_manifest

BAD = DATA / "bad"
ACCENTED_NAME = "Rapport d'été \"final\" 2023.txt"


def _pdf_encrypted(folder: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(DATA / "two-pages.pdf"))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    path = folder / "encrypted.pdf"
    with path.open("wb") as f:
        writer.write(f)
    return path


def _pdf_scanned(folder: Path) -> Path:
    # A page with no text content: what a scan without OCR gives the text extractor.
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    path = folder / "scan.pdf"
    with path.open("wb") as f:
        writer.write(f)
    return path


def _docx_tables(folder: Path) -> Path:
    import docx

    document = docx.Document()
    table = document.add_table(rows=3, cols=2)
    for row, (a, b) in zip(
        table.rows, [("Programme", "Partenaires"), ("Nouveaux Accords", "ANCT"), ("La Transfo", "Région Grand Est")]
    ):
        row.cells[0].text, row.cells[1].text = a, b
    path = folder / "tables.docx"
    document.save(str(path))
    return path


def _binary_pdf(folder: Path) -> Path:
    path = folder / "random.pdf"
    path.write_bytes(bytes(range(256)) * 64)
    return path


def _link_outside(folder: Path) -> Path:
    outside = folder.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text("Un fichier hors du corpus, qui ne doit pas être lu.\n", encoding="utf-8")
    link = folder / "lien.txt"
    link.symlink_to(outside / "secret.txt")
    return link


def _link_broken(folder: Path) -> Path:
    link = folder / "casse.md"
    link.symlink_to(folder / "absent.md")
    return link


def _copy(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        return Path(shutil.copy(BAD / name, folder / name))

    return make


# name -> (how to make it, expected status, words the message must contain)
CASES: dict[str, tuple[Callable[[Path], Path], str, tuple[str, ...]]] = {
    "truncated pdf": (_copy("truncated.pdf"), "skipped", ("truncated", "ingest again")),
    "encrypted pdf": (_pdf_encrypted, "skipped", ("encrypted", "qpdf --decrypt")),
    "scanned pdf": (_pdf_scanned, "warned", ("no text layer", "OCR")),
    "empty file": (_copy("empty.txt"), "warned", ("empty file", "Replace it")),
    "binary named .pdf": (_copy("not-a-pdf.pdf"), "skipped", ("not a PDF", "real extension")),
    "random bytes named .pdf": (_binary_pdf, "skipped", ("not a PDF",)),
    "latin-1 text": (_copy("latin1.txt"), "warned", ("not UTF-8", "save it as UTF-8")),
    "utf-16 text": (_copy("utf16.txt"), "warned", ("UTF-16", "save it as UTF-8")),
    "html with only scripts": (_copy("scripts-only.html"), "warned", ("no main text", "ingest again")),
    "docx with only tables": (_docx_tables, "indexed", ()),
    "name with spaces, accents, quotes": (_copy(ACCENTED_NAME), "indexed", ()),
    "symlink outside the corpus": (_link_outside, "skipped", ("symbolic link", "outside the corpus", "Copy the file")),
    "broken symlink": (_link_broken, "skipped", ("symbolic link", "does not exist")),
}


def _ingest(env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["ingest"], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def _search(query: str) -> list[dict]:
    result = CliRunner().invoke(main, ["search", "--json", query])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("case", list(CASES))
def test_each_bad_file_is_reported_and_the_rest_is_ingested(settings: Settings, case: str) -> None:
    make, expected, words = CASES[case]
    path = make(settings.corpus_dir)
    source = path.relative_to(settings.corpus_dir).as_posix()
    code, output = _ingest()
    lines = [line for line in output.splitlines() if source in line]
    assert lines, output
    message = "\n".join(lines)
    if expected == "skipped":
        assert code == 1 and f"SKIPPED  {source}" in output and "1 skipped" in output, output
    else:
        assert code == 0 and f"indexed  {source}" in output and "0 skipped" in output, output
    if expected == "warned":
        assert f"WARNING {source}" in output and "1 with warnings" in output, output
    for word in words:
        assert word in message, message
    assert "2 indexed" in output or "3 indexed" in output  # the good files always are
    assert {p["source"] for p in _search("Nouveaux Accords Dunkerque")} >= {"rapport-2022.txt"}
    # A second run changes nothing, and reports the same skips.
    code_again, again = _ingest()
    assert code_again == code and "0 indexed" in again and "0 chunks embedded" in again, again


def test_all_bad_files_together(settings: Settings) -> None:
    for make, _expected, _words in CASES.values():
        make(settings.corpus_dir)
    code, output = _ingest()
    skipped = sum(1 for _make, e, _words in CASES.values() if e == "skipped")
    warned = sum(1 for _make, e, _words in CASES.values() if e == "warned")
    indexed = 2 + len(CASES) - skipped
    assert code == 1
    assert f"{indexed} indexed, 0 unchanged, {skipped} skipped, 0 deleted, {warned} with warnings" in output, output
    assert "outside" not in json.dumps(load_manifest(settings.index_dir))
    hits = _search("Transfo résidence Nantes")
    assert hits and hits[0]["source"] == ACCENTED_NAME
    assert any(p["source"] == "tables.docx" for p in _search("Nouveaux Accords ANCT partenaires"))
    assert not any("hors du corpus" in p["text"] for p in _search("fichier hors du corpus"))


def test_utf16_and_latin1_text_is_decoded(settings: Settings) -> None:
    for name in ("utf16.txt", "latin1.txt"):
        shutil.copy(BAD / name, settings.corpus_dir / name)
    _ingest()
    assert any("ateliers d'écriture" in p["text"] for p in _search("ateliers écriture communs"))
    assert any("coopératives" in p["text"] for p in _search("coopératives Montréal"))


def test_huge_text_file_is_refused_quickly(settings: Settings) -> None:
    sentence = "La Région et ses agents ont travaillé sur la réglementation des achats publics. "
    path = settings.corpus_dir / "enorme.txt"
    with path.open("w", encoding="utf-8") as f:
        for _ in range(20_000_000 // len(sentence) + 1):
            f.write(sentence)
    assert path.stat().st_size > 20_000_000
    started = time.perf_counter()
    code, output = _ingest()
    seconds = time.perf_counter() - started
    assert code == 1 and "SKIPPED  enorme.txt" in output and f"{MAX_CHARACTERS:,}" in output, output
    assert "Split it into several files" in output
    assert seconds < 20, f"refusing a 20 MB file took {seconds:.1f} s"
    assert _search("Nouveaux Accords")
