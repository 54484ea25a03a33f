"""The API's Prometheus metrics, and the middleware that records them.

Prometheus pulls: every `scrape_interval` it GETs /metrics and stores what it
reads. Every metric here is cheap to update (an increment, an observation in
a bucket) and has few label values, so the number of time series stays small.

| metric                             | type      | answers                                |
|------------------------------------|-----------|----------------------------------------|
| wine_api_requests_total            | counter   | traffic, and errors by status code     |
| wine_api_request_duration_seconds  | histogram | latency (p50, p95, p99 per route)      |
| wine_api_requests_in_progress      | gauge     | saturation: requests being served      |
| wine_api_predictions_total         | counter   | predicted class mix (prediction drift) |
| wine_api_prediction_confidence     | histogram | how sure the model is, before labels   |
| wine_api_model_info                | gauge = 1 | which model version is serving         |
| wine_drift_*                       | gauges    | the last drift report                  |

These names and labels are a contract: the Grafana dashboard, the rules
and the alerts depend on them. Module 09's service carries this file byte
for byte (with logs.py), so the same dashboard and alerts work there.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import REQUEST_ID, request_id_from

logger = logging.getLogger("wine_api")

# Latency buckets, in seconds: fine where this API lives (a few ms for one
# wine, tens of ms for a batch), coarse above. histogram_quantile() can only
# interpolate inside a bucket, so put bucket bounds near your alert
# threshold (here 0.5 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# The probability of the predicted class: 1/3 is the least a 3-class model
# can give its top class.
CONFIDENCE_BUCKETS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)

# Requests that match no route are counted under one label value: labelling
# them with the raw path would let any client create new time series.
UNMATCHED_ROUTE = "<unmatched>"


class ApiMetrics:
    """Every metric of one app, in its own registry.

    A registry per app, not prometheus_client's global REGISTRY: creating a
    second app in the same process (every test does) would otherwise fail
    with "Duplicated timeseries in CollectorRegistry".
    """

    def __init__(self, drift_report: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        # CPU, memory, open files, GC: the process's own saturation signals.
        # (The default collectors are registered in the global REGISTRY; here
        # the same collector objects are added to this one.)
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.requests = Counter(
            "wine_api_requests",  # exposed as wine_api_requests_total
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "wine_api_request_duration_seconds",
            "Time from receiving a request to finishing the response.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "wine_api_requests_in_progress",
            "Requests being served right now.",
            registry=self.registry,
        )
        self.predictions = Counter(
            "wine_api_predictions",
            "Predictions made, by predicted class and model version.",
            ["class_name", "model_version"],
            registry=self.registry,
        )
        self.confidence = Histogram(
            "wine_api_prediction_confidence",
            "Probability the model gave the class it predicted.",
            ["model_version"],
            buckets=CONFIDENCE_BUCKETS,
            registry=self.registry,
        )
        # An "info" metric: always 1, the facts are in the labels. Join it to
        # other series, or show it in a table. A plain gauge rather than
        # prometheus_client's Info, which exposes a label-less 1 before any
        # model is loaded.
        self.model_info = Gauge(
            "wine_api_model_info",
            "The model being served (value is always 1).",
            ["model_version"],
            registry=self.registry,
        )
        if drift_report is not None:
            self.registry.register(DriftReportCollector(drift_report))

    def expect(self, method: str, route: str, statuses: tuple[str, ...] = ("200",)) -> None:
        """Create the request series a route is expected to have, at 0, before
        its first request.

        rate() and increase() compare two samples of a series. A counter that
        appears with its first increment hides the requests that made it
        appear: a burst right after startup, all counted before the first
        scrape that sees it, reads as a rate of 0.
        """
        for status in statuses:
            self.requests.labels(method=method, route=route, status=status)

    def model_loaded(self, version: str, class_names: list[str]) -> None:
        self.model_info.clear()
        self.model_info.labels(model_version=version).set(1)
        # Create every class's series at 0 now. A counter that appears only
        # after its first increment makes rate() and increase() miss that
        # first event, and "no data" on a dashboard is ambiguous.
        for name in class_names:
            self.predictions.labels(class_name=name, model_version=version)
        self.confidence.labels(model_version=version)


class MetricsMiddleware:
    """ASGI middleware: a request id, a log line, a count and a latency for
    every request.

    Plain ASGI rather than `@app.middleware("http")`, so that it sees the
    status of every response, including the 500 of an unhandled exception
    (which Starlette's outermost middleware answers after this one re-raises).
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Scrapes are not traffic: counting them would make an idle API look busy.
        if scope["type"] != "http" or scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return

        header = dict(scope["headers"]).get(b"x-request-id")
        request_id = request_id_from(header.decode("latin-1") if header else None)
        token = REQUEST_ID.set(request_id)
        status = 500  # what the client gets if the app raises before answering
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # The caller can quote this id when it reports a problem.
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            self.metrics.in_progress.dec()
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=route).observe(elapsed)
            logger.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                },
            )
            REQUEST_ID.reset(token)


def _route_template(scope: Scope) -> str:
    """`/predict`, never `/predict?debug=1` or `/items/42`: the router stores
    the route it matched in the scope."""
    route = scope.get("route")
    if isinstance(route, BaseRoute) and hasattr(route, "path"):
        return str(route.path)
    return UNMATCHED_ROUTE


class DriftReportCollector(Collector):
    """Exposes the last drift report (written by the drift job) as gauges,
    read from the file at every scrape.

    The drift job is a batch job: it runs, writes its report and exits, so
    Prometheus cannot scrape it. Publishing its result through a service that
    is always up avoids a Pushgateway; node_exporter's textfile collector is
    the other common route (see the chapter).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def collect(self) -> Iterator[Metric]:
        try:
            report = json.loads(self.path.read_text(encoding="utf-8"))
            features = report["features"]
            timestamp = float(report["created_unix"])
            drifted = float(report["drift_detected"])
        except FileNotFoundError:
            return  # no report yet: no series, and no error either
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning(
                "cannot read the drift report", extra={"path": str(self.path), "error": str(exc)}
            )
            return
        psi = GaugeMetricFamily(
            "wine_drift_psi",
            "Population stability index of each feature, last batch vs reference.",
            labels=["feature"],
        )
        ks_stat = GaugeMetricFamily(
            "wine_drift_ks_statistic",
            "Two-sample Kolmogorov-Smirnov statistic D of each feature.",
            labels=["feature"],
        )
        ks_p = GaugeMetricFamily(
            "wine_drift_ks_pvalue",
            "p-value of the two-sample KS test of each feature.",
            labels=["feature"],
        )
        for f in features:
            psi.add_metric([f["feature"]], f["psi"])
            ks_stat.add_metric([f["feature"]], f["ks_statistic"])
            ks_p.add_metric([f["feature"]], f["ks_pvalue"])
        yield psi
        yield ks_stat
        yield ks_p
        yield GaugeMetricFamily(
            "wine_drift_detected", "1 if the last drift report found drift, else 0.", value=drifted
        )
        yield GaugeMetricFamily(
            "wine_drift_report_timestamp_seconds",
            "When the last drift report was written (Unix time).",
            value=timestamp,
        )
