"""Bytes -> CSV records, streaming: encodings, delimiter sniffing, blank lines, stray bytes.

Pure and lazy: the file is walked line by line (a quoted field may span lines), so memory stays
flat in the file size. Encodings people really send:

- UTF-8 with or without a BOM; UTF-16 with a BOM (Excel's "Unicode text"), or without one when
  the first bytes show the NUL pattern;
- a cp1252 file (Excel on Windows): decided once from the first 64 KB, when more non-ASCII lines
  there fail UTF-8 than pass; even then a line that is valid UTF-8 is read as UTF-8;
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

from booktrack.core.exceptions import InvalidFile

# Descriptions (Openreads) and comments (Calibre) can be long; the csv default is 128 KB.
csv.field_size_limit(16 * 1024 * 1024)

DELIMITERS = (",", "\t", ";")
MAX_RECORD_LINES = 500  # one record spanning more lines than this is an unclosed quote
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
        while True:
            started = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InvalidFile(f"The file is not readable CSV near line {reader.line_num}: {exc}.") from exc
            if reader.line_num - started >= MAX_RECORD_LINES:
                # csv swallows everything after a quote that never closes; say so rather than lose rows.
                raise InvalidFile(
                    f"A quoted field opened on line {started} runs for {reader.line_num - started + 1} lines: "
                    "a quote is probably never closed."
                )
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
        cp1252 = self.encoding == "cp1252"
        # Old Mac exports end lines with a lone CR.
        newline = b"\r" if b"\n" not in data[:_SNIFF_BYTES] and b"\r" in data[:_SNIFF_BYTES] else b"\n"
        size = len(data)
        while start < size:
            end = data.find(newline, start)
            end = size if end < 0 else end + 1
            raw = data[start:end]
            start = end
            try:
                # Even in a cp1252 file a line that decodes as UTF-8 is UTF-8 (cp1252 text almost
                # never forms valid multi-byte sequences): a file mixing both reads right.
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                if cp1252:
                    yield raw.decode("cp1252", errors="replace")
                else:
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
    return "cp1252" if bad > good else "utf-8"


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
    """Decode the escaped non-UTF-8 bytes of a cell: as MARC-8 when every stray byte is a MARC-8
    combining mark that composes with the letter after it (``Cort\\xe2azar`` -> Cortázar), else as
    cp1252 (``Caf\\xe9`` -> Café)."""
    runs = list(_DAMAGE_AND_NEXT.finditer(cell))
    if all(_marc8_composes(m.group(1), m.group(2)) for m in runs):
        return unicodedata.normalize("NFC", _DAMAGE_AND_NEXT.sub(_marc8, cell))
    return _SURROGATE.sub(lambda m: m.group(0).encode("utf-8", "surrogateescape").decode("cp1252", "replace"), cell)


def _marc8_composes(run: str, letter: str) -> bool:
    raw = run.encode("utf-8", errors="surrogateescape")
    if not letter.isascii() or not letter.isalpha() or any(b not in _ANSEL_MARKS for b in raw):
        return False
    return len(unicodedata.normalize("NFC", letter + "".join(_ANSEL_MARKS[b] for b in raw))) == 1


def _marc8(match: re.Match[str]) -> str:
    # A MARC-8 mark precedes its letter; Unicode's combining mark follows it.
    raw = match.group(1).encode("utf-8", errors="surrogateescape")
    return match.group(2) + "".join(_ANSEL_MARKS[b] for b in raw)
