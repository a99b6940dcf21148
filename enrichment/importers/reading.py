"""Bytes -> CSV records, streaming: encodings, delimiter sniffing, blank lines, stray bytes.

Pure and lazy: the file is walked line by line (a quoted field may span lines), so memory stays
flat in the file size. Encodings people really send:

- UTF-8 with or without a BOM; UTF-16 with a BOM (Excel's "Unicode text"), or without one when
  the first bytes show the NUL pattern;
- a whole file in cp1252 (Excel on Windows): decided once from the first 64 KB, when no line there
  decodes as UTF-8 but some fail;
- a UTF-8 file with a few stray bytes that are not UTF-8 (LibraryThing exports carry MARC-8 ANSEL
  diacritics, e.g. ``Cort\\xe2azar``): each such line is decoded with ``surrogateescape`` so the row
  is not lost, and the damaged cells are repaired (MARC-8 combining marks, else cp1252) and named
  in ``Record.damaged`` so the importer can report them.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# Descriptions (Openreads) and comments (Calibre) can be long; the csv default is 128 KB.
csv.field_size_limit(16 * 1024 * 1024)

DELIMITERS = (",", "\t", ";")
_SNIFF_BYTES = 64 * 1024
_CHUNK = 64 * 1024
_SURROGATE = re.compile("[\udc80-\udcff]+")
_DAMAGE_AND_NEXT = re.compile("([\udc80-\udcff]+)(.?)", re.DOTALL)

# MARC-8 (ANSEL) combining diacritics: the mark byte comes BEFORE the letter it sits on.
_ANSEL_MARKS = {
    0xE1: "\u0300",  # grave
    0xE2: "\u0301",  # acute
    0xE3: "\u0302",  # circumflex
    0xE4: "\u0303",  # tilde
    0xE5: "\u0304",  # macron
    0xE6: "\u0306",  # breve
    0xE7: "\u0307",  # dot above
    0xE8: "\u0308",  # diaeresis
    0xE9: "\u030c",  # caron
    0xEA: "\u030a",  # ring above
    0xED: "\u0315",  # comma above right
    0xEE: "\u030b",  # double acute
    0xF0: "\u0327",  # cedilla
    0xF1: "\u0328",  # ogonek
    0xF2: "\u0323",  # dot below
}


@dataclass(frozen=True, slots=True)
class Record:
    """One non-blank CSV record: its cells, and the indexes of cells that held non-UTF-8 bytes."""

    cells: tuple[str, ...]
    damaged: frozenset[int] = frozenset()


class CsvReader:
    """Iterate the records (header included) of an uploaded file; counts what it skipped.

    ``encoding`` and ``delimiter`` are known once the first record has been read.
    """

    def __init__(self, data: bytes, *, filename: str | None = None) -> None:
        self._data = data
        self._filename = (filename or "").lower()
        self.encoding = _encoding_of(data)
        self.delimiter = ","
        self.blank_lines = 0
        self.damaged_lines = 0

    def __iter__(self) -> Iterator[Record]:
        lines = self._lines()
        first: list[str] = []
        for line in lines:
            if line.strip():
                first.append(line)
                break
            self.blank_lines += 1
        if not first:
            return
        self.delimiter = sniff_delimiter(first[0], tsv=self._filename.endswith((".tsv", ".tab")))
        reader = csv.reader(_chain(first, lines), delimiter=self.delimiter)
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                self.blank_lines += 1
                continue
            damaged = frozenset(i for i, cell in enumerate(cells) if _SURROGATE.search(cell))
            if damaged:
                cells = [repair_cell(cell) if i in damaged else cell for i, cell in enumerate(cells)]
            yield Record(tuple(cells), damaged)

    def _lines(self) -> Iterator[str]:
        if self.encoding.startswith("utf-16"):
            yield from _utf16_lines(self._data, self.encoding)
            return
        data = self._data
        start = 3 if self.encoding == "utf-8-sig" else 0
        fallback = "cp1252" if self.encoding == "cp1252" else None
        size = len(data)
        while start < size:
            end = data.find(b"\n", start)
            end = size if end < 0 else end + 1
            raw = data[start:end]
            start = end
            if fallback:
                yield raw.decode(fallback, errors="replace")
                continue
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.damaged_lines += 1
                yield raw.decode("utf-8", errors="surrogateescape")


def _chain(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


def _utf16_lines(data: bytes, encoding: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = ""
    for offset in range(0, len(data), _CHUNK):
        pending += decoder.decode(data[offset : offset + _CHUNK])
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _encoding_of(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # the codec reads (and drops) the BOM
    head = data[:4]
    if len(head) == 4 and head[1] == 0 and head[3] == 0 and head[0] and head[2]:
        return "utf-16-le"
    if len(head) == 4 and head[0] == 0 and head[2] == 0 and head[1] and head[3]:
        return "utf-16-be"
    sample = data[:_SNIFF_BYTES]
    if len(data) > _SNIFF_BYTES and b"\n" in sample:
        sample = sample[: sample.rfind(b"\n")]
    good = bad = 0
    for line in sample.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return "cp1252" if bad and not good else "utf-8"


def sniff_delimiter(line: str, *, tsv: bool = False) -> str:
    """The delimiter of a header line: the most frequent of comma, tab and semicolon outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    if tsv and counts["\t"]:
        return "\t"
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties keep the order: comma first
    return best if counts[best] else ","


def repair_cell(cell: str) -> str:
    """Decode the escaped non-UTF-8 bytes of a cell: MARC-8 combining marks, else cp1252."""

    def fix(match: re.Match[str]) -> str:
        out: list[str] = []
        marks = ""  # a MARC-8 mark precedes its letter; Unicode's combining mark follows it
        for byte in match.group(1).encode("utf-8", errors="surrogateescape"):
            if byte in _ANSEL_MARKS:
                marks += _ANSEL_MARKS[byte]
            else:
                out.append(bytes([byte]).decode("cp1252", errors="replace") + marks)
                marks = ""
        return "".join(out) + match.group(2) + marks

    return unicodedata.normalize("NFC", _DAMAGE_AND_NEXT.sub(fix, cell))
