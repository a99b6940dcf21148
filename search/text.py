"""Text keys and fuzzy matching (pure): the one place that decides when two names or titles are the same.

Every comparison key starts from `fold`: casefold + NFKD with combining marks dropped, so "Émile"
matches "Emile" and "Gödel" matches "Godel"; letters of other scripts are kept as they are. Keys are
for comparing only: the text a user sees is never changed.

- `text_key`: folded words, punctuation as spaces ("J.K. Rowling" -> "j k rowling").
- `title_key`: a title without its subtitle and leading article ("The Hobbit: or..." -> "hobbit").
- `uninvert_name`: catalogue order to display order ("Herbert, Frank" -> "Frank Herbert"), with the
  one list of name suffixes (`NAME_SUFFIXES`) that never count as a given name.
- `name_key`: "the same person": display order, `text_key` without spaces, so "Rowling, J.K.",
  "J. K. Rowling" and "JK ROWLING" are one key.
- `surname_key`: the longest word of a name, a loose author match for ranking and clustering.
- `similarity` (0..1) and `edit_distance`: the fuzzy matcher (rapidfuzz).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from rapidfuzz.distance import OSA, Indel

_NON_WORD: Final = re.compile(r"[^\w]+", re.UNICODE)

# Leading articles a title key drops (English, French, Spanish, German, Italian).
ARTICLES: Final = frozenset({"the", "a", "an", "le", "la", "les", "el", "los", "las", "der", "die", "das", "il", "lo"})

# Trailing name parts that follow a comma without being a given name ("King, Martin Luther, Jr.").
NAME_SUFFIXES: Final = frozenset(
    {"jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "esq", "obe", "cbe", "kbe", "dbe", "ltd", "inc", "llc"}
)


def fold(value: str | None) -> str:
    """Casefolded, NFKD-decomposed, combining marks dropped ("Márquez" -> "marquez"); "" for None."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def text_key(value: str | None) -> str:
    """`fold`, then every run of punctuation (and "_") as one space, single-spaced."""
    return " ".join(_NON_WORD.sub(" ", fold(value)).replace("_", " ").split())


def title_key(title: str | None) -> str:
    """A title's comparison form: `text_key` without a subtitle after ':' (when what precedes the
    colon has 3+ characters) and without a leading article ("The Great Gatsby" -> "great gatsby")."""
    if not title:
        return ""
    head = title.split(":", 1)[0]
    main = head if ":" in title and len(head.strip()) >= 3 else title
    words = text_key(main).split()
    if len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


def is_name_suffix(part: str) -> bool:
    """True for "Jr.", "III", "PhD"...: a name part that is not a given name."""
    return part.replace(".", "").replace(" ", "").casefold() in NAME_SUFFIXES


def uninvert_name(name: str) -> str:
    """'Herbert, Frank' -> 'Frank Herbert'; 'King, Martin Luther, Jr.' -> 'Martin Luther King Jr.'.

    Only the library-catalogue form (surname, given names[, suffix]) is turned around; a name whose
    part after the comma is a suffix ("Martin Luther King, Jr."), with more commas ("Smith, John,
    1950-") or with implausibly long parts (an organisation) is returned as it is.
    """
    if "," not in name:
        return name
    parts = [p.strip() for p in name.split(",")]
    if any(not p for p in parts):
        return name
    suffix = parts.pop() if len(parts) == 3 and is_name_suffix(parts[-1]) else None
    if len(parts) != 2 or is_name_suffix(parts[1]) or len(parts[0].split()) > 3 or len(parts[1].split()) > 4:
        return name
    return " ".join(p for p in (parts[1], parts[0], suffix) if p)


def name_key(name: str | None) -> str:
    """Comparison key for "the same person": display order, folded, without spaces or punctuation."""
    if not name:
        return ""
    return text_key(uninvert_name(" ".join(name.split()))).replace(" ", "")


def surname_key(name: str | None) -> str:
    """The surname-ish token: the longest word ("Tolkien, J.R.R." and "J. R. R. Tolkien" -> "tolkien")."""
    words = text_key(name).split()
    if not words:
        return ""
    return max(words, key=lambda w: (len(w), w))


def similarity(a: str, b: str) -> float:
    """0..1: twice the longest common subsequence over the total length (rapidfuzz's normalized Indel
    similarity; `fuzz.ratio` / 100). Compare keys, not raw text."""
    return float(Indel.normalized_similarity(a, b))


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
    adjacent characters each count one edit ("fantsay" -> "fantasy" is 1)."""
    return int(OSA.distance(a, b))
