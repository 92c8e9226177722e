"""``/healthz`` (the process is up), ``/readyz`` (it can do its job), ``/metrics``."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from feedsvc import metrics
from feedsvc.store.cursors import get_cursor
from feedsvc.store.deliveries import queue_depth

if TYPE_CHECKING:
    from feedsvc.app import Service

READY_GRACE = timedelta(seconds=15)


def readiness(service: Service) -> tuple[bool, dict[str, object]]:
    """DB reachable and, on a replica that ingests, a tick completed recently."""
    checks: dict[str, object] = {}
    try:
        with service.db.read() as conn:
            cursor = get_cursor(conn, service.ingestor.source.name)
            metrics.QUEUE_DEPTH.set(queue_depth(conn))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"error: {type(exc).__name__}"
        return False, checks
    ok = True
    if service.roles.scheduler:
        now = service.db.now()
        limit = timedelta(seconds=3 * service.settings.source.poll_seconds) + READY_GRACE
        last = cursor.last_tick_at
        checks["last_ingest_tick"] = last.isoformat() if last else None
        checks["last_ingest_error"] = cursor.last_error
        if cursor.last_success_at:
            metrics.INGEST_LAG.set((now - cursor.last_success_at).total_seconds())
        started = service.started_at or now
        ok = now - started < limit if last is None else now - last < limit
    return ok, checks


def health_routes(service: Service) -> list[Route]:
    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_request: Request) -> Response:
        ok, checks = await asyncio.to_thread(readiness, service)
        return JSONResponse({"ready": ok, **checks}, status_code=200 if ok else 503)

    async def metrics_endpoint(_request: Request) -> Response:
        await asyncio.to_thread(readiness, service)  # refreshes the lag gauge
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
