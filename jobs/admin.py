from django.contrib import admin

from jobs.models import Job, JobEvent, JobItem


class JobEventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    fields = ("seq", "type", "payload", "created_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "pipeline", "status", "processed_count", "total_count", "created_at", "ended_at")
    list_filter = ("pipeline", "status")
    search_fields = ("id",)
    readonly_fields = ("id", "token_hash", "token_expires_at", "created_at", "last_update")
    exclude = ("results",)
    inlines = (JobEventInline,)


@admin.register(JobItem)
class JobItemAdmin(admin.ModelAdmin):
    list_display = ("job", "index", "success", "created_at")
    list_filter = ("success",)
    raw_id_fields = ("job",)
