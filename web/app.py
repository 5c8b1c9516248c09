"""The read-only web view: a Starlette app over the query API, HTML and a JSON twin per page.

Only GET (and HEAD) are routed, so anything else is a 405; every value goes through Jinja's
autoescaping; the pages run no inline script (the Content-Security-Policy forbids it) and load
nothing from elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.domain.errors import NotFoundError, SeatledgerError
from ledger.inert import json_inert, visible_in_document
from projections.reports.style import CSS
from web import pages, params
from web.reading import Reader

log = logging.getLogger("seatledger.web")

SECURITY_HEADERS = {
    # Scripts only from this server (htmx); the chart's inline SVG styles need inline styles.
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class InertJSONResponse(JSONResponse):
    """JSON whose C1 and bidi characters are escaped too, as every other surface (curl shows it)."""

    def render(self, content: Any) -> bytes:
        return json_inert(super().render(content).decode()).encode()


def templates() -> Environment:
    """The page templates, autoescaping every value, failing loudly on a misspelt name."""
    env = Environment(
        loader=PackageLoader("web", "templates"),
        autoescape=select_autoescape(["html", "svg"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pages.FILTERS)
    return env


def create_app(url: str) -> Starlette:
    """The web app over the ledger at `url` (its views are read, never written by a page)."""
    reader = Reader(url)
    env = templates()

    def respond(request: Request, page: pages.Page, as_json: bool) -> Response:
        if as_json or wants_json(request):
            return InertJSONResponse(page.json, headers={"vary": "accept"})
        context = {**page.context, "root": request.scope.get("root_path", ""),
                   "path": request.url.path, "query": dict(request.query_params)}  # fmt: skip
        html = env.get_template(page.template).render(context)
        return HTMLResponse(visible_in_document(html), headers={"vary": "accept"})

    def overview(request: Request) -> Response:
        return respond(request, pages.overview(reader, request.query_params), _json(request))

    def negotiation(request: Request) -> Response:
        slug = str(request.path_params["slug"])
        as_json = slug.endswith(".json")
        slug = params.checked_slug(slug.removesuffix(".json"))
        page = pages.negotiation(reader, slug, request.query_params)
        return respond(request, page, as_json)

    def seat(request: Request) -> Response:
        slug = params.checked_slug(str(request.path_params["slug"]))
        name = str(request.path_params["name"])
        as_json = name.endswith(".json")
        name = params.constituency(name.removesuffix(".json"))
        return respond(request, pages.seat(reader, slug, name, request.query_params), as_json)

    def chart(request: Request) -> Response:
        slug = params.checked_slug(str(request.path_params["slug"]))
        as_json = request.url.path.endswith(".json")
        return respond(request, pages.chart(reader, slug, request.query_params), as_json)

    def diff(request: Request) -> Response:
        return respond(request, pages.diff(reader, request.query_params), _json(request))

    def report_css(request: Request) -> Response:
        return Response(CSS, media_type="text/css")

    def error(request: Request, exc: Exception) -> Response:
        status, message, headers = _explain(exc)
        if status >= 500:
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        if wants_json(request) or request.url.path.endswith(".json"):
            return InertJSONResponse({"error": message, "status": status}, status, headers)
        html = env.get_template("error.html").render(
            title=str(status),
            status=status,
            message=message,
            root=request.scope.get("root_path", ""),
        )
        return HTMLResponse(visible_in_document(html), status, headers)

    routes = [
        Route("/", overview, methods=["GET"]),
        Route("/index.json", overview, methods=["GET"]),
        Route("/n/{slug}", negotiation, methods=["GET"]),
        Route("/n/{slug}/seat/{name:path}", seat, methods=["GET"]),
        Route("/n/{slug}/chart", chart, methods=["GET"]),
        Route("/n/{slug}/chart.json", chart, methods=["GET"]),
        Route("/diff", diff, methods=["GET"]),
        Route("/diff.json", diff, methods=["GET"]),
        Route("/static/report.css", report_css, methods=["GET"]),
        Mount("/static", StaticFiles(packages=[("web", "static")]), name="static"),
    ]
    handlers: Mapping[Any, Any] = {HTTPException: error, SeatledgerError: error,
                                   SQLAlchemyError: error, Exception: error}  # fmt: skip
    app = Starlette(routes=routes, exception_handlers=dict(handlers))
    app.add_middleware(SecurityHeaders)
    app.state.reader = reader
    return app


def wants_json(request: Request) -> bool:
    """Whether the client asked for JSON rather than a page (`Accept: application/json`)."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _json(request: Request) -> bool:
    return request.url.path.endswith(".json")


def _explain(exc: Exception) -> tuple[int, str, Mapping[str, str] | None]:
    """Status, a message in the reader's words, and headers (Allow on a 405)."""
    if isinstance(exc, HTTPException):
        words = {404: "no such page", 405: "this view is read-only: only GET is allowed"}
        return exc.status_code, words.get(exc.status_code, exc.detail), exc.headers
    if isinstance(exc, NotFoundError):
        return 404, str(exc), None
    if isinstance(exc, SeatledgerError):
        return 400, str(exc), None
    if isinstance(exc, SQLAlchemyError):
        return 503, "the ledger's database could not be read; try again shortly", None
    return 500, "something went wrong on the server (this is a bug in seatledger)", None


class SecurityHeaders:
    """Add the security headers to every response (pages, JSON, static files, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers as the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                         if k.encode() not in present]  # fmt: skip
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, sending)
