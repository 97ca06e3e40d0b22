"""A publication as a page to read in the browser: its indexed text in reading order, the cited passage marked.

« Ouvrir le document » opens a PDF itself at its page; a text or HTML publication opens here instead, at the
passage, rather than as the raw file at its top (its OCR errors included, which the indexed text has repaired).
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable

from assistant27.schema import Chunk


def passage_key(text: str) -> str:
    """A short name for a passage's text, the same whether it comes from a citation, a passage or a chunk."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def render_reading(title: str, chunks: Iterable[Chunk], key: str = "", file_url: str = "") -> str:
    """The whole page: each section's heading, its text once (chunks overlap a little), the passage `key` marked.

    The marked passage carries the id `a27-cited`, so a link ending in `#a27-cited` opens scrolled to it.
    """
    e = html.escape
    body, heading, previous_end, previous_part = [], None, 0, None
    for chunk in chunks:
        part = (chunk.page, chunk.heading)
        if part != previous_part:
            if chunk.heading and chunk.heading != heading:
                body.append(f"<h2>{e(chunk.heading)}</h2>")
            heading, previous_end, previous_part = chunk.heading, 0, part
        # Overlapping chunks repeat the end of the one before: print only what is new.
        text = chunk.text[max(0, previous_end - chunk.start) :] if chunk.start < previous_end else chunk.text
        previous_end = max(previous_end, chunk.end)
        page = f" data-page='{int(chunk.page)}'" if chunk.page else ""
        if key and passage_key(chunk.text) == key:
            body.append(f"<p{page}><mark id='a27-cited' tabindex='-1'>{e(text)}</mark></p>")
        else:
            body.append(f"<p{page}>{e(text)}</p>")
    original = f"<p class='meta'><a href='{e(file_url)}'>Fichier d'origine</a></p>" if file_url else ""
    return READING_PAGE.format(title=e(title), original=original, body="\n".join(body))


READING_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 42em; margin: 2em auto; padding: 0 1em; line-height: 1.6;
  color: #1f2328; background: #fff; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; margin-top: 1.6em; }}
p {{ white-space: pre-wrap; }}
mark {{ background: #ffe58a; color: inherit; padding: 2px 0; scroll-margin-top: 30vh; }}
.meta {{ color: #57606a; font-size: .9em; }}
</style></head>
<body><main><h1>{title}</h1>{original}
{body}
</main></body></html>"""
