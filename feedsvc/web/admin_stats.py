"""The admin's charts (``/admin/charts/*.svg``): SVG images drawn by pygal from
:mod:`feedsvc.stats`, computed per request off the event loop (a week is a few hundred rows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedsvc.stats import activity, topic_stats
from feedsvc.stats.charts import CHART_CSP, activity_chart, subscribers_chart
from feedsvc.web.admin import PREFIX, Ctx

if TYPE_CHECKING:
    from feedsvc.web.admin import Admin

CHART_DAYS = 7


def chart_routes(admin: Admin) -> list[Route]:
    service = admin.service
    tz = service.settings.tz

    def svg(body: bytes) -> Response:
        headers = {
            "Cache-Control": "private, max-age=60",
            "Content-Security-Policy": CHART_CSP,
            "X-Content-Type-Options": "nosniff",
        }
        return Response(body, media_type="image/svg+xml", headers=headers)

    async def activity_svg(request: Request, ctx: Ctx) -> Response:
        data = await run_in_threadpool(activity, service.web_db, CHART_DAYS)
        return svg(await run_in_threadpool(activity_chart, data, admin.t, tz))

    async def subscribers_svg(request: Request, ctx: Ctx) -> Response:
        stats = await run_in_threadpool(topic_stats, service.web_db, tz, CHART_DAYS)
        return svg(await run_in_threadpool(subscribers_chart, stats, admin.t))

    return [
        Route(PREFIX + "/charts/activity.svg", admin.guard(activity_svg), methods=["GET"]),
        Route(PREFIX + "/charts/subscribers.svg", admin.guard(subscribers_svg), methods=["GET"]),
    ]
