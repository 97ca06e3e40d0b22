"""The web app's named API (ask, search, programmes), driven by gradio_client against the running app."""

from __future__ import annotations

from pathlib import Path

import pytest
from appserver import make_app, serving
from gradio_client import Client

from assistant27.config import Settings
from assistant27.generators import ExtractiveGenerator


@pytest.mark.slow  # the app served over HTTP and driven by gradio_client, end to end
def test_the_named_endpoints_answer_search_and_list(settings: Settings, tmp_path: Path) -> None:
    app = make_app(settings, ExtractiveGenerator())
    with serving(app) as url:
        client = Client(url, verbose=False, download_files=str(tmp_path))
        endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert {"/ask", "/search", "/programmes"} <= set(endpoints)

        answer = client.predict("Qui participe à Nouveaux Accords ?", api_name="/ask")
        assert answer["refused"] is False and answer["refusal"] is None
        assert "Dunkerque" in answer["answer"] and answer["citations"]
        assert answer["citations"][0]["source"] == "rapport-2022.txt"

        refused = client.predict("Quel programme avec la Ville de Valparaiso ?", api_name="/ask")
        assert refused["refused"] is True and refused["refusal"] == "absent"

        passages = client.predict("forêts", 2025, api_name="/search")
        assert passages and all(p["year"] == 2025 for p in passages)
        assert all(p["year"] == 2022 for p in client.predict("forêts", 2022, api_name="/search"))

        programmes = client.predict(0, "Dunkerque", api_name="/programmes")
        assert [p["name"] for p in programmes] == ["Nouveaux Accords"]
