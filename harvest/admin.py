"""Admin of the harvest app: warming runs and dead letters (with a requeue action), the archive index."""

from __future__ import annotations

from django.contrib import admin, messages

from harvest.models import ArchivedObject, WarmingDeadLetter, WarmingRun
from harvest.warming import dlq_requeue


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
