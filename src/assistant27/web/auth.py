"""The web app's access gate: the shared token, its login page and cookie, and which hosts need it."""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from assistant27.openai_api import unauthorized

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send


TOKEN_ENV = "ASSISTANT27_WEB_TOKEN"  # the shared access token; required when serving beyond this machine
TOKEN_COOKIE = "assistant27_access"
LOGIN_PATH = "/_login"


def is_loopback(host: str) -> bool:
    """True when `host` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


LOGIN_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 28em; margin: 10vh auto; padding: 0 1em">
<h1 style="font-size: 1.3em">{heading}</h1>
<p>L'accès est réservé. Saisissez le jeton d'accès que l'équipe vous a donné.</p>{message}
<form method="post" action="{action}"><input type="password" name="token" autofocus required
aria-label="Jeton d'accès" style="width: 100%; padding: .5em"><button type="submit" style="margin-top: .8em;
padding: .5em 1.2em">Entrer</button></form></body></html>"""


class TokenGate:
    """ASGI middleware: every request needs the shared token, as the cookie the login form sets or a Bearer header.

    One gate in front of everything (page, Gradio API and its files, `/source/`), so no route can forget it.
    The cookie holds a digest of the token, never the token itself.
    """

    def __init__(self, app: ASGIApp, token: str, title: str = "Assistant des publications", heading: str = "") -> None:
        self.app = app
        self._token = token.encode()
        self._title = html.escape(title)
        self._heading = html.escape(heading or title)
        self._cookie = hashlib.sha256(b"assistant27-web:" + self._token).hexdigest()

    def _allowed(self, scope: Scope) -> bool:
        from starlette.requests import HTTPConnection

        conn = HTTPConnection(scope)
        cookie = conn.cookies.get(TOKEN_COOKIE, "")
        if cookie and hmac.compare_digest(cookie.encode(), self._cookie.encode()):
            return True
        scheme, _, value = conn.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self._token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse

        if scope["type"] not in ("http", "websocket") or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["path"].startswith("/v1/"):  # the OpenAI-compatible API: its clients read JSON errors
            await JSONResponse(unauthorized(), status_code=401)(scope, receive, send)
            return
        message = ""
        if scope["path"].endswith(LOGIN_PATH) and scope["method"] == "POST":
            body = b""
            while len(body) < 4096:
                chunk = await receive()
                body += chunk.get("body", b"")
                if not chunk.get("more_body"):
                    break
            given = parse_qs(body[:4096].decode("utf-8", "replace")).get("token", [""])[0].strip()
            if hmac.compare_digest(given.encode(), self._token):
                home = scope.get("root_path", "") + "/"
                response = RedirectResponse(home, status_code=303)
                secure = scope.get("scheme") == "https" or any(
                    k == b"x-forwarded-proto" and v == b"https" for k, v in scope.get("headers", [])
                )
                response.set_cookie(
                    TOKEN_COOKIE, self._cookie, max_age=30 * 86400, httponly=True, samesite="lax", secure=secure
                )
                await response(scope, receive, send)
                return
            message = "<p role='alert' style='color: #c0392b'>Jeton incorrect.</p>"
        action = html.escape(scope.get("root_path", "") + LOGIN_PATH)
        page = LOGIN_PAGE.replace("{title}", self._title).replace("{heading}", self._heading)
        page = page.replace("{message}", message).replace("{action}", action)
        await HTMLResponse(page, status_code=401, headers={"Cache-Control": "no-store"})(scope, receive, send)
