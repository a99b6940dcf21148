from django.contrib import admin

from search.models import Author, Edition, Work


class EditionInline(admin.TabularInline):
    model = Edition
    extra = 0
    fields = ("isbn13", "title", "format", "publisher", "publication_date", "language", "primary_provider")
    readonly_fields = fields
    show_change_link = True


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin):
    list_display = ("title", "first_publication_year", "primary_provider", "quality", "fetched_at")
    list_filter = ("primary_provider", "original_language")
    search_fields = ("title", "authors__name", "open_library_work_id", "editions__isbn13")
    filter_horizontal = ("authors",)
    inlines = [EditionInline]
    readonly_fields = ("provenance", "record", "fetched_at")


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = ("isbn13", "title", "format", "publisher", "language", "primary_provider", "fetched_at")
    list_filter = ("format", "language", "primary_provider")
    search_fields = ("isbn13", "isbn10", "title", "publisher", "work__title")
    raw_id_fields = ("work",)
    readonly_fields = ("provenance", "record", "fetched_at")


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ("name", "open_library_id", "wikidata_id", "fetched_at")
    search_fields = ("name", "open_library_id", "wikidata_id")
