"""Text lines read off a shelf photo -> book spines -> the catalog book each spine names (pure).

The OCR engine reads the photo upright and turned 90 and 270 degrees (spine text runs along the
spine, so a standing book's title is vertical). Every line it reads is mapped back to the upright
photo's pixels, then:

1. `dedupe_lines`: the same text read in two turns is kept once: the better read of two boxes that
   mostly cover each other.
2. `group_spines`: lines that run the same way and sit on one spine are joined. Vertical lines join
   when they share a column (x ranges overlap by half the narrower line) and the gap along the spine
   is at most `max_gap_lengths` times the longer line or `max_gap_widths` times its thickness; or,
   when `max_side_gap_widths` allows it (off by default), when they run side by side (a two-line
   title). Horizontal lines (a book lying flat) join the same way with the axes swapped.
3. `score_candidate`: how well a spine's text names a book: the title matched against word windows
   of the spine (so OCR's broken or merged words still line up, and a short title never matches the
   middle of a word), the author the same way, and how much of the spine the two explain. 0..1.

Thresholds come from rendered shelves and the real shelf photos of tests/fixtures; they are data,
in `SpineParams` and `MatchParams`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from search.text import ARTICLES, similarity, text_key, title_key


@dataclass(frozen=True)
class TextLine:
    """One line of text as read, its box on the upright photo (pixels) and the way it runs."""

    text: str
    score: float  # the recogniser's own 0..1
    left: float
    top: float
    right: float
    bottom: float
    # How the text runs: 0 horizontal; 90 top to bottom (most English spines: the photo turned 90
    # degrees counter-clockwise reads it left to right); 270 bottom to top.
    rotation: int = 0

    @property
    def vertical(self) -> bool:
        return self.rotation in (90, 270)

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def thickness(self) -> float:
        """Across the text: the line's height as it reads."""
        return self.width if self.vertical else self.height

    @property
    def length(self) -> float:
        """Along the text."""
        return self.height if self.vertical else self.width


@dataclass(frozen=True)
class Spine:
    """The lines of one book's spine, in reading order, and the box around them."""

    lines: tuple[TextLine, ...]
    left: float
    top: float
    right: float
    bottom: float

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)

    @property
    def score(self) -> float:
        """The recogniser's mean score over the spine's characters."""
        total = sum(len(line.text) for line in self.lines)
        if not total:
            return 0.0
        return sum(line.score * len(line.text) for line in self.lines) / total

    @property
    def vertical(self) -> bool:
        return self.lines[0].vertical if self.lines else False


@dataclass(frozen=True)
class SpineParams:
    dedupe_cover: float = 0.6  # two reads are one line when the intersection covers this much of the smaller
    column_overlap: float = 0.5  # share of the narrower line's thickness two lines of a column share
    max_gap_lengths: float = 1.5  # gap along the spine, in lengths of the longer line...
    max_gap_widths: float = 12.0  # ...or in thicknesses of the thicker line (a short title, a long gap)
    side_overlap: float = 0.5  # share of the shorter line's length two side-by-side lines share
    # Gap across the spine, in the thinner line's thickness. 0 by default: on a real shelf photo (the
    # shared sample bookshelf_shelf_photo_1538_1.jpg: thin spines, text filling them) 0.15 and looser
    # chained neighbouring books into one spine; a two-line title read as two spines costs less.
    max_side_gap_widths: float = 0.0
    min_letters: int = 2  # lines with fewer letters or digits are noise (a sticker, a shelf edge)


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _gap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, max(a0, b0) - min(a1, b1))


def _letters(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


def dedupe_lines(lines: Iterable[TextLine], *, params: SpineParams | None = None) -> list[TextLine]:
    """Each line once: of two reads whose boxes mostly cover each other, the one with more
    well-read letters (score x letters) stays. Lines with too few letters are dropped."""
    p = params or SpineParams()
    kept: list[TextLine] = []
    ranked = sorted(
        (line for line in lines if _letters(line.text) >= p.min_letters),
        key=lambda line: line.score * _letters(line.text),
        reverse=True,
    )
    for line in ranked:
        area = line.width * line.height
        duplicate = False
        for other in kept:
            shared = _overlap(line.left, line.right, other.left, other.right) * _overlap(
                line.top, line.bottom, other.top, other.bottom
            )
            smaller = min(area, other.width * other.height)
            if smaller > 0 and shared / smaller >= p.dedupe_cover:
                duplicate = True
                break
        if not duplicate:
            kept.append(line)
    return kept


def _same_spine(a: TextLine, b: TextLine, p: SpineParams) -> bool:
    if a.vertical != b.vertical:
        return False
    if a.vertical:
        across_a, across_b = (a.left, a.right), (b.left, b.right)
        along_a, along_b = (a.top, a.bottom), (b.top, b.bottom)
    else:
        across_a, across_b = (a.top, a.bottom), (b.top, b.bottom)
        along_a, along_b = (a.left, a.right), (b.left, b.right)
    thin = min(a.thickness, b.thickness)
    short = min(a.length, b.length)
    if thin <= 0 or short <= 0:
        return False
    # One column: the lines follow each other along the spine (title, then author).
    if _overlap(*across_a, *across_b) >= p.column_overlap * thin:
        limit = max(p.max_gap_lengths * max(a.length, b.length), p.max_gap_widths * max(a.thickness, b.thickness))
        return _gap(*along_a, *along_b) <= limit
    # Side by side: two lines of one title, close together across the spine.
    if _overlap(*along_a, *along_b) >= p.side_overlap * short:
        return _gap(*across_a, *across_b) <= p.max_side_gap_widths * thin
    return False


def _reading_key(line: TextLine) -> tuple[float, float]:
    """Reading order on the upright photo. Turned 90 degrees counter-clockwise, a line that reads
    top to bottom comes out left to right, and its right-hand neighbour comes out above it."""
    if line.rotation == 90:
        return (line.top, -line.right)
    if line.rotation == 270:
        return (-line.bottom, line.left)
    return (line.top, line.left)


def group_spines(lines: Sequence[TextLine], *, params: SpineParams | None = None) -> list[Spine]:
    """The spines the lines make, left to right (then top to bottom). Lines are grouped by
    union-find over `_same_spine`, so a chain title -> subtitle -> author joins however it is read."""
    p = params or SpineParams()
    parent = list(range(len(lines)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            if _same_spine(lines[i], lines[j], p):
                parent[find(i)] = find(j)
    groups: dict[int, list[TextLine]] = {}
    for i, line in enumerate(lines):
        groups.setdefault(find(i), []).append(line)
    spines = []
    for members in groups.values():
        # One spine reads one way: order by the turn most of its letters were read at.
        weights: dict[int, int] = {}
        for line in members:
            weights[line.rotation] = weights.get(line.rotation, 0) + _letters(line.text)
        rotation = max(weights, key=lambda r: (weights[r], -r))
        ordered = sorted(members, key=lambda line: _reading_key(replace(line, rotation=rotation)))
        spines.append(spine_of(ordered))
    return sorted(spines, key=lambda s: (s.left, s.top))


# --- matching a spine's text to a book ---------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A book a spine may name (from the catalog or a title search)."""

    title: str
    authors: tuple[str, ...] = ()
    isbn13: str | None = None


@dataclass(frozen=True)
class SpineMatch:
    candidate: Candidate
    score: float  # 0..1
    title_score: float
    author_score: float
    words: tuple[int, ...] = ()  # the spine words (indices into `text_key(text).split()`) it used


@dataclass(frozen=True)
class MatchParams:
    title_weight: float = 0.7  # a spine that shows the title alone scores at most this...
    author_weight: float = 0.2  # ...plus this when the author is on it too...
    coverage_weight: float = 0.1  # ...plus this share of the spine's words the two explain
    min_title: float = 0.72  # below this the title is not on the spine at all
    window_slack: int = 1  # word windows one shorter and longer than the title (OCR merges/splits words)
    stop_words: frozenset[str] = field(
        default_factory=lambda: frozenset(ARTICLES | {"of", "and", "in", "on", "to", "for", "de", "novel", "book"})
    )


def _windows(words: Sequence[str], size: int) -> Iterable[tuple[int, int]]:
    size = max(1, min(size, len(words)))
    for start in range(len(words) - size + 1):
        yield start, start + size


@dataclass(frozen=True)
class Window:
    """The run of a spine's words a key matched best: its similarity and where it lies."""

    score: float = 0.0
    start: int = 0
    end: int = 0  # exclusive; start == end: no run

    def letters(self, words: Sequence[str]) -> int:
        return sum(len(w) for w in words[self.start : self.end])


def best_window(needle: str, words: Sequence[str], *, slack: int = 1) -> Window:
    """The best similarity of `needle` (a key) to a run of consecutive `words` of about its word
    count, matched without spaces too (OCR drops and adds spaces)."""
    target = needle.split()
    if not target or not words:
        return Window()
    squeezed = needle.replace(" ", "")
    best = Window()
    for size in range(max(1, len(target) - slack), len(target) + slack + 1):
        for start, end in _windows(words, size):
            run = words[start:end]
            score = max(similarity(needle, " ".join(run)), similarity(squeezed, "".join(run)))
            if score > best.score:
                best = Window(score, start, end)
    return best


def score_candidate(spine_text: str, candidate: Candidate, *, params: MatchParams | None = None) -> SpineMatch:
    """How well `spine_text` names `candidate` (0..1; see the module docstring)."""
    p = params or MatchParams()
    words = text_key(spine_text).split()
    title = title_key(candidate.title) or text_key(candidate.title)
    full_title = text_key(candidate.title)
    title_window = best_window(title, words, slack=p.window_slack)
    if full_title != title:  # a subtitle printed on the spine counts too
        full_window = best_window(full_title, words, slack=p.window_slack)
        if full_window.score >= title_window.score:
            title_window = full_window
    author_window, author_score = Window(), 0.0
    for author in candidate.authors:
        key = text_key(author)
        window = best_window(key, words, slack=p.window_slack)
        score = window.score
        names = key.split()
        for surname in {names[-1], max(names, key=len)} if len(names) > 1 else ():
            if len(surname) < 4:
                continue
            sur_window = best_window(surname, words, slack=0)  # spines often print the surname alone
            if sur_window.score * 0.95 > score:
                window, score = sur_window, sur_window.score * 0.95
        if score > author_score:
            author_window, author_score = window, score
    author_counts = author_score >= p.min_title
    total_letters = sum(len(w) for w in words) or 1
    explained = title_window.letters(words) + (author_window.letters(words) if author_counts else 0)
    coverage = min(1.0, explained / total_letters)
    if title_window.score < p.min_title:
        score = 0.0
    else:
        author_part = author_score if author_counts else 0.0
        score = title_window.score * (p.title_weight + p.author_weight * author_part + p.coverage_weight * coverage)
    used = set(range(title_window.start, title_window.end))
    if author_counts:
        used |= set(range(author_window.start, author_window.end))
    return SpineMatch(
        candidate=candidate,
        score=round(min(1.0, score), 4),
        title_score=round(title_window.score, 4),
        author_score=round(author_score, 4),
        words=tuple(sorted(used)),
    )


def spine_rest(spine: Spine, match: SpineMatch) -> Spine | None:
    """What is left of `spine` once the lines `match` explains are taken out (a spine that chained
    several books: their lines sit in one column), or None when nothing is left. A line is
    explained when most of its words are among the words the match used."""
    used = set(match.words)
    rest: list[TextLine] = []
    index = 0
    for line in spine.lines:
        count = len(text_key(line.text).split())
        taken = sum(1 for i in range(index, index + count) if i in used)
        index += count
        if count and taken * 2 < count:
            rest.append(line)
    if not rest or len(rest) == len(spine.lines):
        return None
    return spine_of(rest)


def spine_of(lines: Sequence[TextLine]) -> Spine:
    """A spine of `lines` (kept in the order given) with the box around them."""
    return Spine(
        lines=tuple(lines),
        left=min(line.left for line in lines),
        top=min(line.top for line in lines),
        right=max(line.right for line in lines),
        bottom=max(line.bottom for line in lines),
    )


def matched_part(spine: Spine, match: SpineMatch) -> Spine:
    """The lines of `spine` that `match` explains (all of them when it explains none in full)."""
    rest = spine_rest(spine, match)
    if rest is None:
        return spine
    kept = [line for line in spine.lines if not any(line is r for r in rest.lines)]
    return spine_of(kept) if kept else spine


def best_match(
    spine_text: str, candidates: Iterable[Candidate], *, params: MatchParams | None = None
) -> SpineMatch | None:
    """The candidate the spine names best (ties: the first given), or None when none scores above 0."""
    best: SpineMatch | None = None
    for candidate in candidates:
        match = score_candidate(spine_text, candidate, params=params)
        if match.score > 0 and (best is None or match.score > best.score):
            best = match
    return best


def title_keys_for(spine_text: str, *, max_words: int = 6, params: MatchParams | None = None) -> list[str]:
    """Title keys a spine may hold: every run of up to `max_words` consecutive words, as
    `title_key` forms them (an exact catalog lookup for all of them is one indexed query). Runs that
    are only stop words or shorter than 3 letters are left out."""
    p = params or MatchParams()
    words = text_key(spine_text).split()
    keys: list[str] = []
    seen: set[str] = set()
    for size in range(1, max_words + 1):
        for start, end in _windows(words, size) if size <= len(words) else ():
            run = words[start:end]
            if all(w in p.stop_words for w in run):
                continue
            key = title_key(" ".join(run))
            if len(key.replace(" ", "")) >= 3 and key not in seen:
                seen.add(key)
                keys.append(key)
    return keys


def search_query_for(spine: Spine) -> str:
    """The text a title search is sent for an unmatched spine: its longest line (a title is usually
    the spine's biggest text), with the next longest, in reading order, when that one is short."""
    ranked = sorted(spine.lines, key=lambda line: (_letters(line.text), line.score), reverse=True)
    chosen = ranked[:1] if not ranked or _letters(ranked[0].text) >= 8 else ranked[:2]
    query = " ".join(line.text for line in spine.lines if any(line is c for c in chosen))
    return " ".join(query.split())
