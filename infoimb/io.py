"""Reading user tables (CSV, TSV, Parquet, Excel) and summarising their columns.

Used by the dashboard's upload and by the command line. Every problem a user can cause with a
file is reported as a :class:`TableError` (a ``ValueError``) whose message names the problem in
words a user understands: the file name, the column, an example of a bad value.

Text encodings
--------------
Text files (CSV, TSV) must be UTF-8 (with or without a byte-order mark) or UTF-16 *with* a
byte-order mark (Excel's "Unicode text"). Nothing else is guessed: a Latin-1 or Windows-1252
file is refused with a message that says where the first undecodable byte is and how to re-save
the file, instead of being read with silently wrong characters.

Nothing read here is ever unpickled or executed: CSV/TSV are parsed as text, Parquet through
pyarrow, Excel through openpyxl (values only, formulas are not evaluated).

Decompression bombs
-------------------
A small compressed file can stand for a huge table (a 0.9 MB Parquet file of 10^8 rows of
zeros). ``max_cells`` is checked against the size the file declares *before* its body is read:
the Parquet footer (rows x columns), the worksheet's ``<dimension>`` element, the number of
lines of a text file. What a Parquet file or an ``.xlsx`` archive may decompress to is bounded
too (:data:`EXPANSION` times ``max_bytes``, and at most :data:`MAX_EXPANDED_BYTES`). Excel's
XML is parsed through ``defusedxml`` (openpyxl uses it when it is installed, and reading an
``.xlsx`` is refused without it); a document type declaration (how entity-expansion
"billion laughs" bombs start) is refused before openpyxl sees the file.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import os
import re
import warnings
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._serialize import to_jsonable

__all__ = ["TableError", "read_table", "summarize_columns", "clean_filename", "SUPPORTED_EXTENSIONS",
           "MIN_ROWS", "EXPANSION", "MAX_EXPANDED_BYTES", "MAX_NAME_LENGTH",
           "propose_roles", "RoleProposal", "dataset_fingerprint", "detect_dates"]

#: file extensions read_table accepts, and the format each means
SUPPORTED_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
}

#: the information imbalance needs at least this many points (rows)
MIN_ROWS = 3

#: a Parquet file or an .xlsx archive may decompress to at most this many times ``max_bytes``
EXPANSION = 20
#: ... and never to more than this many bytes (also when no ``max_bytes`` is given)
MAX_EXPANDED_BYTES = 2 * 1024**3
#: file names are shown at most this long
MAX_NAME_LENGTH = 120

_MAGIC = {
    b"PAR1": "a Parquet file",
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook or another zipped file)",
    b"\xd0\xcf\x11\xe0": "an old-style Office document (Excel .xls or Word .doc)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip-compressed file",
    b"\x7fELF": "an executable program",
    b"MZ": "a Windows executable",
    b"\x80": "a Python pickle",
}


class TableError(ValueError):
    """A file that cannot be read as a table; the message is meant for the user."""


def clean_filename(name) -> str:
    r"""A file name fit to show: control and formatting characters (newlines, escapes,
    right-to-left overrides) dropped, at most :data:`MAX_NAME_LENGTH` characters (the
    extension kept).

    Examples
    --------
    >>> clean_filename("data\x1b[31m\n.csv")
    'data[31m.csv'
    >>> len(clean_filename("x" * 500 + ".csv"))
    120
    """
    import unicodedata

    text = "".join(ch for ch in str(name) if unicodedata.category(ch) not in ("Cc", "Cf"))
    text = text.strip() or "upload"
    if len(text) <= MAX_NAME_LENGTH:
        return text
    stem, dot, ext = text.rpartition(".")
    if dot and stem and 0 < len(ext) <= 10:
        keep = MAX_NAME_LENGTH - len(ext) - 2
        return stem[:keep] + "…." + ext
    return text[:MAX_NAME_LENGTH - 1] + "…"


def _expansion_limit(max_bytes) -> int:
    if max_bytes is None:
        return MAX_EXPANDED_BYTES
    return min(EXPANSION * int(max_bytes), MAX_EXPANDED_BYTES)


def _check_cells(n_rows: int, n_columns: int, name: str, max_cells, where: str) -> None:
    if max_cells is not None and n_rows * n_columns > max_cells:
        raise TableError(f"{name} has {n_rows:,} rows × {n_columns:,} columns = "
                         f"{n_rows * n_columns:,} cells ({where}); the limit is {max_cells:,} cells")


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------
def _human_size(n: float) -> str:
    if n >= 1024**2:
        return f"{n / 1024**2:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} kB"
    return f"{int(n)} bytes"


def _load_bytes(source, filename, max_bytes) -> tuple[bytes, str]:
    """The raw bytes and the file name, refusing oversize input before decoding it."""
    if isinstance(source, (str, os.PathLike)) and not (isinstance(source, str) and source.startswith("data:")):
        path = Path(source)
        if not path.is_file():
            raise TableError(f"{clean_filename(path)}: no such file")
        size = path.stat().st_size
        name = clean_filename(filename or path.name)
        if max_bytes is not None and size > max_bytes:
            raise TableError(f"{name} is {_human_size(size)}; the limit is {_human_size(max_bytes)}")
        return path.read_bytes(), name
    name = clean_filename(filename or "upload")
    if isinstance(source, str):  # a data URL from dcc.Upload: "data:<mime>;base64,<data>"
        head, sep, payload = source.partition(",")
        if not sep or ";base64" not in head:
            raise TableError(f"{name}: the upload is not a base64 data URL")
        if max_bytes is not None and len(payload) * 3 // 4 > max_bytes + 3:
            raise TableError(f"{name} is {_human_size(len(payload) * 3 // 4)}; the limit is "
                             f"{_human_size(max_bytes)}")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise TableError(f"{name}: the upload is corrupted (invalid base64)") from None
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        raise TypeError(f"source must be a path, bytes or a data URL string, got {type(source).__name__}")
    if max_bytes is not None and len(data) > max_bytes:
        raise TableError(f"{name} is {_human_size(len(data))}; the limit is {_human_size(max_bytes)}")
    return data, name


def _sniff_binary(data: bytes) -> str | None:
    """What a binary file looks like, or None when it may be text."""
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            return what
    head = data[:65536]
    if b"\x00" in head:
        return "binary data"
    # control characters other than tab, newlines, form feed
    ctrl = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13))
    if head and ctrl / len(head) > 0.01:
        return "binary data"
    return None


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as err:
            raise TableError(f"{name}: starts like UTF-16 text but cannot be decoded ({err.reason})") from None
    what = _sniff_binary(data)
    if what is not None:
        raise TableError(f"{name} is not a text table: its content is {what}. "
                         "Upload a CSV or TSV text file, a Parquet file or an Excel .xlsx workbook "
                         "with the matching extension.")
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise TableError(
            f"{name} is not UTF-8 text: byte 0x{data[err.start]:02X} on line {line}, column {col} "
            "cannot be decoded. Save the file as UTF-8 (in Excel: 'CSV UTF-8') and upload it again."
        ) from None


def _check_header(names: list, name: str, max_columns: int | None) -> list[str]:
    cols = ["" if (c is None or (isinstance(c, float) and np.isnan(c))) else str(c).strip() for c in names]
    if max_columns is not None and len(cols) > max_columns:
        raise TableError(f"{name} has {len(cols)} columns; the limit is {max_columns}")
    empty = [i + 1 for i, c in enumerate(cols) if c == ""]
    if empty:
        where = ", ".join(map(str, empty[:5])) + (" ..." if len(empty) > 5 else "")
        raise TableError(f"{name}: column{'s' if len(empty) > 1 else ''} {where} (counting from 1) "
                         f"{'have' if len(empty) > 1 else 'has'} no name (an empty header cell). "
                         "Give every column a name in the first row.")
    seen, dups = set(), []
    for c in cols:
        if c in seen and c not in dups:
            dups.append(c)
        seen.add(c)
    if dups:
        shown = ", ".join(repr(d) for d in dups[:5])
        raise TableError(f"{name} has duplicate column names: {shown}. Rename the columns so each "
                         "name is unique.")
    return cols


def _head_lines(text: str, n: int) -> list[str]:
    """The first ``n`` non-blank lines, without splitting the whole text."""
    out, start = [], 0
    while len(out) < n and start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end].rstrip("\r")
        if line.strip():
            out.append(line)
        start = end + 1
    return out


def _read_text(data: bytes, name: str, fmt: str, max_columns, notes: list[str],
               max_cells=None) -> pd.DataFrame:
    text, encoding = _decode(data, name)
    if not text.strip():
        raise TableError(f"{name} is empty")
    lines = _head_lines(text, 50)
    sample = "\n".join(lines)
    if fmt == "tsv":
        sep = "\t"
    else:
        try:
            sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
    if encoding != "UTF-8":
        notes.append(f"read as {encoding} text")
    if sep != ",":
        notes.append(f"columns separated by {'a tab' if sep == chr(9) else repr(sep)}")
    header = next(csv.reader([lines[0]], delimiter=sep))
    # limits and duplicates now; unnamed columns (placeholders here) once the body is read
    _check_header([c if c.strip() else f"\x00{j}" for j, c in enumerate(header)], name, max_columns)
    if max_cells is not None:  # an upper bound on the rows: every line but the header
        n_lines = max(text.count("\n"), text.count("\r")) + (not text.endswith(("\n", "\r")))
        _check_cells(n_lines - 1, len(header), name, max_cells, "counted from its lines")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            df = pd.read_csv(io.StringIO(text), sep=sep, skip_blank_lines=True, low_memory=False,
                             index_col=False)
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            _check_row_lengths(text, sep, len(header), name)
    except pd.errors.EmptyDataError:
        raise TableError(f"{name} is empty") from None
    except pd.errors.ParserError as err:
        msg = str(err).replace("Error tokenizing data. C error: ", "").strip()
        raise TableError(f"{name} is not a regular table: {msg}") from None
    # unnamed columns: empty ones (a trailing separator) are dropped, others refused by position
    unnamed = [j for j, c in enumerate(header) if not c.strip()]
    if unnamed and all(df.iloc[:, j].isna().all() for j in unnamed):
        df = df.drop(columns=[df.columns[j] for j in unnamed])
        notes.append(f"dropped {len(unnamed)} empty column(s) without a name")
        header = [c for j, c in enumerate(header) if j not in unnamed]
    _check_header(header, name, max_columns)
    if sep != "," and _has_decimal_comma(df):
        raw = pd.read_csv(io.StringIO(text), sep=sep, skip_blank_lines=True, low_memory=False,
                          index_col=False, dtype=str)[list(df.columns)]
        df = _parse_decimal_comma(df, raw, notes)
    return df


# a number as written with a decimal comma: 1234,5  1.234,5  -0,25  12  1.234.567
_EURO_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?(?:[eE][+-]?\d+)?$")
_EURO_DECIMAL = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*),\d+(?:[eE][+-]?\d+)?$")


def _has_decimal_comma(df: pd.DataFrame) -> bool:
    """A text column whose values are all numbers written with a decimal comma (some with
    decimals): the file writes numbers the European way."""
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c].dtype):
            v = df[c].dropna().astype(str).str.strip()
            v = v[v != ""]
            if len(v) and v.str.match(_EURO_NUMBER).all() and v.str.match(_EURO_DECIMAL).any():
                return True
    return False


def _parse_decimal_comma(df: pd.DataFrame, raw: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Every column whose raw text is all European numbers (``1.234,5``: '.' groups
    thousands, ',' marks decimals) becomes numeric; the others keep pandas' reading."""
    df = df.copy()
    converted = []
    for c in raw.columns:
        v = raw[c].str.strip()
        present = v.notna() & (v != "")
        if not present.any() or not v[present].str.match(_EURO_NUMBER).all():
            continue
        num = pd.to_numeric(v.where(present).str.replace(".", "", regex=False)
                            .str.replace(",", ".", regex=False), errors="coerce")
        df[c] = _as_int_if_whole(num, v[present])
        converted.append(str(c))
    notes.append("numbers written with a decimal comma ('.' groups thousands) in: "
                 + ", ".join(converted))
    return df


def _as_int_if_whole(num: pd.Series, text: pd.Series) -> pd.Series:
    if num.notna().all() and not text.str.contains(",").any():
        return num.astype(np.int64)
    return num


def _check_row_lengths(text: str, sep: str, n_header: int, name: str) -> None:
    """Refuse rows with more non-empty fields than the header (pandas would drop them)."""
    for i, row in enumerate(csv.reader(io.StringIO(text), delimiter=sep), start=1):
        if len(row) > n_header and any(f.strip() for f in row[n_header:]):
            raise TableError(f"{name} is not a regular table: line {i} has {len(row)} fields but "
                             f"the header has {n_header}")


def _read_parquet(data: bytes, name: str, max_columns, max_cells=None,
                  max_expanded=MAX_EXPANDED_BYTES) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(io.BytesIO(data))
        _check_header(list(pf.schema_arrow.names), name, max_columns)
        meta = pf.metadata  # the footer: nothing of the body is read yet
        _check_cells(meta.num_rows, len(pf.schema_arrow.names), name, max_cells,
                     "from its Parquet footer")
        # at least 8 bytes a cell once read (the footer's sizes are of the *encoded* data:
        # a run of zeros encodes to almost nothing)
        expanded = 8 * meta.num_rows * len(pf.schema_arrow.names)
        if expanded > max_expanded:
            raise TableError(f"{name} would decompress to {_human_size(expanded)} or more; the "
                             f"limit is {_human_size(max_expanded)}")
        table = pf.read()
    except TableError:
        raise
    except Exception as err:  # pyarrow raises several types for corrupt files
        raise TableError(f"{name} is not a readable Parquet file ({type(err).__name__}: {err})") from None
    try:
        df = table.to_pandas()
    except Exception as err:
        raise TableError(f"{name}: its Parquet columns cannot be converted to a table ({err})") from None
    return df.reset_index(drop=True) if not isinstance(df.index, pd.RangeIndex) else df


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*\bref=[\"']([^\"']+)[\"']")
_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,9})$")
_ROW_INDEX = re.compile(rb"<(?:\w+:)?row\b[^>]*?\sr=[\"'](\d{1,9})[\"']")
_CELL_COLUMN = re.compile(rb"<(?:\w+:)?c\b[^>]*?\sr=[\"']([A-Za-z]{1,3})\d{1,9}[\"']")
_SCAN_CHUNK = 1 << 20


def _cell_position(ref: str) -> tuple[int, int] | None:
    m = _CELL.match(ref.strip())
    if m is None:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _column_number(letters: bytes) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ch - 64
    return col


def _scan_sheet(fh, name: str, member: str, max_cells: int) -> None:
    """Stream a worksheet's XML (never holding more than a chunk) for the largest row index and
    column letter its cells name: pandas reads a sheet without trusting its ``<dimension>``
    and openpyxl pads every row to the widest column and fills gaps between row indices, so
    one cell at XFD1048576 stands for 1048576 x 16384 cells."""
    last_row = last_col = 0
    tail = b""
    while True:
        chunk = fh.read(_SCAN_CHUNK)
        if not chunk:
            break
        text = tail + chunk
        for m in _ROW_INDEX.finditer(text):
            last_row = max(last_row, int(m.group(1)))
        for m in _CELL_COLUMN.finditer(text):
            last_col = max(last_col, _column_number(m.group(1)))
        if max(last_row - 1, 0) * last_col > max_cells:
            break
        start = text.rfind(b"<")  # a tag cut by the chunk boundary is seen again whole
        if start < 0 or len(text) - start > _SCAN_CHUNK:  # Excel's cells hold <= 32767 chars
            raise TableError(f"{name}: {clean_filename(member)} has an XML element longer than "
                             f"{_human_size(_SCAN_CHUNK)}, which Excel never writes; refused")
        tail = text[start:]
    _check_cells(max(last_row - 1, 0), last_col, name, max_cells,
                 f"from the cells named in {clean_filename(member)}")


def _check_archive(data: bytes, name: str, max_cells, max_expanded: int) -> None:
    """An .xlsx archive checked before openpyxl opens it: what it decompresses to (declared
    sizes; ``zipfile`` stops at the declared size of a member), no XML document type
    declarations, and the cells each worksheet declares in its ``<dimension>``."""
    import openpyxl

    if not openpyxl.DEFUSEDXML:
        raise TableError(f"{name}: reading Excel files needs the defusedxml package "
                         "(pip install defusedxml); it protects the XML parser")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
            total = sum(m.file_size for m in members)
            if total > max_expanded:
                raise TableError(f"{name} would decompress to {_human_size(total)}; the limit is "
                                 f"{_human_size(max_expanded)}")
            for m in members:
                if not m.filename.endswith((".xml", ".rels", ".vml")):
                    continue
                with zf.open(m) as fh:
                    head = fh.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise TableError(f"{name}: its part {clean_filename(m.filename)} declares a "
                                     "document type (entities), which Excel never writes; refused")
                if max_cells is not None and m.filename.startswith("xl/worksheets/"):
                    found = _DIMENSION.search(head)
                    if found:
                        last = _cell_position(found.group(1).decode("ascii", "replace").split(":")[-1])
                        if last is not None:  # the first row is the header
                            _check_cells(max(last[0] - 1, 0), last[1], name, max_cells,
                                         f"from the dimension of {clean_filename(m.filename)}")
                    with zf.open(m) as fh:
                        _scan_sheet(fh, name, m.filename, max_cells)
    except TableError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as err:
        raise TableError(f"{name} is not a readable Excel .xlsx workbook ({type(err).__name__}: "
                         f"{err})") from None


def _read_excel(data: bytes, name: str, max_columns, notes: list[str], max_cells=None,
                max_expanded=MAX_EXPANDED_BYTES) -> pd.DataFrame:
    _check_archive(data, name, max_cells, max_expanded)
    buf = io.BytesIO(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's style chatter
            xls = pd.ExcelFile(buf, engine="openpyxl")
            sheets = xls.sheet_names
            raw = xls.parse(sheets[0], header=None, nrows=1)
            if raw.shape[0] == 0:
                raise TableError(f"{name}: the first sheet {sheets[0]!r} is empty")
            _check_header(list(raw.iloc[0]), name, max_columns)
            df = xls.parse(sheets[0])
    except TableError:
        raise
    except Exception as err:
        raise TableError(f"{name} is not a readable Excel .xlsx workbook ({type(err).__name__}: {err})") from None
    if len(sheets) > 1:
        notes.append(f"read the first sheet {sheets[0]!r} of {len(sheets)}")
    return df


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    """String column names; object columns that mix numbers and text become text."""
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    for c in df.columns:
        s = df[c]
        if s.dtype == object:
            kinds = {type(v) for v in s.dropna().head(10000)}
            if len(kinds) > 1 or (kinds and not kinds <= {str}):
                if all(issubclass(k, (int, float, np.integer, np.floating, bool, np.bool_)) for k in kinds):
                    df[c] = pd.to_numeric(s, errors="coerce")
                elif all(issubclass(k, (pd.Timestamp, np.datetime64)) for k in kinds):
                    df[c] = pd.to_datetime(s, errors="coerce")
                else:
                    df[c] = s.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return df


def read_table(source, *, filename: str | None = None, max_bytes: int | None = None,
               max_columns: int | None = None, max_cells: int | None = None) -> pd.DataFrame:
    """Read a CSV, TSV, Parquet or Excel table, refusing bad files with a clear message.

    Parameters
    ----------
    source : str, path, bytes or data URL
        A file path, the file's bytes, or the ``contents`` string of a ``dcc.Upload``
        (``"data:...;base64,..."``).
    filename : str, optional
        The file's name (its extension picks the format); required for bytes and data URLs.
    max_bytes : int, optional
        Refuse larger files (checked before decoding a data URL).
    max_columns : int, optional
        Refuse tables with more columns (checked on the header before parsing the body).
    max_cells : int, optional
        Refuse tables with more rows x columns, checked on what the file declares before its
        body is read (Parquet footer, worksheet dimension, lines of a text file) and again on
        the table read.

    Returns
    -------
    DataFrame
        String column names, a fresh RangeIndex; ``df.attrs["read_notes"]`` lists what was
        inferred (separator, encoding, sheet).

    Raises
    ------
    TableError
        Empty file, binary content under a text extension, an unsupported extension,
        undecodable text (see the module docstring), a file over ``max_bytes``, more than
        ``max_cells`` cells, an archive that would decompress beyond its bound, a header
        without rows, fewer than ``MIN_ROWS`` rows, duplicate column names, more than
        ``max_columns`` columns, or a ragged / corrupt file.

    Examples
    --------
    >>> df = read_table(b"x,y\\n1,2\\n3,4\\n5,6\\n", filename="t.csv")
    >>> df.shape
    (3, 2)
    """
    from ._validation import check_int

    max_cells = check_int(max_cells, "max_cells", low=1, allow_none=True)
    data, name = _load_bytes(source, filename, max_bytes)
    max_expanded = _expansion_limit(max_bytes)
    ext = Path(name).suffix.lower()
    if ext == ".xls":
        raise TableError(f"{name}: the old Excel .xls format is not supported; save it as .xlsx or CSV")
    fmt = SUPPORTED_EXTENSIONS.get(ext)
    if fmt is None:
        shown = f"'{ext}'" if ext else "no extension"
        raise TableError(f"{name}: unsupported file type ({shown}). Upload a .csv, .tsv, .parquet "
                         "or .xlsx file.")
    if len(data) == 0 or (fmt in ("csv", "tsv") and not data.strip()):
        raise TableError(f"{name} is empty")
    notes: list[str] = []
    if fmt in ("csv", "tsv"):
        df = _read_text(data, name, fmt, max_columns, notes, max_cells)
    elif fmt == "parquet":
        if not data.startswith(b"PAR1"):
            what = _sniff_binary(data) or "text"
            raise TableError(f"{name} is named .parquet but its content is {what}, not Parquet")
        df = _read_parquet(data, name, max_columns, max_cells, max_expanded)
    else:
        if not data.startswith(b"PK\x03\x04"):
            what = _sniff_binary(data) or "text"
            raise TableError(f"{name} is named {ext} but its content is {what}, not an Excel workbook")
        df = _read_excel(data, name, max_columns, notes, max_cells, max_expanded)

    df = df.dropna(axis=0, how="all").reset_index(drop=True)
    _check_cells(df.shape[0], df.shape[1], name, max_cells, "as read")
    if df.shape[1] == 0:
        raise TableError(f"{name} has no columns")
    if df.shape[0] == 0:
        raise TableError(f"{name} has a header row but no data rows")
    if df.shape[0] < MIN_ROWS:
        raise TableError(f"{name} has only {df.shape[0]} data row{'s' if df.shape[0] > 1 else ''}; "
                         f"the information imbalance needs at least {MIN_ROWS}")
    df = _normalise(df)
    _check_header(list(df.columns), name, max_columns)  # Excel: 1 and "1" both become "1"
    df = detect_dates(df, notes=notes)
    df.attrs["read_notes"] = notes
    return df


# --------------------------------------------------------------------------------------
# dates, roles, fingerprints
# --------------------------------------------------------------------------------------
_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_YMD_SLASH = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$")
_YEAR_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DMY = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4})$")


def _date_format(values: pd.Series) -> tuple[str | None, str]:
    """(format for pd.to_datetime, description) of a text column that holds dates, or
    (None, reason) when it does not (or day and month cannot be told apart)."""
    if values.str.match(_ISO).all():
        return "ISO8601", "year-month-day"
    if values.str.match(_YMD_SLASH).all():
        return "%Y/%m/%d", "year/month/day"
    if values.str.match(_YEAR_MONTH).all():
        return "%Y-%m", "year-month"
    parts = values.str.extract(_DMY)
    if parts.notna().all().all() and parts[1].nunique() == 1:
        sep = parts[1].iloc[0]
        first, second = parts[0].astype(int), parts[2].astype(int)
        if (first > 12).any() and (second <= 12).all():
            order = "day-first"
        elif (second > 12).any() and (first <= 12).all():
            order = "month-first"
        elif sep == "." and (second <= 12).all():
            order = "day-first"  # dotted dates are day.month.year wherever they are written
        else:
            return None, "day and month cannot be told apart (no value above 12)"
        if order == "day-first":
            return f"%d{sep}%m{sep}%Y", f"day{sep}month{sep}year"
        return f"%m{sep}%d{sep}%Y", f"month{sep}day{sep}year"
    return None, ""


def detect_dates(df: pd.DataFrame, *, notes: list[str] | None = None) -> pd.DataFrame:
    """Text columns that hold dates, parsed to datetime.

    Recognised: ISO ``2021-03-01`` (with an optional time), ``2021/03/01``, ``2021-03``,
    and ``01/03/2021``, ``01-03-2021``, ``01.03.2021`` when the order is unambiguous: a
    first field above 12 means day-first, a second field above 12 month-first, and dotted
    dates are day-first. Every non-missing value must parse in one format; a column where
    day and month cannot be told apart stays text (and a note says why). ``notes`` (a list)
    receives one line per column converted or left.

    Examples
    --------
    >>> df = detect_dates(pd.DataFrame({"d": ["13/03/2021", "01/04/2021", "02/04/2021"]}))
    >>> str(df["d"].dtype), df["d"].dt.month.tolist()
    ('datetime64[us]', [3, 4, 4])
    """
    out = None
    for c in df.columns:
        s = df[c]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        present = s.dropna()
        if len(present) == 0 or not all(isinstance(v, str) for v in present.head(1000)):
            continue
        v = present.astype(str).str.strip()
        fmt, what = _date_format(v)
        if fmt is None:
            if what and notes is not None:
                notes.append(f"column '{c}' looks like dates but stays text: {what}")
            continue
        parsed = pd.to_datetime(s.astype(object).where(s.notna()).map(
            lambda x: x.strip() if isinstance(x, str) else x), format=fmt, errors="coerce")
        if parsed[s.notna()].isna().any():
            continue  # e.g. 31.02.2021: not a date after all
        out = df.copy() if out is None else out
        out[c] = parsed
        if notes is not None:
            notes.append(f"column '{c}' read as dates ({what})")
    return df if out is None else out


@dataclass(frozen=True)
class RoleProposal:
    """Proposed time and entity columns of a long panel, each with the reason.

    ``time`` / ``entity``: column names or None; ``reasons``: {"time": ..., "entity": ...}
    in words; ``panel``: True when the table is one row per entity and time.
    """

    time: str | None
    entity: str | None
    reasons: dict
    panel: bool

    def to_dict(self) -> dict:
        return asdict(self)


_TIME_NAMES = ("date", "time", "day", "week", "month", "year", "datum", "fecha", "period", "t")
_ENTITY_NAMES = ("id", "country", "nation", "entity", "region", "site", "subject", "patient",
                 "iso", "code", "land", "state", "unit", "group", "name")


def propose_roles(df: pd.DataFrame) -> RoleProposal:
    """Propose the time and entity columns of a long panel (one row per entity and time).

    Time: a datetime column (see :func:`detect_dates`), else an integer column named like a
    time (year, week, t, ...). Entity: a text, category or integer column with at least two
    values, each repeated (entities are observed several times), such that (entity, time)
    identifies the rows; among several, the one with the fewest values, a name like "id" or
    "country" first. Without a time column no entity is proposed: a repeated text column of
    independent rows (sex, treatment arm) is a feature, and taking it for an entity would change
    the null and the bootstrap of every analysis. Returns a :class:`RoleProposal`; roles that cannot be found are None
    with the reason.

    Examples
    --------
    >>> df = pd.DataFrame({"country": ["IT", "IT", "FR", "FR"],
    ...                    "date": pd.to_datetime(["2021-03-01", "2021-03-08"] * 2),
    ...                    "cases": [1, 2, 3, 4]})
    >>> r = propose_roles(df)
    >>> r.time, r.entity, r.panel
    ('date', 'country', True)
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a DataFrame, got {type(df).__name__}")
    n = len(df)
    reasons: dict = {}
    times = [c for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c].dtype)]
    if not times:
        times = [c for c in df.columns if str(c).strip().lower() in _TIME_NAMES
                 and pd.api.types.is_integer_dtype(df[c].dtype)]
    time = None
    if times:
        # the time column with the most distinct values (dates of observation, not of birth)
        time = max(times, key=lambda c: (df[c].nunique(), -list(df.columns).index(c)))
        kind = "dates" if pd.api.types.is_datetime64_any_dtype(df[time].dtype) else "whole numbers named like a time"
        reasons["time"] = f"'{time}' holds {kind} ({df[time].nunique()} distinct values)"
    else:
        reasons["time"] = "no column of dates (or whole numbers named like a time)"

    def name_rank(c) -> int:
        low = str(c).strip().lower()
        return 0 if any(low == k or low.startswith(k + "_") or low.endswith("_" + k) for k in _ENTITY_NAMES) else 1

    candidates = []
    # an entity is proposed for a panel only: without a time column it would be a guess
    for c in (df.columns if time is not None else ()):
        if c == time:
            continue
        s = df[c]
        textual = s.dtype == object or pd.api.types.is_string_dtype(s.dtype) or \
            isinstance(s.dtype, pd.CategoricalDtype)
        if not (textual or pd.api.types.is_integer_dtype(s.dtype)) or s.isna().any():
            continue
        k = s.nunique()
        if not 2 <= k <= n // 2:
            continue
        if df.duplicated([c, time]).any():
            continue
        candidates.append((name_rank(c), 0 if textual else 1, k, list(df.columns).index(c), c))
    entity = None
    if candidates:
        entity = min(candidates)[-1]
        per = df.groupby(entity, sort=False).size()
        reasons["entity"] = (f"'{entity}' has {per.shape[0]} values, each on {int(per.min())}-"
                             f"{int(per.max())} rows" + (f", one row per '{entity}' and '{time}'"
                                                          if time is not None else ""))
    else:
        reasons["entity"] = (f"no text or integer column repeats its values with one row per value and '{time}'"
                             if time is not None else
                             "no time column, so no entity is proposed (a table of independent rows: a text "
                             "column such as sex or arm is a feature, not a panel's entity)")
    panel = time is not None and entity is not None
    return RoleProposal(time, entity, reasons, panel)


def dataset_fingerprint(df: pd.DataFrame) -> str:
    """A stable content hash of a table: its column names, dtypes and values, in order.

    The same content gives the same fingerprint in every process and session (so settings
    such as the roles can be remembered per dataset); any change of a value, a name or the
    column order changes it. The row index is ignored.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1, 2], "y": ["u", "v"]})
    >>> dataset_fingerprint(a) == dataset_fingerprint(a.copy())
    True
    >>> dataset_fingerprint(a) == dataset_fingerprint(a.assign(x=[1, 3]))
    False
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a DataFrame, got {type(df).__name__}")
    h = hashlib.sha256()
    h.update(f"{df.shape[0]}x{df.shape[1]}".encode())
    for c in df.columns:
        col = df[c]
        text = col.dtype == object or pd.api.types.is_string_dtype(col.dtype)
        kind = "text" if text else str(col.dtype)  # object and pandas' str dtype alike
        h.update(b"\x00" + str(c).encode("utf-8") + b"\x01" + kind.encode())
        if text:
            col = col.astype(object).where(col.notna(), None).map(
                lambda v: None if v is None else str(v))
        values = pd.util.hash_pandas_object(col, index=False, categorize=False).to_numpy()
        h.update(values.tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------------------
# column summary
# --------------------------------------------------------------------------------------
def summarize_columns(df: pd.DataFrame) -> pd.DataFrame:
    """One row per column: its kind, missing and infinite values, range and problems.

    Columns of the result: ``column``, ``dtype``, ``kind`` ("numeric", "boolean", "datetime",
    "text" or "mixed"), ``n_missing``, ``n_inf``, ``min``, ``max`` (finite values only; None
    for text), ``n_unique``, ``constant`` (one distinct value or none), ``n_bad`` and
    ``bad_value`` (for a "mixed" column: a text column whose values are mostly numbers, the
    number of values that are not, and the first of them).

    Examples
    --------
    >>> import pandas as pd
    >>> s = summarize_columns(pd.DataFrame({"x": ["1", "2", "n/a?", "4"]}))
    >>> s.loc[0, "kind"], s.loc[0, "bad_value"]
    ('mixed', 'n/a?')
    """
    rows = []
    for c in df.columns:
        s = df[c]
        dt = s.dtype
        n_missing = int(s.isna().sum())
        row = {"column": str(c), "dtype": str(dt), "kind": "text", "n_missing": n_missing, "n_inf": 0,
               "min": None, "max": None, "n_unique": int(s.nunique(dropna=True)), "constant": False,
               "n_bad": 0, "bad_value": None}
        if pd.api.types.is_bool_dtype(dt):
            row["kind"] = "boolean"
            vals = s.dropna().astype(int)
            if len(vals):
                row["min"], row["max"] = int(vals.min()), int(vals.max())
        elif pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_complex_dtype(dt):
            row["kind"] = "numeric"
            x = s.to_numpy(dtype=float, na_value=np.nan)
            inf = np.isinf(x)
            row["n_inf"] = int(inf.sum())
            finite = x[np.isfinite(x)]
            if finite.size:
                row["min"], row["max"] = float(finite.min()), float(finite.max())
        elif pd.api.types.is_datetime64_any_dtype(dt):
            row["kind"] = "datetime"
            vals = s.dropna()
            if len(vals):
                row["min"], row["max"] = str(vals.min()), str(vals.max())
        else:
            present = s.dropna()
            if len(present):
                as_text = present.astype(str).str.strip()
                num = pd.to_numeric(as_text, errors="coerce")
                ok = num.notna()
                if ok.mean() >= 0.5:
                    bad = as_text[~ok]
                    if len(bad):
                        row["kind"] = "mixed"
                        row["n_bad"] = int(len(bad))
                        row["bad_value"] = str(bad.iloc[0])
                    else:
                        row["kind"] = "text"  # numbers stored as text (e.g. quoted)
                    finite = num[ok].to_numpy(dtype=float)
                    finite = finite[np.isfinite(finite)]
                    if finite.size:
                        row["min"], row["max"] = float(finite.min()), float(finite.max())
        row["constant"] = row["n_unique"] <= 1
        rows.append(to_jsonable(row))
    cols = ["column", "dtype", "kind", "n_missing", "n_inf", "min", "max", "n_unique", "constant",
            "n_bad", "bad_value"]
    return pd.DataFrame(rows, columns=cols)
