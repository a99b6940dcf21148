"""Routes of the jobs app (full paths; included at the root)."""

urlpatterns: list = []
