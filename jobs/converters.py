"""The `<jobid:...>` path converter: a hyphenated UUID in any letter case (RFC 4122: case-insensitive
on input; Swift's `UUID().uuidString` is upper-case), passed to the view as the client wrote it, so
the answer can echo that spelling. Services parse it to a `uuid.UUID`, which is what is stored."""

from __future__ import annotations


class JobIdConverter:
    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: object) -> str:
        return str(value)
