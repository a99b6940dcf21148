"""Genre normalisation: provider categories/subjects -> canonical genre names. Pure.

`normalize_genres(raw, provider=...)` turns Google Books BISAC-style paths ("Fiction / Science
Fiction / General"), ISBNdb subjects (LC headings, class codes) and OpenLibrary subjects (a
folksonomy full of shelf noise) into a de-duplicated, sorted list:

1. noise is dropped: shelf/availability tags ("Accessible book", "Protected DAISY", "In library"),
   list tags ("nyt:..."), award and reading-level tags, fictitious characters and imaginary places,
   countries (places), centuries (times), language tags, LC class codes;
2. an item is looked up whole, then by its parts: a path (" / "), a heading (", ", " - ", ": "),
   then "&"/"and" pieces; leading audience words ("Juvenile", "Young adult") and nationality words
   ("English fantasy fiction") are peeled off;
3. typos are tolerated: similarity >= 0.85 (`search.text.similarity`) AND at most 1 edit (2 for
   phrases of 10+ characters; a swap of two adjacent letters is one edit). The edit cap keeps real
   words apart ("romantic fiction" is 0.90 similar to "romance fiction", but 3 edits away);
4. an item that maps to nothing and is not noise passes through, cleaned and title-cased.

In a Google path only the top level and the first mapped level below it count: deeper levels are
sub-genres of that one ("Fiction / Science Fiction / Action & Adventure" is science fiction, not
adventure). Within one item a specific audience (Young Adult, Middle Grade) replaces Children's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Final

from enrichment.countries import ALL_COUNTRIES, country_by_name
from search.text import edit_distance, fold, similarity

ADVENTURE, ART, BIOGRAPHY, BUSINESS = "Adventure", "Art", "Biography", "Business"
CHILDRENS, CLASSICS, CONTEMPORARY, COOKING = "Children's", "Classics", "Contemporary", "Cooking"
DRAMA, DYSTOPIAN, ESSAYS, FANTASY, FICTION = "Drama", "Dystopian", "Essays", "Fantasy", "Fiction"
GRAPHIC_NOVELS, HISTORICAL_FICTION, HISTORY = "Graphic Novels", "Historical Fiction", "History"
HORROR, HUMOR, LGBTQ, LITERARY_FICTION = "Horror", "Humor", "LGBTQ+", "Literary Fiction"
MIDDLE_GRADE, MYSTERY, NONFICTION, PHILOSOPHY = "Middle Grade", "Mystery", "Nonfiction", "Philosophy"
POETRY, POLITICS, PSYCHOLOGY, RELIGION = "Poetry", "Politics", "Psychology", "Religion"
ROMANCE, SCIENCE, SCIENCE_FICTION, SELF_HELP = "Romance", "Science", "Science Fiction", "Self-Help"
SHORT_STORIES, THRILLER, TRAVEL, TRUE_CRIME = "Short Stories", "Thriller", "Travel", "True Crime"
WESTERN, YOUNG_ADULT = "Western", "Young Adult"

CANONICAL_GENRES: Final[tuple[str, ...]] = tuple(
    sorted(
        {
            ADVENTURE, ART, BIOGRAPHY, BUSINESS, CHILDRENS, CLASSICS, CONTEMPORARY, COOKING, DRAMA,
            DYSTOPIAN, ESSAYS, FANTASY, FICTION, GRAPHIC_NOVELS, HISTORICAL_FICTION, HISTORY, HORROR,
            HUMOR, LGBTQ, LITERARY_FICTION, MIDDLE_GRADE, MYSTERY, NONFICTION, PHILOSOPHY, POETRY,
            POLITICS, PSYCHOLOGY, RELIGION, ROMANCE, SCIENCE, SCIENCE_FICTION, SELF_HELP,
            SHORT_STORIES, THRILLER, TRAVEL, TRUE_CRIME, WESTERN, YOUNG_ADULT,
        }
    )
)  # fmt: skip

AUDIENCES: Final = frozenset({CHILDRENS, YOUNG_ADULT, MIDDLE_GRADE})

# Synonyms, keyed by `_key()` form (casefolded, accent-free, "&" -> "and", punctuation dropped).
# Shared by every provider: Google's BISAC levels, LC headings (ISBNdb, OpenLibrary), folksonomy tags.
SYNONYMS: Final[Mapping[str, tuple[str, ...]]] = {
    k: (v,) if isinstance(v, str) else tuple(v)
    for k, v in {
        # fiction, generic
        "fiction": FICTION, "novel": FICTION, "novels": FICTION, "general fiction": FICTION,
        "fiction general": FICTION, "fiction in english": FICTION, "stories": FICTION,
        "nonfiction": NONFICTION, "non fiction": NONFICTION, "juvenile nonfiction": (CHILDRENS, NONFICTION),
        "young adult nonfiction": (YOUNG_ADULT, NONFICTION),
        # science fiction
        "science fiction": SCIENCE_FICTION, "sci fi": SCIENCE_FICTION, "scifi": SCIENCE_FICTION,
        "sf": SCIENCE_FICTION, "hard science fiction": SCIENCE_FICTION, "space opera": SCIENCE_FICTION,
        "cyberpunk": SCIENCE_FICTION, "time travel": SCIENCE_FICTION, "time traveling": SCIENCE_FICTION,
        "space warfare": SCIENCE_FICTION, "science fiction general": SCIENCE_FICTION,
        "speculative fiction": SCIENCE_FICTION,
        # fantasy
        "fantasy": FANTASY, "fantasy fiction": FANTASY, "fantastic fiction": FANTASY,
        "epic fantasy": FANTASY, "high fantasy": FANTASY, "urban fantasy": FANTASY,
        "dark fantasy": FANTASY, "sword and sorcery": FANTASY, "fantasy epic": FANTASY,
        "fairy tales": FANTASY,
        # mystery / thriller / crime
        "mystery": MYSTERY, "mysteries": MYSTERY, "mystery fiction": MYSTERY,
        "mystery and detective": MYSTERY, "detective": MYSTERY, "detective fiction": MYSTERY,
        "detective and mystery stories": MYSTERY, "detective and mystery fiction": MYSTERY,
        "crime fiction": MYSTERY, "cozy mystery": MYSTERY, "whodunit": MYSTERY,
        "mystery and suspense": (MYSTERY, THRILLER), "mysteries and thrillers": (MYSTERY, THRILLER),
        "thriller": THRILLER, "thrillers": THRILLER, "thrillers and suspense": THRILLER,
        "suspense": THRILLER, "suspense fiction": THRILLER, "espionage": THRILLER,
        "spy stories": THRILLER, "psychological thriller": THRILLER, "legal thriller": THRILLER,
        "true crime": TRUE_CRIME,
        # romance
        "romance": ROMANCE, "romance fiction": ROMANCE, "romantic fiction": ROMANCE,
        "love stories": ROMANCE, "romantic suspense": (ROMANCE, THRILLER),
        "contemporary romance": ROMANCE, "historical romance": (ROMANCE, HISTORICAL_FICTION),
        # horror
        "horror": HORROR, "horror fiction": HORROR, "horror tales": HORROR, "ghost stories": HORROR,
        # literary, classics, contemporary
        "literary": LITERARY_FICTION, "literary fiction": LITERARY_FICTION,
        "classics": CLASSICS, "classic": CLASSICS, "classic fiction": CLASSICS,
        "classic literature": CLASSICS, "classical literature": CLASSICS,
        "contemporary": CONTEMPORARY, "contemporary fiction": CONTEMPORARY,
        "contemporary women": CONTEMPORARY,
        # historical
        "historical": HISTORICAL_FICTION, "historical fiction": HISTORICAL_FICTION,
        "history": HISTORY, "world history": HISTORY, "military history": HISTORY,
        # dystopian
        "dystopian": DYSTOPIAN, "dystopia": DYSTOPIAN, "dystopias": DYSTOPIAN,
        "dystopian fiction": DYSTOPIAN, "post apocalyptic": DYSTOPIAN,
        # audiences
        "young adult": YOUNG_ADULT, "young adult fiction": YOUNG_ADULT, "ya": YOUNG_ADULT,
        "teen": YOUNG_ADULT, "teens": YOUNG_ADULT, "teen fiction": YOUNG_ADULT,
        "childrens": CHILDRENS, "children": CHILDRENS, "childrens fiction": CHILDRENS,
        "childrens books": CHILDRENS, "childrens literature": CHILDRENS,
        "childrens stories": CHILDRENS, "childrens audio": CHILDRENS, "juvenile": CHILDRENS,
        "juvenile fiction": CHILDRENS, "juvenile literature": CHILDRENS, "juvenile works": CHILDRENS,
        "juvenile audience": CHILDRENS, "picture books": CHILDRENS, "kids": CHILDRENS,
        "ficcion juvenil": CHILDRENS, "literatura juvenil": CHILDRENS,
        "romans nouvelles etc pour la jeunesse": CHILDRENS,
        "middle grade": MIDDLE_GRADE, "middle grade fiction": MIDDLE_GRADE,
        # non-fiction
        "biography": BIOGRAPHY, "biographies": BIOGRAPHY, "autobiography": BIOGRAPHY,
        "biography and autobiography": BIOGRAPHY, "memoir": BIOGRAPHY, "memoirs": BIOGRAPHY,
        "personal memoirs": BIOGRAPHY,
        "science": SCIENCE, "popular science": SCIENCE, "physics": SCIENCE, "biology": SCIENCE,
        "astronomy": SCIENCE, "chemistry": SCIENCE,
        "philosophy": PHILOSOPHY,
        "self help": SELF_HELP, "self improvement": SELF_HELP, "personal growth": SELF_HELP,
        "self help techniques": SELF_HELP,
        "business": BUSINESS, "business and economics": BUSINESS, "economics": BUSINESS,
        "management": BUSINESS, "entrepreneurship": BUSINESS, "leadership": BUSINESS,
        "psychology": PSYCHOLOGY, "religion": RELIGION, "politics": POLITICS,
        "political science": POLITICS, "travel": TRAVEL, "cooking": COOKING, "cookery": COOKING,
        "art": ART, "essays": ESSAYS,
        # forms
        "poetry": POETRY, "poems": POETRY, "verse": POETRY, "poetry collections": POETRY,
        "drama": DRAMA, "plays": DRAMA, "short stories": SHORT_STORIES,
        "graphic novels": GRAPHIC_NOVELS, "graphic novel": GRAPHIC_NOVELS,
        "comics and graphic novels": GRAPHIC_NOVELS, "comics": GRAPHIC_NOVELS, "manga": GRAPHIC_NOVELS,
        "comic books strips etc": GRAPHIC_NOVELS,
        "humor": HUMOR, "humour": HUMOR, "humorous fiction": HUMOR, "humorous stories": HUMOR,
        "comedy": HUMOR,
        "adventure": ADVENTURE, "action and adventure": ADVENTURE, "adventure stories": ADVENTURE,
        "adventure fiction": ADVENTURE,
        "western": WESTERN, "westerns": WESTERN, "western stories": WESTERN,
        # Lumped shelf names are ambiguous ("Science fiction, fantasy, horror" is on The Lord of the
        # Rings); they yield nothing and the specific categories beside them decide.
        "science fiction and fantasy": (), "science fiction fantasy and magic": (),
        "science fiction fantasy magic": (), "science fiction fantasy horror": (),
        "sci fi and fantasy": (), "novela juvenil": CHILDRENS,
        "lgbt": LGBTQ, "lgbtq": LGBTQ, "lgbtqia": LGBTQ, "gay": LGBTQ, "lesbian": LGBTQ, "queer": LGBTQ,
    }.items()
}  # fmt: skip

# BISAC top levels whose second level names a genre ("Fiction / Horror"); under other top levels
# the second level is a topic ("History / Military") and is not mapped.
GENRE_BEARING_TOP_LEVELS: Final = frozenset({FICTION, CHILDRENS, YOUNG_ADULT, GRAPHIC_NOVELS, NONFICTION, MIDDLE_GRADE})

NOISE_EXACT: Final = frozenset(
    {
        "accessible book", "protected daisy", "in library", "lending library", "large type books",
        "large print books", "overdrive", "internet archive wishlist", "open library staff picks",
        "new york times bestseller", "new york times reviewed", "general", "literature",
        "history and criticism", "criticism and interpretation", "handbooks manuals",
        "handbooks manuals etc", "translations", "subjects", "genres and styles", "books",
        "ebooks", "e books", "audiobooks", "audio", "readers", "long now manual for civilization",
        "social themes", "reading level", "interviews",
    }
)  # fmt: skip

NOISE_PATTERNS: Final = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^nyt:",
        r"\bnyt\b",
        r"\baward(s)?\b",  # "Locus Award winner", "Hugo Award nominee"
        r"\breading level\b",
        r"\((fictitious|fictional|imaginary|caracter ficticio|personnage fictif|lugar imaginario)\b",
        r"\b(fictitious|imaginary) (character|place|organization)\b",
        r"\blanguage materials\b",
        r"\blanguage\b$",  # "Spanish language", "German language"
        r"^translations? (from|into)\b",
        r"\bauthors$",  # "Welsh Authors", "English Authors"
        r"^(\d{1,2}(st|nd|rd|th)|[a-z-]+th) century\b",
        r"^\d{3,4}s?$",
        r"^\d{3,4} ?[-–] ?\d{3,4}$",
        r"^(to|since) \d{3,4}$",
        r"^[A-Z]{1,2}\d{0,4}(\.\d+)?$",  # LC class codes ("PQ", "PR6068")
        r"^\d+(\.\d+)?$",  # Dewey or bare numbers ("878", "823.914")
        r"\bstaff picks?\b",
        r"\b(films?|motion pictures|peliculas|reading materials)\b",
        r"personaje literario|personnage (litteraire|fictif)",
        r"\bbestsellers?\b",
        r"^accessible\b",
        r"\bdaisy\b",
        r"^in library$",
    )
)

AGE_RULES: Final = (
    (
        re.compile(
            r"\b(young adult|teen|12 ?(-|\+)? ?up|ages? 1[2-4] ?(-|to|\+)"
            r"|gr(ades?|\.)? ?[7-9] ?(-|to) ?(9|1[0-2]))\b",
            re.I,
        ),
        YOUNG_ADULT,
    ),
    (
        re.compile(
            r"\b(middle grade|ages? [89] ?(-|to) ?1[12]|9 ?- ?12|8 ?- ?12"
            r"|gr(ades?|\.)? ?[34] ?(-|to) ?[67])\b",
            re.I,
        ),
        MIDDLE_GRADE,
    ),
)

SMALL_WORDS: Final = frozenset(
    {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to", "with"}
)


def normalize_genres(raw: Iterable[object], *, provider: str | None = None) -> list[str]:
    """Canonical genres (and cleaned pass-through subjects) for raw provider categories, sorted.

    Anything that is not a string (upstream JSON can hold numbers or nulls) is skipped."""
    out: set[str] = set()
    for item in raw or ():
        if not isinstance(item, str):
            continue
        out.update(genres_for_item(item, provider=provider))
    return sorted(out, key=lambda g: (g.casefold(), g))


def genres_for_item(item: str, *, provider: str | None = None) -> list[str]:
    """The genres one raw category yields (empty for noise). Exposed for the eval and tests."""
    text = _clean(item)
    if not text or _is_noise(text):
        return []
    if " / " in text or (provider == "google-books" and "/" in text):
        mapped = _map_path([p for p in re.split(r"\s*/\s*", text) if p])
    else:
        mapped = _map_heading(text)
    if mapped is None:
        return [_title_case(text)]
    result = set(mapped)
    if result & {YOUNG_ADULT, MIDDLE_GRADE}:
        result.discard(CHILDRENS)
    return sorted(result)


# --- mapping --------------------------------------------------------------------------------------


def _map_path(segments: list[str]) -> list[str] | None:
    if not segments:
        return None
    top = _map_heading(segments[0])
    if top is None:
        return None if len(segments) == 1 else _map_path(segments[1:])
    result = list(top)
    if set(top) & GENRE_BEARING_TOP_LEVELS:
        for segment in segments[1:]:
            if _key(segment) == "general":
                continue
            sub = _map_heading(segment)
            if sub:
                result += sub
                break
    return result


def _map_heading(text: str) -> list[str] | None:
    """Whole phrase, then its comma/dash/colon parts, then "&"/"and" pieces. None if nothing maps."""
    whole = _map_phrase(text)
    if whole is not None:
        return whole
    parts = [p for p in re.split(r"\s*(?:,|;|:|\s-\s|\s–\s)\s*", text) if p.strip()]
    if len(parts) == 1:
        parts = [p for p in re.split(r"\s*(?:&|\band\b|\+)\s*", text) if p.strip()]
        if len(parts) == 1:
            return None
    found: list[str] = []
    for part in parts:
        if _is_noise(part):
            continue
        mapped = _map_phrase(part)
        if mapped is None and re.search(r"&|\band\b", part):
            pieces = [_map_phrase(p) for p in re.split(r"\s*(?:&|\band\b)\s*", part) if p.strip()]
            mapped = [g for piece in pieces if piece for g in piece] or None
        if mapped:
            found += mapped
    return found or None


def _map_phrase(text: str) -> list[str] | None:
    key = _key(text)
    if not key:
        return None
    hit = _lookup(key)
    if hit is not None:
        return hit
    for pattern, genre in AGE_RULES:
        if pattern.search(text):
            rest = _key(pattern.sub(" ", text))
            rest = re.sub(r"\b(childrens|books?|fiction|ages?|grades?|gr|up)\b", " ", rest).strip()
            extra = SYNONYMS.get(" ".join(rest.split()), ())
            return [genre, *extra]
    # Nationality words carry no genre: "English fantasy fiction", "British and Irish fiction".
    stripped = _strip_demonyms(key)
    if stripped != key:
        found = _lookup(stripped)
        if found is not None:
            return found
        return [] if not stripped or stripped in NOISE_EXACT else None
    # Audience prefixes: "Juvenile fantasy fiction" -> Children's + Fantasy.
    for prefix, audience in (("juvenile ", CHILDRENS), ("childrens ", CHILDRENS), ("young adult ", YOUNG_ADULT)):
        if key.startswith(prefix):
            rest = key[len(prefix) :]
            if rest in SYNONYMS:
                return [audience, *SYNONYMS[rest]]
    return _fuzzy(key)


def _lookup(key: str) -> list[str] | None:
    """Exact synonym, or "<genre> fiction|literature|stories|novels" -> that genre."""
    if key in SYNONYMS:
        return list(SYNONYMS[key])
    match = re.fullmatch(r"(.+) (fiction|literature|stories|novels|tales)", key)
    if match and match.group(1) in SYNONYMS:
        return list(SYNONYMS[match.group(1)])
    return None


FUZZY_MIN_SIMILARITY: Final = 0.85
FUZZY_MIN_LENGTH: Final = 5  # shorter keys ("sf", "ya", "teen") only match exactly


def _fuzzy(key: str) -> list[str] | None:
    """The synonym `key` is a typo of: the most similar within the similarity floor and edit cap."""
    if len(key) < FUZZY_MIN_LENGTH:
        return None
    max_edits = 1 if len(key) < 10 else 2
    best: tuple[float, str] | None = None
    for candidate in SYNONYMS:
        if abs(len(candidate) - len(key)) > max_edits:
            continue
        ratio = similarity(key, candidate)
        if ratio >= FUZZY_MIN_SIMILARITY and (best is None or ratio > best[0]):
            if edit_distance(key, candidate) <= max_edits:
                best = (ratio, candidate)
    return list(SYNONYMS[best[1]]) if best else None


# --- cleaning and noise ---------------------------------------------------------------------------


def _clean(text: str) -> str:
    text = html.unescape(text).replace("\u00a0", " ")
    text = " ".join(text.split()).strip(" .;,/")
    # Form-describing parentheticals carry nothing: "Poetry (poetic works by one author)".
    text = re.sub(r"\s*\((?:[a-z ]+ works by [a-z ]+|general)\)", "", text, flags=re.I)
    return text.strip()


def _is_noise(text: str) -> bool:
    key = _key(text)
    if not key or key in NOISE_EXACT:
        return True
    folded = fold(text)  # the patterns ignore case; folding drops the accents they are written without
    if any(p.search(text) or p.search(folded) for p in NOISE_PATTERNS):
        return True
    # A bare country or nation is a place, not a genre ("England", "United States").
    if country_by_name(text) is not None or key in _demonyms():
        return True
    return False


@lru_cache(maxsize=1)
def _demonyms() -> frozenset[str]:
    words = {_key(c.nationality) for c in ALL_COUNTRIES}
    words |= {"english", "irish", "scottish", "welsh", "british", "american", "african", "european",
              "asian", "latin american", "caribbean", "australian", "canadian", "french", "german"}  # fmt: skip
    return frozenset(words)


def _strip_demonyms(key: str) -> str:
    words = key.split()
    kept = [w for w in words if w not in _demonyms() and w != "and"]
    if len(kept) == len([w for w in words if w != "and"]):
        return key
    return " ".join(kept)


def _key(text: str) -> str:
    """`search.text.fold`, "&" as "and", apostrophes dropped, anything but [0-9a-z+] as a space."""
    text = fold(text).replace("&", " and ").replace("'", "").replace("’", "")
    text = re.sub(r"[^0-9a-z+]+", " ", text)
    return " ".join(text.split())


def _title_case(text: str) -> str:
    words = text.split(" ")
    out = []
    for index, word in enumerate(words):
        lower = word.lower()
        if index and lower in SMALL_WORDS:
            out.append(lower)
        elif word.isupper() and len(word) > 1:
            out.append(word)  # acronyms: "LGBT", "USA"
        else:
            out.append("-".join(p[:1].upper() + p[1:].lower() for p in word.split("-")))
    return " ".join(out)
