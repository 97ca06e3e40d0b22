"""The optional shared token: off on loopback, required beyond it; every route behind it when it is set."""

from __future__ import annotations

import httpx
import pytest
from appserver import make_app, serving
from click.testing import CliRunner

from assistant27.cli import main
from assistant27.config import Settings
from assistant27.generators import ScriptedGenerator
from assistant27.webapp import LOGIN_PATH, TOKEN_COOKIE, TOKEN_ENV, is_loopback

TOKEN = "correct-horse-battery-staple"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("assistant.example.org", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_serve_refuses_an_open_host_without_a_token(
    settings: Settings, host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    result = CliRunner().invoke(main, ["serve", "--host", host])
    assert result.exit_code == 1
    assert f"Error: --host {host}" in result.output and TOKEN_ENV in result.output and "Traceback" not in result.output


def test_serve_refuses_a_short_token(settings: Settings) -> None:
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"], env={TOKEN_ENV: "1234"})
    assert result.exit_code == 1 and "too short" in result.output


def test_serve_help_names_the_token() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert TOKEN_ENV in result.output


def test_without_a_token_setting_the_app_is_open(settings: Settings) -> None:
    with serving(make_app(settings, ScriptedGenerator())) as url, httpx.Client(base_url=url) as http:
        assert http.get("").status_code == 200
        assert http.get("source/rapport-2022.txt").status_code == 200


def test_with_a_token_every_route_needs_it(settings: Settings) -> None:
    from gradio_client import Client

    app = make_app(settings, ScriptedGenerator())
    with serving(app, TOKEN) as url:
        with httpx.Client(base_url=url, timeout=10) as http:
            # Without it: the login page (401), for the page, the API, Gradio's files and the corpus files.
            for path in [
                "", "config", "gradio_api/info", "source/rapport-2022.txt", "read/rapport-2022.txt",
                "gradio_api/file=/etc/passwd",
            ]:
                response = http.get(path)
                assert response.status_code == 401, path
                assert "Jeton d" in response.text and "Dunkerque" not in response.text
            assert http.post("gradio_api/queue/join", json={}).status_code == 401
            assert http.get("", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
            assert http.get("", cookies={TOKEN_COOKIE: TOKEN}).status_code == 401  # the cookie is not the token
            wrong = http.post(LOGIN_PATH.lstrip("/"), data={"token": "wrong"})
            assert (
                wrong.status_code == 401
                and "Jeton incorrect" in wrong.text
                and TOKEN_COOKIE not in wrong.headers.get("set-cookie", "")
            )
            # The login form sets a cookie (HttpOnly, not the token itself) and sends the browser home.
            login = http.post(LOGIN_PATH.lstrip("/"), data={"token": TOKEN})
            assert login.status_code == 303 and login.headers["location"] == "/"
            cookie = login.headers["set-cookie"]
            assert TOKEN_COOKIE in cookie and "HttpOnly" in cookie and TOKEN not in cookie
            assert http.get("").status_code == 200  # the client keeps the cookie
            assert "Dunkerque" in http.get("source/rapport-2022.txt").text
            assert "Dunkerque" in http.get("read/rapport-2022.txt").text
        # A program passes it as a Bearer header.
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            assert http.get("gradio_api/info").status_code == 200
        client = Client(url, headers={"Authorization": f"Bearer {TOKEN}"}, verbose=False)
        passages = client.predict("Nouveaux Accords", api_name="/search")
        assert any("Dunkerque" in p["text"] for p in passages)
