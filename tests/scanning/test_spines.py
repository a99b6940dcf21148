"""Spine grouping and spine-to-book matching (scanning/spines.py): pure, no OCR, no database."""

from __future__ import annotations

from scanning.spines import (
    Candidate,
    SpineParams,
    TextLine,
    best_match,
    dedupe_lines,
    group_spines,
    matched_part,
    score_candidate,
    search_query_for,
    spine_rest,
    title_keys_for,
)


def vline(text, left, top, right, bottom, score=0.99, rotation=90):
    return TextLine(text, score, left, top, right, bottom, rotation=rotation)


def test_title_and_author_on_one_spine_join_and_neighbours_stay_apart():
    lines = [
        vline("Frank Herbert", 205, 820, 240, 1000),
        vline("DUNE", 200, 100, 250, 260),
        vline("Piranesi", 300, 120, 350, 420),
        vline("Susanna Clarke", 305, 800, 340, 1000),
    ]
    spines = group_spines(lines)
    assert [s.text for s in spines] == ["DUNE Frank Herbert", "Piranesi Susanna Clarke"]
    assert (spines[0].left, spines[0].top, spines[0].right, spines[0].bottom) == (200, 100, 250, 1000)


def test_two_line_title_side_by_side_joins_when_allowed_but_the_next_book_does_not():
    # One wide spine with a two-line title (lines 12 px apart), then a book whose text is 60 px away.
    lines = [
        vline("The Left Hand", 100, 100, 140, 500),
        vline("of Darkness", 52, 120, 88, 480),
        vline("Beloved", 200, 100, 240, 400),
    ]
    spines = group_spines(lines, params=SpineParams(max_side_gap_widths=0.45))
    assert len(spines) == 2
    # Read top to bottom, the right-hand line comes first.
    assert spines[0].text == "The Left Hand of Darkness"
    assert spines[1].text == "Beloved"


def test_by_default_neighbouring_thin_spines_never_chain_side_by_side():
    # Thin spines whose text fills them: 6 px between the texts of neighbouring books.
    lines = [vline(f"Book {i}", 100 + i * 36, 100, 130 + i * 36, 400) for i in range(5)]
    assert [s.text for s in group_spines(lines)] == [f"Book {i}" for i in range(5)]


def test_books_on_two_shelves_in_one_column_stay_apart():
    top_shelf = vline("Sabriel", 100, 50, 140, 250)
    bottom_shelf = vline("Annie John", 100, 1400, 140, 1650)
    assert len(group_spines([top_shelf, bottom_shelf])) == 2


def test_text_reading_bottom_to_top_is_ordered_from_the_bottom():
    lines = [
        vline("Le Guin", 100, 50, 140, 250, rotation=270),
        vline("The Dispossessed", 100, 400, 140, 900, rotation=270),
    ]
    assert group_spines(lines)[0].text == "The Dispossessed Le Guin"


def test_a_book_lying_flat_reads_as_one_horizontal_row():
    lines = [
        TextLine("THINGS FALL APART", 0.98, 100, 500, 600, 540),
        TextLine("ACHEBE", 0.97, 640, 505, 800, 538),
        TextLine("Dune", 0.99, 100, 800, 220, 840),
    ]
    spines = group_spines(lines)
    assert [s.text for s in spines] == ["THINGS FALL APART ACHEBE", "Dune"]
    assert not spines[0].vertical


def test_the_same_line_read_in_two_turns_is_kept_once_the_better_read():
    lines = [
        vline("DUNE", 200, 100, 250, 260, score=0.71, rotation=270),
        vline("DUNE", 198, 98, 252, 262, score=0.99, rotation=90),
        vline("Frank Herbert", 205, 820, 240, 1000),
        vline("|", 10, 10, 12, 900),  # a shelf edge read as a character
    ]
    kept = dedupe_lines(lines)
    assert sorted((line.text, line.score) for line in kept) == [("DUNE", 0.99), ("Frank Herbert", 0.99)]


def test_spine_with_title_and_author_scores_high():
    dune = Candidate("Dune", ("Frank Herbert",), "9780441172719")
    match = score_candidate("DUNE FRANK HERBERT", dune)
    assert match.score >= 0.95 and match.title_score == 1.0 and match.author_score == 1.0


def test_title_alone_scores_below_title_and_author_but_still_names_the_book():
    gatsby = Candidate("The Great Gatsby", ("F. Scott Fitzgerald",))
    alone = score_candidate("THE GREAT GATSBY", gatsby).score
    both = score_candidate("THE GREAT GATSBY F. SCOTT FITZGERALD", gatsby).score
    assert 0.7 <= alone < both


def test_ocr_misreads_still_match_and_split_words_line_up():
    hail_mary = Candidate("Project Hail Mary", ("Andy Weir",))
    assert score_candidate("Proiect Hai1 Mary ANDY WEIR", hail_mary).score >= 0.8
    assert score_candidate("REDMOONATSHARPSBURG", Candidate("Red Moon at Sharpsburg")).title_score >= 0.9


def test_a_short_title_never_matches_inside_a_longer_word():
    assert score_candidate("EMMANUEL KANT CRITIQUE", Candidate("Emma", ("Jane Austen",))).score == 0.0


def test_surname_alone_counts_as_the_author():
    match = score_candidate("HERBERT DUNE", Candidate("Dune", ("Frank Herbert",)))
    assert match.author_score >= 0.9


def test_best_match_picks_the_book_the_spine_names():
    candidates = [
        Candidate("It", ("Stephen King",)),
        Candidate("It Ends with Us", ("Colleen Hoover",)),
        Candidate("Dune", ("Frank Herbert",)),
    ]
    match = best_match("IT ENDS WITH US COLLEEN HOOVER", candidates)
    assert match is not None and match.candidate.title == "It Ends with Us"
    assert best_match("SCHOLASTIC", candidates) is None


def test_title_keys_hold_the_title_runs_of_a_spine():
    keys = title_keys_for("THE GREAT GATSBY F. SCOTT FITZGERALD")
    assert "great gatsby" in keys and "gatsby" in keys
    assert "the" not in keys  # stop words alone are no title


def test_search_query_is_the_spine_s_main_line():
    spine = group_spines([vline("Children of Time", 100, 100, 150, 600), vline("Tchaikovsky", 105, 900, 140, 1100)])[0]
    assert search_query_for(spine) == "Children of Time"
    short = group_spines([vline("DUNE", 100, 100, 150, 300, score=0.9), vline("Herbert", 105, 900, 140, 1100)])[0]
    assert search_query_for(short) == "DUNE Herbert"


def test_a_spine_that_chained_two_books_of_one_column_names_each():
    column = [
        vline("AVI", 100, 50, 140, 150),
        vline("THE FIGHTING GROUND", 100, 200, 140, 600),
        vline("THE SECRET SCHOOL", 100, 700, 140, 1000),
    ]
    (spine,) = group_spines(column)
    ground, school = Candidate("The Fighting Ground", ("Avi",)), Candidate("The Secret School", ("Avi",))
    first = best_match(spine.text, [ground, school])
    assert first is not None and first.candidate is ground
    assert matched_part(spine, first).text == "AVI THE FIGHTING GROUND"
    rest = spine_rest(spine, first)
    assert rest is not None and rest.text == "THE SECRET SCHOOL" and (rest.top, rest.bottom) == (700, 1000)
    second = best_match(rest.text, [school])
    assert second is not None and second.score >= 0.7 and spine_rest(rest, second) is None
