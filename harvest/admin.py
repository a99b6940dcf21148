"""Admin of the harvest app: harvest runs, covers, and the harvest dashboard (`/admin/harvest/dashboard/`).

Admin of the harvest app: warming runs and dead letters (with a requeue action), the archive index.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.html import format_html

from booktrack.core.exceptions import Conflict
from harvest.cover_decoration import cover_public_url
from harvest.covers import covers_harvest_start, covers_overview
from harvest.models import ArchivedObject, Cover, HarvestRun, HarvestTrigger, WarmingDeadLetter, WarmingRun
from harvest.warming import dlq_requeue


@admin.register(HarvestRun)
class HarvestRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "trigger",
        "started_at",
        "finished_at",
        "tried",
        "stored",
        "skipped",
        "failed",
        "missing",
        "bytes_stored",
        "budget_used",
        "stop_reason",
    )
    list_filter = ("status", "trigger", "stop_reason")
    readonly_fields = [f.name for f in HarvestRun._meta.fields]
    change_list_template = "admin/harvest/harvestrun/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are started by POST /api/harvest-covers, beat or the command


@admin.register(Cover)
class CoverAdmin(admin.ModelAdmin):
    list_display = ("isbn13", "preview", "status", "source", "bytes_total", "checked_at", "run")
    list_filter = ("status", "source")
    search_fields = ("isbn13",)
    readonly_fields = (
        "preview",
        "isbn13",
        "status",
        "source",
        "source_url",
        "variants",
        "bytes_total",
        "run",
        "checked_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="cover")
    def preview(self, cover: Cover) -> str:
        if cover.status != "stored":
            return "-"
        return format_html(
            '<img src="{}" alt="{}" style="height:48px">', cover_public_url(cover.isbn13, "small"), cover.isbn13
        )


def _dashboard(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":  # "Start a harvest now" (CSRF-protected form, staff only)
        try:
            run = covers_harvest_start(trigger=HarvestTrigger.ADMIN)
        except Conflict as error:
            messages.error(request, f"{error.message} (run {error.details['runId'] if error.details else '?'})")
        else:
            messages.success(request, f"Harvest run {run.id} queued.")
        return HttpResponseRedirect(request.path)
    context = {
        **admin.site.each_context(request),
        "title": "Cover harvest",
        "subtitle": None,
        **covers_overview(),
    }
    return TemplateResponse(request, "admin/harvest/dashboard.html", context)


# Staff only: anyone else is sent to the admin login (AdminSite.admin_view).
harvest_dashboard = admin.site.admin_view(_dashboard)


@admin.register(WarmingRun)
class WarmingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "max_depth", "authors_queued", "coauthors_queued", "warmed", "dead_lettered")
    readonly_fields = list_display


@admin.register(WarmingDeadLetter)
class WarmingDeadLetterAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "attempts", "failed_at", "depth", "short_error")
    list_filter = ("depth",)
    search_fields = ("author", "error")
    readonly_fields = ("run", "author", "depth", "max_depth", "error", "attempts", "task_id", "failed_at")
    actions = ("requeue",)

    @admin.display(description="error")
    def short_error(self, obj: WarmingDeadLetter) -> str:
        return obj.error[:120]

    @admin.action(description="Requeue the selected dead letters (warm them again)")
    def requeue(self, request, queryset) -> None:
        done = dlq_requeue(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Requeued {len(done.requeued)} dead letter(s).", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ArchivedObject)
class ArchivedObjectAdmin(admin.ModelAdmin):
    list_display = ("kind", "key", "path", "size_bytes", "item_count", "archived_at", "retain_until")
    list_filter = ("kind",)
    search_fields = ("key", "path")
    readonly_fields = (
        "kind", "key", "path", "sha256", "size_bytes", "item_count", "isbns", "retain_until", "archived_at",
    )  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False
