"""Alerts (issue 12 item 7): real thresholds over the shared metrics, deduplicated, sent once.

Every 15 minutes (celery-beat, `harvest.check_alerts`) or by hand (`manage.py check_alerts`):

1. observe: the last `ALERT_PERIOD` of the shared counters (`booktrack.core.metrics`, every process),
   the registered gauges (the warming dead-letter depth, `warming_dead_letters`, registered by
   whoever owns that queue), the outbound budgets and the broker's queues (`booktrack.core.queues`);
2. evaluate: pure rules (`alerts_evaluate`) against `AlertThresholds` from settings; a rate needs a
   minimum of traffic first, so three requests with one error never page anyone;
3. deliver what is new: each alert key is claimed in the shared cache for `ALERT_DEDUPE_SECONDS`
   (4 hours) with an atomic add (SET NX in Redis), so concurrent checks send it once and a condition
   that persists is sent again only after the window. A claim whose delivery failed on every channel is
   released, so the next check tries again. Channels: a JSON POST to `ALERT_WEBHOOK_URL` (through the
   shared outbound session: timeouts, retries) and/or one mail to `ALERT_EMAILS` (Django's email
   backend). With no channel configured the alert is logged at ERROR level.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail

from booktrack.core import metrics
from booktrack.core.http import upstream_client
from booktrack.core.queues import QueueFigure, queue_figures

logger = logging.getLogger(__name__)

DEDUPE_PREFIX = "alerts:sent:"
DEAD_LETTER_GAUGE = "warming_dead_letters"
WEBHOOK_UPSTREAM = "alert-webhook"


# --- values -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    min_requests: int
    error_rate: float
    p99_latency_ms: float
    cache_tiers: tuple[str, ...]
    cache_min_lookups: int
    cache_miss_rate: float
    provider_min_calls: int
    provider_error_rate: float
    dead_letter_depth: int
    queue_min_depth: int
    budget_min_remaining_share: float = 0.0  # 0 = off

    @classmethod
    def from_settings(cls) -> AlertThresholds:
        return cls(
            min_requests=settings.ALERT_MIN_REQUESTS,
            error_rate=settings.ALERT_ERROR_RATE,
            p99_latency_ms=settings.ALERT_P99_LATENCY_MS,
            cache_tiers=tuple(settings.ALERT_CACHE_TIERS),
            cache_min_lookups=settings.ALERT_CACHE_MIN_LOOKUPS,
            cache_miss_rate=settings.ALERT_CACHE_MISS_RATE,
            provider_min_calls=settings.ALERT_PROVIDER_MIN_CALLS,
            provider_error_rate=settings.ALERT_PROVIDER_ERROR_RATE,
            dead_letter_depth=settings.ALERT_DEAD_LETTER_DEPTH,
            queue_min_depth=settings.ALERT_QUEUE_MIN_DEPTH,
            budget_min_remaining_share=settings.ALERT_BUDGET_MIN_REMAINING_SHARE,
        )


@dataclass(frozen=True, slots=True)
class TierLookups:
    tier: str
    hits: int
    misses: int


@dataclass(frozen=True, slots=True)
class ProviderCalls:
    provider: str
    calls: int
    errors: int


@dataclass(frozen=True, slots=True)
class Observations:
    """What one check looked at."""

    period: str
    requests: int
    errors_5xx: int
    p99_latency_ms: float | None
    cache: tuple[TierLookups, ...] = ()
    providers: tuple[ProviderCalls, ...] = ()
    dead_letters: float | None = None  # None: no dead-letter gauge registered
    queues: tuple[QueueFigure, ...] = ()
    budgets: tuple[metrics.BudgetFigure, ...] = ()


@dataclass(frozen=True, slots=True)
class Alert:
    key: str  # the dedupe identity: one rule, one subject
    rule: str
    severity: str  # "critical" | "warning"
    summary: str
    value: float
    threshold: float

    def to_wire(self) -> dict[str, str | float]:
        return {
            "key": self.key,
            "rule": self.rule,
            "severity": self.severity,
            "summary": self.summary,
            "value": self.value,
            "threshold": self.threshold,
        }


@dataclass(frozen=True, slots=True)
class AlertCheck:
    """The outcome of one check: what fired, what was sent now, what the dedupe window held back."""

    checked_at: datetime
    fired: tuple[Alert, ...]
    sent: tuple[Alert, ...] = ()
    suppressed: tuple[Alert, ...] = ()
    channels: tuple[str, ...] = ()  # channels that took the new alerts
    failed_channels: tuple[str, ...] = ()


# --- rules (pure) -------------------------------------------------------------------------------


def _rate(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def alerts_evaluate(observed: Observations, limits: AlertThresholds) -> list[Alert]:
    """Every alert the observations cross, in a stable order."""
    alerts: list[Alert] = []
    if observed.requests >= limits.min_requests:
        rate = _rate(observed.errors_5xx, observed.requests)
        if rate > limits.error_rate:
            alerts.append(
                Alert(
                    key="error_rate",
                    rule="error_rate",
                    severity="critical",
                    summary=(
                        f"{rate:.1%} of {observed.requests} requests answered 5xx in the last {observed.period} "
                        f"(threshold {limits.error_rate:.1%})"
                    ),
                    value=rate,
                    threshold=limits.error_rate,
                )
            )
        p99 = observed.p99_latency_ms
        if p99 is not None and p99 > limits.p99_latency_ms:
            alerts.append(
                Alert(
                    key="p99_latency",
                    rule="p99_latency",
                    severity="warning",
                    summary=(
                        f"p99 latency {p99:.0f} ms over {observed.requests} requests in the last {observed.period} "
                        f"(threshold {limits.p99_latency_ms:.0f} ms)"
                    ),
                    value=p99,
                    threshold=limits.p99_latency_ms,
                )
            )
    for tier in observed.cache:
        looked = tier.hits + tier.misses
        if tier.tier not in limits.cache_tiers or looked < limits.cache_min_lookups:
            continue
        miss_rate = _rate(tier.misses, looked)
        if miss_rate > limits.cache_miss_rate:
            alerts.append(
                Alert(
                    key=f"cache_miss_rate:{tier.tier}",
                    rule="cache_miss_rate",
                    severity="warning",
                    summary=(
                        f"cache tier {tier.tier} missed {miss_rate:.1%} of {looked} lookups in the last "
                        f"{observed.period} (threshold {limits.cache_miss_rate:.1%})"
                    ),
                    value=miss_rate,
                    threshold=limits.cache_miss_rate,
                )
            )
    for provider in observed.providers:
        if provider.calls < limits.provider_min_calls:
            continue
        rate = _rate(provider.errors, provider.calls)
        if rate > limits.provider_error_rate:
            alerts.append(
                Alert(
                    key=f"provider_failures:{provider.provider}",
                    rule="provider_failures",
                    severity="warning",
                    summary=(
                        f"{provider.provider}: {provider.errors} of {provider.calls} calls failed in the last "
                        f"{observed.period} ({rate:.1%}; threshold {limits.provider_error_rate:.1%})"
                    ),
                    value=rate,
                    threshold=limits.provider_error_rate,
                )
            )
    if observed.dead_letters is not None and observed.dead_letters >= limits.dead_letter_depth:
        alerts.append(
            Alert(
                key="dead_letters",
                rule="dead_letters",
                severity="warning",
                summary=(
                    f"{observed.dead_letters:.0f} cache-warming tasks wait in the dead-letter queue "
                    f"(threshold {limits.dead_letter_depth})"
                ),
                value=observed.dead_letters,
                threshold=limits.dead_letter_depth,
            )
        )
    for budget in observed.budgets:
        # Daily quotas only: a per-second budget is spent and back within the second by design.
        if budget.window != "day" or budget.limit <= 0 or limits.budget_min_remaining_share <= 0:
            continue
        share = round(budget.remaining / budget.limit, 4)
        if share < limits.budget_min_remaining_share:
            alerts.append(
                Alert(
                    key=f"budget_low:{budget.upstream}",
                    rule="budget_low",
                    severity="warning",
                    summary=(
                        f"{budget.upstream}: {budget.remaining} of {budget.limit} daily calls left "
                        f"({share:.1%}; threshold {limits.budget_min_remaining_share:.0%}), "
                        f"resets in {budget.resets_in // 3600} h {budget.resets_in % 3600 // 60} min"
                    ),
                    value=share,
                    threshold=limits.budget_min_remaining_share,
                )
            )
    for queue in observed.queues:
        if queue.consumers == 0 and queue.depth >= limits.queue_min_depth:
            alerts.append(
                Alert(
                    key=f"queue_without_consumer:{queue.name}",
                    rule="queue_without_consumer",
                    severity="critical",
                    summary=(
                        f"queue {queue.name} holds {queue.depth} task{'' if queue.depth == 1 else 's'} "
                        "and no worker consumes it"
                    ),
                    value=queue.depth,
                    threshold=limits.queue_min_depth,
                )
            )
    return alerts


# --- service ------------------------------------------------------------------------------------


def alerts_observe(*, period: str | None = None) -> Observations:
    """Read the figures the rules need: metrics of every process, gauges and the broker's queues."""
    period = period or settings.ALERT_PERIOD
    metrics.flush()
    report = metrics.metrics_report(period)
    requests = report["requests"]
    try:
        queues = tuple(queue_figures())
    except Exception:  # the broker is down: the queue rule cannot run, the others still do
        logger.warning("alert check: broker queues unavailable", exc_info=True)
        queues = ()
    return Observations(
        period=period,
        requests=int(requests["total"]),
        errors_5xx=int(requests["errors5xx"]),
        p99_latency_ms=requests["latencyMs"]["p99"],
        cache=tuple(
            TierLookups(tier=tier, hits=int(entry["hits"]), misses=int(entry["misses"]))
            for tier, entry in sorted(report["cache"].items())
        ),
        providers=tuple(
            ProviderCalls(provider=name, calls=int(entry["calls"]), errors=int(entry["errors"]))
            for name, entry in sorted(report["providers"].items())
            if name != WEBHOOK_UPSTREAM  # our own alert channel is not a book provider
        ),
        dead_letters=metrics.gauge_values().get(DEAD_LETTER_GAUGE),
        queues=queues,
        budgets=tuple(metrics.budget_figures()),
    )


def _message(alerts: Sequence[Alert], checked_at: datetime) -> dict:
    return {
        "source": "booktrack",
        "checkedAt": checked_at.isoformat().replace("+00:00", "Z"),
        "alerts": [alert.to_wire() for alert in alerts],
    }


def _send_webhook(url: str, alerts: Sequence[Alert], checked_at: datetime) -> None:
    client = upstream_client(WEBHOOK_UPSTREAM, base_url="")
    response = client.request("POST", url, json_body=_message(alerts, checked_at), allow_redirects=False)
    if response.status_code >= 300:
        raise RuntimeError(f"alert webhook answered HTTP {response.status_code}")


def _send_mail(recipients: Sequence[str], alerts: Sequence[Alert], checked_at: datetime) -> None:
    worst = "CRITICAL" if any(a.severity == "critical" for a in alerts) else "WARNING"
    subject = f"[BooksTrack {worst}] {len(alerts)} alert(s): " + ", ".join(a.key for a in alerts)
    lines = [f"Alert check at {checked_at:%Y-%m-%d %H:%M} UTC", ""]
    lines += [f"- [{a.severity}] {a.summary}" for a in alerts]
    lines += ["", "What each alert means and what to do: docs/operations.md, section Alerts."]
    send_mail(subject[:200], "\n".join(lines), settings.ALERT_EMAIL_FROM, list(recipients), fail_silently=False)


def _deliver(alerts: Sequence[Alert], checked_at: datetime) -> tuple[list[str], list[str]]:
    """Send to every configured channel; (channels that took them, channels that failed)."""
    delivered: list[str] = []
    failed: list[str] = []
    if settings.ALERT_WEBHOOK_URL:
        try:
            _send_webhook(settings.ALERT_WEBHOOK_URL, alerts, checked_at)
            delivered.append("webhook")
        except Exception:
            logger.exception("alert webhook delivery failed")
            failed.append("webhook")
    if settings.ALERT_EMAILS:
        try:
            _send_mail(settings.ALERT_EMAILS, alerts, checked_at)
            delivered.append("mail")
        except Exception:
            logger.exception("alert mail delivery failed")
            failed.append("mail")
    if not delivered and not failed:
        for alert in alerts:
            logger.error("ALERT (no ALERT_WEBHOOK_URL or ALERT_EMAILS configured): %s", alert.summary)
        delivered.append("log")
    return delivered, failed


def alerts_check(*, send: bool = True, observed: Observations | None = None, now: float | None = None) -> AlertCheck:
    """One check: observe, evaluate, deliver each alert not sent in the dedupe window."""
    checked_at = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)
    observed = observed or alerts_observe()
    fired = alerts_evaluate(observed, AlertThresholds.from_settings())
    if not send:
        return AlertCheck(checked_at=checked_at, fired=tuple(fired))
    # A heartbeat for a dead-man's switch outside the service: no increase of this counter for 30
    # minutes means no check ran (no worker on `default`, no beat), which no check can report itself.
    metrics.record_event("alert_checks")
    new: list[Alert] = []
    suppressed: list[Alert] = []
    for alert in fired:
        claimed = cache.add(DEDUPE_PREFIX + alert.key, checked_at.isoformat(), timeout=settings.ALERT_DEDUPE_SECONDS)
        (new if claimed else suppressed).append(alert)
    delivered: list[str] = []
    failed: list[str] = []
    if new:
        delivered, failed = _deliver(new, checked_at)
        if not delivered:  # nothing took them: release the claims so the next check tries again
            cache.delete_many([DEDUPE_PREFIX + alert.key for alert in new])
        else:
            for alert in new:
                metrics.record_event(f"alert:{alert.rule}")
    return AlertCheck(
        checked_at=checked_at,
        fired=tuple(fired),
        sent=tuple(new) if delivered else (),
        suppressed=tuple(suppressed),
        channels=tuple(delivered),
        failed_channels=tuple(failed),
    )
