"""Decompression bombs and file names: refused from what the file declares, before its body."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from infoimb.io import MAX_NAME_LENGTH, TableError, clean_filename, read_table

# the file: 10^8 rows of zeros in 0.9 MB; 3 x 10^7 rows write in about a second
BOMB_ROWS = 30_000_000


@pytest.fixture(scope="module")
def parquet_bomb() -> bytes:
    zeros = pa.table({"a": np.zeros(1_000_000), "b": np.zeros(1_000_000)})
    buf = io.BytesIO()
    with pq.ParquetWriter(buf, zeros.schema, compression="zstd") as writer:
        for _ in range(BOMB_ROWS // 1_000_000):
            writer.write_table(zeros)
    return buf.getvalue()


def _no_body(monkeypatch):
    """Make reading any Parquet body fail: a refusal must come from the footer alone."""
    def refuse(*args, **kwargs):
        raise AssertionError("the body was read")
    monkeypatch.setattr(pq.ParquetFile, "read", refuse)
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", refuse)
    monkeypatch.setattr(pq.ParquetFile, "read_row_group", refuse)


def test_parquet_bomb_refused_from_its_footer(parquet_bomb, monkeypatch):
    assert len(parquet_bomb) < 400_000  # small on disk, 480 MB of float64 in memory
    _no_body(monkeypatch)
    before = pa.total_allocated_bytes()
    with pytest.raises(TableError, match=r"bomb\.parquet has 30,000,000 rows × 2 columns = "
                                         r"60,000,000 cells \(from its Parquet footer\); the limit "
                                         r"is 10,000,000 cells"):
        read_table(parquet_bomb, filename="bomb.parquet", max_cells=10_000_000)
    assert pa.total_allocated_bytes() - before < 1_000_000


def test_parquet_expansion_bounded_by_max_bytes(parquet_bomb, monkeypatch):
    _no_body(monkeypatch)
    with pytest.raises(TableError, match=r"bomb\.parquet would decompress to 457\.8 MB or more; "
                                         r"the limit is 9\.5 MB"):
        read_table(parquet_bomb, filename="bomb.parquet", max_bytes=500_000)


def _xlsx(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    return buf.getvalue()


def _rewrite(xlsx: bytes, member: str, change) -> bytes:
    """The workbook with one member's bytes replaced by ``change(old bytes)``."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for n in src.namelist():
            z.writestr(n, change(src.read(n)) if n == member else src.read(n))
    return out.getvalue()


SMALL = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
SHEET = "xl/worksheets/sheet1.xml"


def test_xlsx_dimension_refused_before_parsing(monkeypatch):
    big = _rewrite(_xlsx(SMALL), SHEET, lambda b: b.replace(b'<dimension ref="A1:B4"/>',
                                                            b'<dimension ref="A1:B100000000"/>'))

    def refuse(*args, **kwargs):
        raise AssertionError("the workbook was parsed")
    monkeypatch.setattr(pd, "ExcelFile", refuse)
    with pytest.raises(TableError, match=r"big\.xlsx has 99,999,999 rows × 2 columns = "
                                         r"199,999,998 cells \(from the dimension of "
                                         r"xl/worksheets/sheet1\.xml\); the limit is 1,000,000"):
        read_table(big, filename="big.xlsx", max_cells=1_000_000)


def test_xlsx_zip_bomb_refused_from_declared_sizes(monkeypatch):
    # 50 MB of padding in the sheet compresses to about 50 kB
    bomb = _rewrite(_xlsx(SMALL), SHEET, lambda b: b.replace(b"<sheetData>",
                                                             b" " * 50_000_000 + b"<sheetData>"))
    assert len(bomb) < 200_000
    monkeypatch.setattr(pd, "ExcelFile", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    with pytest.raises(TableError, match=r"bomb\.xlsx would decompress to 47\.7 MB; the limit is "
                                         r"3\.8 MB"):
        read_table(bomb, filename="bomb.xlsx", max_bytes=200_000)


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%s;" % (b"" if i == 1 else b"%d" % (i - 1))) * 10)
                     for i in range(1, 10))
          + b"]>")


def _laughs() -> bytes:
    def change(sheet: bytes) -> bytes:
        body = sheet[sheet.index(b"<worksheet"):]
        return LAUGHS + body.replace(b"<v>1</v>", b"<v>&lol9;</v>", 1)
    return _rewrite(_xlsx(SMALL), SHEET, change)


def test_billion_laughs_refused():
    with pytest.raises(TableError, match=r"laughs\.xlsx: its part xl/worksheets/sheet1\.xml "
                                         r"declares a document type"):
        read_table(_laughs(), filename="laughs.xlsx")


def test_openpyxl_parses_through_defusedxml():
    """Without our own check, openpyxl still refuses the entities: it uses defusedxml."""
    import defusedxml
    import openpyxl

    assert openpyxl.DEFUSEDXML is True
    with pytest.raises(Exception) as info:
        wb = openpyxl.load_workbook(io.BytesIO(_laughs()), read_only=True)
        list(wb.active.values)
    chain, err = [], info.value
    while err is not None:
        chain.append(err)
        err = err.__cause__ or err.__context__
    assert any(isinstance(e, defusedxml.EntitiesForbidden) for e in chain)


def test_csv_cells_counted_from_lines():
    rows = b"x,y,z\n" + b"1,2,3\n" * 1000
    with pytest.raises(TableError, match=r"t\.csv has 1,000 rows × 3 columns = 3,000 cells "
                                         r"\(counted from its lines\); the limit is 2,999 cells"):
        read_table(rows, filename="t.csv", max_cells=2_999)
    assert read_table(rows, filename="t.csv", max_cells=3_000).shape == (1000, 3)


def test_normal_files_load_under_the_limits():
    buf = io.BytesIO()
    SMALL.to_parquet(buf, index=False)
    for data, name in ((buf.getvalue(), "t.parquet"), (_xlsx(SMALL), "t.xlsx"),
                       (SMALL.to_csv(index=False).encode(), "t.csv")):
        df = read_table(data, filename=name, max_cells=6, max_bytes=100_000)
        assert df["b"].tolist() == [4.0, 5.0, 6.0], name
        with pytest.raises(TableError, match="the limit is 5 cells"):
            read_table(data, filename=name, max_cells=5)
    with pytest.raises(ValueError, match="max_cells must be at least 1, got 0"):
        read_table(SMALL.to_csv(index=False).encode(), filename="t.csv", max_cells=0)


def test_file_names_are_cleaned_and_capped():
    assert clean_filename("data\x1b[31m\r\n.csv") == "data[31m.csv"
    assert clean_filename("evil\u202egnp.csv") == "evilgnp.csv"  # right-to-left override
    long = clean_filename("x" * 500 + ".csv")
    assert len(long) == MAX_NAME_LENGTH and long.endswith("….csv")
    assert clean_filename("\x00\x01") == "upload"
    with pytest.raises(TableError) as info:
        read_table(b"x,y\n1,2\n", filename="a\nb\x07" + "c" * 300 + ".csv")
    message = str(info.value)
    assert "\n" not in message and "\x07" not in message
    assert message.startswith("ab" + "c" * (MAX_NAME_LENGTH - 7) + "….csv has only 1 data row")


def test_xlsx_with_a_lying_dimension_refused_from_its_cells(monkeypatch):
    """The dimension says A1:B4, but one cell far out makes openpyxl pad every row."""
    far = b'<row r="100000"><c r="XFD100000"><v>1</v></c></row></sheetData>'
    bomb = _rewrite(_xlsx(SMALL), SHEET, lambda b: b.replace(b"</sheetData>", far))
    monkeypatch.setattr(pd, "ExcelFile", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    with pytest.raises(TableError, match=r"lie\.xlsx has 99,999 rows × 16,384 columns = "
                                         r"1,638,383,616 cells \(from the cells named in "
                                         r"xl/worksheets/sheet1\.xml\); the limit is 1,000,000"):
        read_table(bomb, filename="lie.xlsx", max_cells=1_000_000)


def test_xlsx_cell_refs_are_found_across_scan_chunks():
    """A far cell whose tag straddles the 1 MB read boundary is still seen."""
    from infoimb import io as infoio

    def change(sheet: bytes) -> bytes:
        head, rest = sheet.split(b"<sheetData>")
        pad = b" " * (infoio._SCAN_CHUNK - len(head) - len(b"<sheetData>") - 10)
        return head + b"<sheetData>" + pad + b'<row r="5"><c r="ZZ5"><v>1</v></c></row>' + rest
    wide = _rewrite(_xlsx(SMALL), SHEET, change)
    with pytest.raises(TableError, match=r"4 rows × 702 columns"):
        read_table(wide, filename="wide.xlsx", max_cells=1000)
