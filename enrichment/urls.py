"""Routes of the enrichment app (full paths; included at the root)."""

urlpatterns: list = []
