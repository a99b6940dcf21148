"""Issue 12 item 7: alert rules on real thresholds, delivery to a real local webhook and Django's mail
outbox, and the 4-hour dedupe window."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command

from booktrack.core import metrics
from booktrack.core.queues import QueueFigure
from booktrack.core.schedules import SCHEDULES
from harvest import alerts
from harvest.alerts import (
    AlertThresholds,
    Observations,
    ProviderCalls,
    TierLookups,
    alerts_check,
    alerts_evaluate,
    alerts_observe,
)

LIMITS = AlertThresholds(
    min_requests=50,
    error_rate=0.05,
    p99_latency_ms=3000,
    cache_tiers=("kv",),
    cache_min_lookups=100,
    cache_miss_rate=0.9,
    provider_min_calls=10,
    provider_error_rate=0.25,
    dead_letter_depth=1,
    queue_min_depth=1,
    budget_min_remaining_share=0.1,
)
QUIET = Observations(period="15m", requests=1000, errors_5xx=10, p99_latency_ms=800.0)


class WebhookReceiver:
    """A real HTTP server on a free local port that records every POST body (JSON)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.bodies.append(
                    {"json": json.loads(self.rfile.read(length)), "content_type": self.headers["Content-Type"]}
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook(settings):
    receiver = WebhookReceiver()
    settings.ALERT_WEBHOOK_URL = receiver.url
    settings.ALERT_EMAILS = ["oncall@example.org", "ops@example.org"]
    settings.ALERT_MIN_REQUESTS = 50
    settings.ALERT_ERROR_RATE = 0.05
    settings.ALERT_DEDUPE_SECONDS = 4 * 3600
    yield receiver
    receiver.close()


def _keys(found) -> list[str]:
    return [alert.key for alert in found]


# --- rules -----------------------------------------------------------------------------------------


def test_alerts_evaluate_quiet_service_fires_nothing():
    assert alerts_evaluate(QUIET, LIMITS) == []


def test_alerts_evaluate_error_rate_crossed_and_not_crossed():
    at_limit = Observations(period="15m", requests=1000, errors_5xx=50, p99_latency_ms=100.0)  # 5.0 %: not above
    above = Observations(period="15m", requests=1000, errors_5xx=51, p99_latency_ms=100.0)
    assert alerts_evaluate(at_limit, LIMITS) == []
    [alert] = alerts_evaluate(above, LIMITS)
    assert (alert.key, alert.severity, alert.value, alert.threshold) == ("error_rate", "critical", 0.051, 0.05)
    assert "5.1% of 1000 requests answered 5xx" in alert.summary


def test_alerts_evaluate_rates_need_enough_traffic():
    few = Observations(period="15m", requests=49, errors_5xx=49, p99_latency_ms=60_000.0)
    assert alerts_evaluate(few, LIMITS) == []  # 49 failing requests: below ALERT_MIN_REQUESTS


def test_alerts_evaluate_p99_latency():
    slow = Observations(period="15m", requests=200, errors_5xx=0, p99_latency_ms=3000.1)
    ok = Observations(period="15m", requests=200, errors_5xx=0, p99_latency_ms=3000.0)
    assert _keys(alerts_evaluate(slow, LIMITS)) == ["p99_latency"]
    assert alerts_evaluate(ok, LIMITS) == []


def test_alerts_evaluate_cache_miss_rate_only_on_watched_tiers_with_enough_lookups():
    observed = Observations(
        period="15m",
        requests=0,
        errors_5xx=0,
        p99_latency_ms=None,
        cache=(
            TierLookups("kv", hits=5, misses=95),  # 95 % of 100: fires
            TierLookups("edge", hits=0, misses=1000),  # not watched
            TierLookups("catalog", hits=0, misses=99),
        ),
    )
    assert _keys(alerts_evaluate(observed, LIMITS)) == ["cache_miss_rate:kv"]
    too_few = Observations(
        period="15m", requests=0, errors_5xx=0, p99_latency_ms=None, cache=(TierLookups("kv", 0, 99),)
    )
    assert alerts_evaluate(too_few, LIMITS) == []


def test_alerts_evaluate_provider_failures_per_provider():
    observed = Observations(
        period="15m",
        requests=0,
        errors_5xx=0,
        p99_latency_ms=None,
        providers=(
            ProviderCalls("google-books", calls=40, errors=11),  # 27.5 %
            ProviderCalls("openlibrary", calls=40, errors=10),  # 25 %: not above
            ProviderCalls("isbndb", calls=9, errors=9),  # too few calls
        ),
    )
    [alert] = alerts_evaluate(observed, LIMITS)
    assert alert.key == "provider_failures:google-books" and alert.value == 0.275


def test_alerts_evaluate_dead_letters_and_queue_without_consumer():
    observed = Observations(
        period="15m",
        requests=0,
        errors_5xx=0,
        p99_latency_ms=None,
        dead_letters=3,
        queues=(
            QueueFigure("default", depth=0, consumers=0),  # idle, nobody: fine
            QueueFigure("providers", depth=12, consumers=2),  # busy, consumed: fine
            QueueFigure("maintenance", depth=4, consumers=0),  # work and nobody: fires
            QueueFigure("ai", depth=4, consumers=None),  # unknown: no guess
        ),
    )
    assert _keys(alerts_evaluate(observed, LIMITS)) == ["dead_letters", "queue_without_consumer:maintenance"]
    none_yet = Observations(period="15m", requests=0, errors_5xx=0, p99_latency_ms=None, dead_letters=None)
    assert alerts_evaluate(none_yet, LIMITS) == []  # no dead-letter queue registered: nothing to say


def test_alerts_evaluate_daily_budget_running_low_but_not_per_second_ones():
    def figure(upstream, *, limit, remaining, window):
        return metrics.BudgetFigure(
            upstream=upstream, limit=limit, used=limit - remaining, remaining=remaining, window=window, resets_in=7380
        )

    observed = Observations(
        period="15m",
        requests=0,
        errors_5xx=0,
        p99_latency_ms=None,
        budgets=(
            figure("google-books", limit=1000, remaining=99, window="day"),  # 9.9 %: fires
            figure("openlibrary", limit=3, remaining=0, window="1s"),  # spent for this second: normal
        ),
    )
    [alert] = alerts_evaluate(observed, LIMITS)
    assert alert.key == "budget_low:google-books" and alert.value == 0.099
    assert "99 of 1000 daily calls left" in alert.summary and "resets in 2 h 3 min" in alert.summary
    enough = Observations(
        period="15m",
        requests=0,
        errors_5xx=0,
        p99_latency_ms=None,
        budgets=(figure("google-books", limit=1000, remaining=100, window="day"),),
    )
    assert alerts_evaluate(enough, LIMITS) == []


def test_alerts_observe_reads_the_real_google_budget(settings):
    from search.budgets import budget_acquire, budget_reset_local

    settings.SEARCH_GOOGLE_BOOKS_DAILY_QUOTA = 20
    budget_reset_local()
    try:
        for _ in range(19):
            budget_acquire(upstream="google-books", deadline=None)
        observed = alerts_observe()
    finally:
        budget_reset_local()
    google = next(b for b in observed.budgets if b.upstream == "google-books")
    assert (google.limit, google.used, google.remaining) == (20, 19, 1)
    assert _keys(alerts_evaluate(observed, AlertThresholds.from_settings())) == ["budget_low:google-books"]


# --- observing the shared metrics ----------------------------------------------------------------


def _traffic(*, ok: int, failed: int, slow_ms: float | None = None) -> None:
    for _ in range(ok):
        metrics.record_request(route="v1/search/title", method="GET", status=200, latency_ms=slow_ms or 40)
    for _ in range(failed):
        metrics.record_request(route="v1/search/title", method="GET", status=502, latency_ms=40)


def test_alerts_observe_reads_the_shared_counters_and_the_dead_letter_gauge():
    _traffic(ok=90, failed=10)
    metrics.record_cache("kv", hit=False)
    metrics.record_upstream_call("google-books", status=503, latency_ms=10)
    metrics.record_upstream_call("alert-webhook", status=500, latency_ms=10)  # our own channel: not a provider
    metrics.register_gauge(alerts.DEAD_LETTER_GAUGE, lambda: 7, help_text="test")
    try:
        observed = alerts_observe()
    finally:
        metrics.unregister_gauge(alerts.DEAD_LETTER_GAUGE)
    assert (observed.requests, observed.errors_5xx) == (100, 10)
    assert observed.p99_latency_ms is not None and observed.p99_latency_ms <= 50
    assert TierLookups("kv", hits=0, misses=1) in observed.cache
    assert observed.providers == (ProviderCalls("google-books", calls=1, errors=1),)
    assert observed.dead_letters == 7
    assert observed.queues == ()  # embedded mode: the in-memory broker is not inspected


# --- delivery and dedupe ---------------------------------------------------------------------------


def test_alerts_check_not_crossed_sends_nothing(webhook):
    _traffic(ok=100, failed=5)  # 4.8 %
    outcome = alerts_check()
    assert outcome.fired == () and webhook.bodies == [] and mail.outbox == []


def test_alerts_check_sends_webhook_and_mail_then_dedupes_for_the_window(webhook):
    _traffic(ok=90, failed=10)  # 10 % 5xx
    first = alerts_check()
    assert _keys(first.sent) == ["error_rate"] and first.channels == ("webhook", "mail")
    [post] = webhook.bodies
    assert post["content_type"] == "application/json"
    assert post["json"]["source"] == "booktrack"
    [sent] = post["json"]["alerts"]
    assert sent["key"] == "error_rate" and sent["value"] == 0.1 and sent["threshold"] == 0.05
    [message] = mail.outbox
    assert message.to == ["oncall@example.org", "ops@example.org"]
    assert message.subject == "[BooksTrack CRITICAL] 1 alert(s): error_rate"
    assert "10.0% of 100 requests answered 5xx" in message.body

    # Still failing 15 minutes later: inside the 4-hour window nothing is sent again.
    second = alerts_check()
    assert _keys(second.fired) == ["error_rate"] and second.sent == ()
    assert _keys(second.suppressed) == ["error_rate"]
    assert len(webhook.bodies) == 1 and len(mail.outbox) == 1
    assert metrics.metrics_report("15m")["events"]["alert:error_rate"] == 1


def test_alerts_check_sends_again_once_the_window_has_passed(webhook, settings):
    settings.ALERT_DEDUPE_SECONDS = 1
    _traffic(ok=90, failed=10)
    assert _keys(alerts_check().sent) == ["error_rate"]
    assert alerts_check().sent == ()
    time.sleep(1.2)
    assert _keys(alerts_check().sent) == ["error_rate"]
    assert len(webhook.bodies) == 2 and len(mail.outbox) == 2


def test_alerts_check_new_alert_is_sent_while_another_is_deduped(webhook):
    _traffic(ok=90, failed=10)
    alerts_check()
    for _ in range(12):
        metrics.record_upstream_call("openlibrary", status=503, latency_ms=5)
    outcome = alerts_check()
    assert _keys(outcome.sent) == ["provider_failures:openlibrary"]
    assert _keys(outcome.suppressed) == ["error_rate"]
    assert [a["key"] for a in webhook.bodies[-1]["json"]["alerts"]] == ["provider_failures:openlibrary"]


def test_alerts_check_failed_delivery_releases_the_claim(webhook, settings):
    settings.ALERT_EMAILS = []
    webhook.status = 500  # the receiver is broken (retried by the outbound client, then given up)
    _traffic(ok=90, failed=10)
    outcome = alerts_check()
    assert outcome.sent == () and outcome.failed_channels == ("webhook",)
    assert cache.get(alerts.DEDUPE_PREFIX + "error_rate") is None
    webhook.status = 200
    assert _keys(alerts_check().sent) == ["error_rate"]  # the next check delivers it


def test_alerts_check_one_working_channel_is_enough(webhook, settings):
    settings.ALERT_WEBHOOK_URL = "http://127.0.0.1:9/unreachable"  # nothing listens on the discard port
    _traffic(ok=90, failed=10)
    outcome = alerts_check()
    assert outcome.channels == ("mail",) and outcome.failed_channels == ("webhook",)
    assert len(mail.outbox) == 1
    assert alerts_check().sent == ()  # delivered by mail: deduped


def test_alerts_check_without_channels_logs_the_alert(settings, caplog):
    settings.ALERT_WEBHOOK_URL = None
    settings.ALERT_EMAILS = []
    _traffic(ok=90, failed=10)
    outcome = alerts_check()
    assert outcome.channels == ("log",)
    assert "ALERT (no ALERT_WEBHOOK_URL or ALERT_EMAILS configured)" in caplog.text


# --- the command and the schedule ------------------------------------------------------------------


def test_check_alerts_command_prints_what_fired_and_what_was_sent(webhook, capsys):
    _traffic(ok=90, failed=10)
    call_command("check_alerts")
    out = capsys.readouterr().out
    assert "100 requests, 10 5xx" in out
    assert "FIRED [critical] error_rate" in out and "sent via webhook, mail" in out
    call_command("check_alerts")
    assert "already sent within the dedupe window" in capsys.readouterr().out
    assert len(webhook.bodies) == 1


def test_check_alerts_command_dry_run_sends_nothing(webhook, capsys):
    _traffic(ok=90, failed=10)
    call_command("check_alerts", "--dry-run")
    assert "dry run, not sent" in capsys.readouterr().out
    assert webhook.bodies == [] and mail.outbox == []
    call_command("check_alerts")
    assert len(webhook.bodies) == 1  # a dry run claims nothing


def test_check_alerts_command_quiet(webhook, capsys):
    call_command("check_alerts")
    assert "no alert fired" in capsys.readouterr().out


def test_alert_check_is_scheduled_every_15_minutes_on_default():
    """On `default`, not `maintenance`: a long harvest cannot delay it, and it sees `maintenance` without a worker."""
    [entry] = [s for s in SCHEDULES if s.task == "harvest.check_alerts"]
    assert (entry.minute, entry.hour, entry.queue) == ("*/15", "*", "default")
    from booktrack.celery import app

    app.loader.import_default_modules()
    assert "harvest.check_alerts" in app.tasks
    assert app.amqp.router.route({}, "harvest.check_alerts")["queue"].name == "default"  # `celery call` too
    assert app.amqp.router.route({}, "harvest.other_task")["queue"].name == "maintenance"


def test_each_check_counts_a_heartbeat_for_a_dead_mans_switch():
    alerts_check()
    alerts_check()
    alerts_check(send=False)  # a dry run is not a check
    assert metrics.metrics_report("15m")["events"]["alert_checks"] == 2
