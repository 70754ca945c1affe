"""The two pages for machines, not people: `/healthz` for a load balancer and `/metrics` for
a Prometheus server. Neither needs a login.

`/metrics` shows counts and names of sources, nothing about the content of mentions, but it
still should not be open to the intranet: with `web.metrics_token` set it asks for
`Authorization: Bearer <token>` (from every client); without one it answers only clients on
this host (a monitoring agent beside yuqing, or a local proxy that passes the real client in
X-Forwarded-For, which uvicorn trusts from 127.0.0.1).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from responder.web.core import Web, web_of

log = logging.getLogger(__name__)


def _first_line(exc: Exception) -> str:
    # SQLAlchemy's messages carry the driver's reason first, then the SQL and a help link;
    # the URL's password never appears in them.
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # not an address (a test client's name, a Unix socket)
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def _allowed(web: Web, request: Request) -> Response | None:
    """None when the request may read /metrics, else the refusal."""
    token = web.settings.web.metrics_token
    if token:
        sent = request.headers.get("authorization", "")
        scheme, _, value = sent.partition(" ")
        # As bytes: compare_digest refuses a str with non-ASCII characters ("Bearer é").
        given = value.strip().encode("utf-8", "surrogateescape")
        if scheme.lower() == "bearer" and hmac.compare_digest(given, token.encode()):
            return None
        return PlainTextResponse(
            "metrics: a bearer token is required\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="yuqing metrics"'},
        )
    if _loopback(request.client.host if request.client else ""):
        return None
    return PlainTextResponse(
        "metrics: only this host may read /metrics; set web.metrics_token for a remote server\n",
        status_code=403,
    )


def _registry(request: Request) -> CollectorRegistry:
    metrics_registry = request.app.state.metrics_registry
    assert isinstance(metrics_registry, CollectorRegistry)
    return metrics_registry


async def healthz(request: Request) -> PlainTextResponse:
    # Answering is not enough: a web UI that cannot reach its database serves only errors.
    try:
        with web_of(request).db.sessions() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("healthz: database unreachable: %s", _first_line(exc))
        return PlainTextResponse(f"database unreachable: {type(exc).__name__}\n", status_code=503)
    return PlainTextResponse("ok")


async def metrics(request: Request) -> Response:
    refused = _allowed(web_of(request), request)
    if refused is not None:
        return refused
    try:
        body = generate_latest(_registry(request))
    except SQLAlchemyError as exc:
        log.warning("metrics: database unreachable: %s", _first_line(exc))
        return PlainTextResponse("database unreachable\n", status_code=503)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


routes = [Route("/healthz", healthz), Route("/metrics", metrics)]
