"""The Gemini scan prompt and its response schema (structured output), versioned together.

`PROMPT_VERSION` changes whenever the prompt or the schema changes in a way that can change answers;
it is reported with every engine reply (`EngineReply.prompt_version`), so results can be traced to
the prompt that produced them. Boxes use Gemini's native `box_2d`, `[ymin, xmin, ymax, xmax]` on a
0-1000 grid: the form the model is trained to output, converted to the contract's normalized
`{x, y, width, height}` by `scanning.dto.Box.from_box_2d`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google.genai import types

PROMPT_VERSION = "scan-v1"

SCAN_PROMPT = """This photo shows books, usually the spines of books standing on a shelf.
List every book whose title you can read on its spine or cover, one entry per physical book,
left to right, then top to bottom.
For each book give:
- title: the title as printed (with a subtitle only when the subtitle is printed);
- author: the author's name as printed, or null when no author is visible;
- spine_text: all the text you can read on that spine or cover, verbatim, in reading order;
- confidence: how sure you are that the title is right, from 0 to 1, or null if you cannot judge;
- box_2d: the box around that spine or cover as [ymin, xmin, ymax, xmax], each 0-1000 relative to
  the photo's height and width.
Do not guess a book whose title you cannot read, and never list a book twice.
If no book is readable, answer with an empty list of books."""


def response_schema() -> types.Schema:
    """`{"books": [{title, author|null, spine_text|null, confidence|null, box_2d[4]}]}`."""
    from google.genai import types

    book = types.Schema(
        type=types.Type.OBJECT,
        properties={
            "title": types.Schema(type=types.Type.STRING),
            "author": types.Schema(type=types.Type.STRING, nullable=True),
            "spine_text": types.Schema(type=types.Type.STRING, nullable=True),
            "confidence": types.Schema(type=types.Type.NUMBER, nullable=True, minimum=0, maximum=1),
            "box_2d": types.Schema(
                type=types.Type.ARRAY,
                items=types.Schema(type=types.Type.INTEGER, minimum=0, maximum=1000),
                min_items=4,
                max_items=4,
            ),
        },
        required=["title", "author", "spine_text", "confidence", "box_2d"],
        property_ordering=["title", "author", "spine_text", "confidence", "box_2d"],
    )
    return types.Schema(
        type=types.Type.OBJECT,
        properties={"books": types.Schema(type=types.Type.ARRAY, items=book)},
        required=["books"],
    )
