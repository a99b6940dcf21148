"""`python -m benchmarks.run --only X` rewrites X's sections of docs/benchmarks.md and keeps the rest."""

from benchmarks.run import splice_sections

EXISTING = """# Benchmarks

Written by `make bench` on 2026-12-02 15:41 UTC.

## Floor

floor figures

## CSV import

old csv figures
""".splitlines()


def test_splice_replaces_a_section_in_place_and_keeps_the_others():
    out = splice_sections(EXISTING, ["## CSV import", "", "new csv figures"])
    text = "\n".join(out)
    assert "floor figures" in text and "new csv figures" in text and "old csv figures" not in text
    assert text.index("## Floor") < text.index("## CSV import")
    assert text.startswith("Written by `make bench`")  # the full run's line stays, the title is the caller's


def test_splice_appends_a_new_section():
    out = splice_sections(EXISTING, ["## Scan intake", "", "scan figures"])
    text = "\n".join(out)
    assert text.endswith("scan figures") and "old csv figures" in text
