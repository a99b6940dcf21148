"""Routes of the scanning app (full paths; included at the root)."""

urlpatterns: list = []
