"""Routes of the harvest app (full paths; included at the root)."""

urlpatterns: list = []
