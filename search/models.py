"""The stored catalog: works, editions (unique ISBN-13) and authors found by searches.

Written after the response by the `search.upsert_catalog` task; read by ISBN lookups (tier CATALOG).
"""

from __future__ import annotations

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=300)
    name_key = models.CharField(max_length=300, db_index=True, help_text="casefolded comparison key")
    gender = models.CharField(max_length=16, default="Unknown")
    open_library_id = models.CharField(max_length=32, blank=True, default="", db_index=True)
    isbndb_id = models.CharField(max_length=64, blank=True, default="")
    google_books_id = models.CharField(max_length=64, blank=True, default="")
    goodreads_id = models.CharField(max_length=32, blank=True, default="")
    wikidata_id = models.CharField(max_length=32, blank=True, default="")
    provenance = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name_key"], name="search_author_unique_name_key")]

    def __str__(self) -> str:
        return self.name


class Work(models.Model):
    title = models.CharField(max_length=500, db_index=True)
    title_key = models.CharField(max_length=500, db_index=True)
    authors = models.ManyToManyField(Author, related_name="works", blank=True)
    description = models.TextField(blank=True, default="")
    subject_tags = models.JSONField(default=list, blank=True)
    cover_image_url = models.URLField(max_length=1000, blank=True, default="")
    first_publication_year = models.IntegerField(null=True, blank=True)
    original_language = models.CharField(max_length=8, blank=True, default="")
    open_library_work_id = models.CharField(max_length=32, blank=True, default="", db_index=True)
    google_books_volume_ids = models.JSONField(default=list, blank=True)
    goodreads_work_ids = models.JSONField(default=list, blank=True)
    librarything_ids = models.JSONField(default=list, blank=True)
    amazon_asins = models.JSONField(default=list, blank=True)
    isbndb_id = models.CharField(max_length=32, blank=True, default="")
    quality = models.PositiveSmallIntegerField(default=0)
    primary_provider = models.CharField(max_length=32, blank=True, default="")
    provenance = models.JSONField(default=dict, blank=True)
    record = models.JSONField(default=dict, blank=True, help_text="the WorkDTO as last merged (wire form)")
    author_records = models.JSONField(
        default=list, blank=True, help_text="the AuthorDTOs as last merged, in order (wire form)"
    )
    fetched_at = models.DateTimeField()
    merged_since = models.DateTimeField(
        null=True, blank=True, help_text="when the record's merge chain began (restarted after CATALOG_FRESH_DAYS)"
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Edition(models.Model):
    work = models.ForeignKey(Work, related_name="editions", on_delete=models.CASCADE)
    isbn13 = models.CharField(max_length=13, unique=True)
    isbn10 = models.CharField(max_length=10, blank=True, default="", db_index=True)
    title = models.CharField(max_length=500, blank=True, default="")
    publisher = models.CharField(max_length=300, blank=True, default="")
    publication_date = models.CharField(max_length=10, blank=True, default="")
    page_count = models.PositiveIntegerField(null=True, blank=True)
    format = models.CharField(max_length=16, default="Paperback")
    language = models.CharField(max_length=8, blank=True, default="")
    cover_image_url = models.URLField(max_length=1000, blank=True, default="")
    open_library_edition_id = models.CharField(max_length=32, blank=True, default="")
    google_books_volume_id = models.CharField(max_length=32, blank=True, default="")
    isbndb_id = models.CharField(max_length=32, blank=True, default="")
    quality = models.PositiveSmallIntegerField(default=0)
    primary_provider = models.CharField(max_length=32, blank=True, default="")
    provenance = models.JSONField(default=dict, blank=True)
    record = models.JSONField(default=dict, blank=True, help_text="the EditionDTO as last merged (wire form)")
    fetched_at = models.DateTimeField(db_index=True)
    merged_since = models.DateTimeField(
        null=True, blank=True, help_text="when the record's merge chain began (restarted after CATALOG_FRESH_DAYS)"
    )

    class Meta:
        ordering = ["isbn13"]

    def __str__(self) -> str:
        return f"{self.isbn13} {self.title}"
