"""Routes of the search app (full paths; included at the root)."""

urlpatterns: list = []
