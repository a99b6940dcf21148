"""Routes of the search app (full paths; included at the root)."""

from django.urls import path

from search import views

urlpatterns = [
    path("v1/search/title", views.V1TitleSearch.as_view(), name="v1-search-title"),
    path("v1/search/isbn", views.V1IsbnSearch.as_view(), name="v1-search-isbn"),
    path("v1/search/advanced", views.V1AdvancedSearch.as_view(), name="v1-search-advanced"),
    path("search/title", views.LegacyTitleSearch.as_view(), name="legacy-search-title"),
    path("search/isbn", views.LegacyIsbnSearch.as_view(), name="legacy-search-isbn"),
    path("search/advanced", views.LegacyAdvancedSearch.as_view(), name="legacy-search-advanced"),
    path("search/author", views.LegacyAuthorSearch.as_view(), name="legacy-search-author"),
    path("external/google-books", views.ExternalGoogleBooks.as_view(), name="external-google-books"),
    path("external/google-books-isbn", views.ExternalGoogleBooksIsbn.as_view(), name="external-google-books-isbn"),
    path("external/openlibrary", views.ExternalOpenLibrary.as_view(), name="external-openlibrary"),
    path("external/openlibrary-author", views.ExternalOpenLibraryAuthor.as_view(), name="external-openlibrary-author"),
    path("external/isbndb", views.ExternalIsbndb.as_view(), name="external-isbndb"),
    path("external/isbndb-editions", views.ExternalIsbndbEditions.as_view(), name="external-isbndb-editions"),
    path("external/isbndb-isbn", views.ExternalIsbndbIsbn.as_view(), name="external-isbndb-isbn"),
    path("v3/books/search", views.V3BookSearch.as_view(), name="v3-books-search"),
    path("v3/books/enrich", views.V3Enrich.as_view(), name="v3-books-enrich"),
    path("v3/books/<str:isbn>", views.V3BookByIsbn.as_view(), name="v3-books-isbn"),
    path("v3/capabilities", views.V3Capabilities.as_view(), name="v3-capabilities"),
    path("api/cache/metrics", views.CacheMetrics.as_view(), name="cache-metrics"),
]
