"""Reading user tables: every bad input gets a TableError naming the problem; good ones read."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
import pytest

from infoimb.io import MIN_ROWS, TableError, read_table, summarize_columns


def data_url(data: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


GOOD = b"x,y,z\n1,2,3\n4,5,6\n7,8,9\n10,11,12\n"


# --------------------------------------------------------------------------------------
# good files in every format and form
# --------------------------------------------------------------------------------------
def test_csv_from_bytes_path_and_data_url(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes(GOOD)
    for df in (read_table(GOOD, filename="t.csv"), read_table(p), read_table(str(p)),
               read_table(data_url(GOOD), filename="t.csv")):
        assert list(df.columns) == ["x", "y", "z"]
        assert df.shape == (4, 3)
        assert df["z"].tolist() == [3, 6, 9, 12]


def test_tsv_semicolon_and_bom_utf16():
    tsv = GOOD.replace(b",", b"\t")
    assert read_table(tsv, filename="t.tsv").shape == (4, 3)
    semi = GOOD.replace(b",", b";")
    df = read_table(semi, filename="t.csv")
    assert df.shape == (4, 3)
    assert any("';'" in n for n in df.attrs["read_notes"])
    bom = b"\xef\xbb\xbf" + "café,b\n1,2\n3,4\n5,6\n".encode()
    assert list(read_table(bom, filename="t.csv").columns) == ["café", "b"]
    u16 = "a,b\n1,2\n3,4\n5,6\n".encode("utf-16")
    df = read_table(u16, filename="u.csv")
    assert df["b"].tolist() == [2, 4, 6] and "read as UTF-16 text" in df.attrs["read_notes"]


def test_parquet_and_excel_roundtrip():
    src = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["u", "v", "w"], "c": [True, False, True]})
    buf = io.BytesIO()
    src.to_parquet(buf, index=False)
    df = read_table(buf.getvalue(), filename="t.parquet")
    assert df["a"].tolist() == [1.0, 2.0, 3.0] and df["b"].tolist() == ["u", "v", "w"]
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as w:
        src.to_excel(w, index=False, sheet_name="first")
        src.to_excel(w, index=False, sheet_name="second")
    df = read_table(data_url(buf.getvalue(), "application/vnd.ms-excel"), filename="t.xlsx")
    assert df["a"].tolist() == [1, 2, 3]
    assert any("first sheet 'first' of 2" in n for n in df.attrs["read_notes"])


def test_html_in_column_names_is_kept_as_text():
    data = b"<script>alert(1)</script>,<b>bold</b>\n1,2\n3,4\n5,6\n"
    df = read_table(data, filename="x.csv")
    assert list(df.columns) == ["<script>alert(1)</script>", "<b>bold</b>"]


# --------------------------------------------------------------------------------------
# every bad input
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("data, name, match", [
    (b"", "e.csv", r"e\.csv is empty"),
    (b"   \n\n  ", "w.csv", r"w\.csv is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "img.csv", r"not a text table: its content is a PNG image"),
    (b"x,y\n1,\x00\x002\n3,4\n5,6\n", "nul.csv", r"not a text table: its content is binary data"),
    (b"PK\x03\x04\x14\x00\x00\x00", "zip.csv", r"content is a ZIP archive"),
    (b"a,b\n1,2\n3,4\n5,6\n", "t.json", r"unsupported file type \('\.json'\)"),
    (b"a,b\n1,2\n3,4\n5,6\n", "noext", r"unsupported file type \(no extension\)"),
    (b"a,b\n1,2\n3,4\n5,6\n", "old.xls", r"old Excel \.xls format is not supported"),
    (b"caf\xe9,b\n1,2\n3,4\n5,6\n", "latin1.csv", r"not UTF-8 text: byte 0xE9 on line 1, column 4"),
    (b"x,y\n", "header.csv", r"has a header row but no data rows"),
    (b"x,y\n1,2\n", "one.csv", rf"has only 1 data row; the information imbalance needs at least {MIN_ROWS}"),
    (b"x,y\n1,2\n3,4\n", "two.csv", r"has only 2 data rows"),
    (b"x,y,x\n1,2,3\n4,5,6\n7,8,9\n", "dup.csv", r"duplicate column names: 'x'"),
    (b"a,b\n1,2\n3,4,5\n6,7\n", "ragged.csv", r"not a regular table: .*line 3"),
    (b"a,b\n1,2,9\n3,4\n6,7\n", "longrow.csv", r"line 2 has 3 fields but the header has 2"),
    (b"a,b\n1,2\n", "notparquet.parquet", r"named \.parquet but its content is text"),
    (b"a,b\n1,2\n", "notexcel.xlsx", r"named \.xlsx but its content is text"),
    (b"PAR1garbage", "bad.parquet", r"not a readable Parquet file"),
])
def test_bad_files(data, name, match):
    with pytest.raises(TableError, match=match):
        read_table(data, filename=name)


def test_too_large_is_refused_before_decoding():
    big = b"x,y\n" + b"1,2\n" * 3000
    with pytest.raises(TableError, match=r"big\.csv is 11\.7 kB; the limit is 10\.0 kB"):
        read_table(big, filename="big.csv", max_bytes=10 * 1024)
    with pytest.raises(TableError, match=r"the limit is 10\.0 kB"):
        read_table(data_url(big), filename="big.csv", max_bytes=10 * 1024)


def test_too_many_columns_is_refused_from_the_header():
    header = ",".join(f"c{i}" for i in range(50)).encode()
    row = ",".join("1" for _ in range(50)).encode()
    data = b"\n".join([header, row, row, row]) + b"\n"
    with pytest.raises(TableError, match=r"has 50 columns; the limit is 20"):
        read_table(data, filename="wide.csv", max_columns=20)
    assert read_table(data, filename="wide.csv", max_columns=50).shape == (3, 50)


def test_duplicate_names_in_excel():
    buf = io.BytesIO()
    pd.DataFrame([[1, 2], [3, 4], [5, 6]], columns=["a", "a "]).to_excel(buf, index=False)
    with pytest.raises(TableError, match="duplicate column names: 'a'"):
        read_table(buf.getvalue(), filename="d.xlsx")


def test_corrupt_data_url():
    with pytest.raises(TableError, match="invalid base64"):
        read_table("data:text/csv;base64,@@@@", filename="x.csv")
    with pytest.raises(TableError, match="not a base64 data URL"):
        read_table("data:text/csv,plain", filename="x.csv")


# --------------------------------------------------------------------------------------
# column summary
# --------------------------------------------------------------------------------------
def test_summary_finds_every_problem():
    data = (b"num,mixed,const,inf,txt,when,flag\n"
            b"1,1.5,7,1,a,2020-01-01,true\n"
            b"2,2.5,7,inf,b,2020-01-02,false\n"
            b",n/a?,7,-inf,c,2020-01-03,true\n"
            b"4,4.5,7,2,d,2020-01-04,true\n")
    df = read_table(data, filename="p.csv")
    df["when"] = pd.to_datetime(df["when"])
    s = summarize_columns(df).set_index("column")
    assert s.loc["num", "kind"] == "numeric" and s.loc["num", "n_missing"] == 1
    assert (s.loc["num", "min"], s.loc["num", "max"]) == (1.0, 4.0)
    assert s.loc["mixed", "kind"] == "mixed"
    assert s.loc["mixed", "bad_value"] == "n/a?" and s.loc["mixed", "n_bad"] == 1
    assert (s.loc["mixed", "min"], s.loc["mixed", "max"]) == (1.5, 4.5)
    assert bool(s.loc["const", "constant"]) and not bool(s.loc["num", "constant"])
    assert s.loc["inf", "n_inf"] == 2 and (s.loc["inf", "min"], s.loc["inf", "max"]) == (1.0, 2.0)
    assert s.loc["txt", "kind"] == "text"
    assert s.loc["when", "kind"] == "datetime" and s.loc["when", "min"].startswith("2020-01-01")
    assert s.loc["flag", "kind"] == "boolean"
    assert s.loc["txt", "n_unique"] == 4


def test_summary_of_no_numeric_columns():
    df = read_table(b"a,b\nx,y\nu,v\nw,z\n", filename="t.csv")
    s = summarize_columns(df)
    assert set(s["kind"]) == {"text"}


def test_summary_is_json_safe():
    df = pd.DataFrame({"a": [np.nan, np.inf, 1.0], "b": [None, None, None]})
    recs = summarize_columns(df).to_dict("records")
    import json

    json.dumps(recs, allow_nan=True)
    assert recs[0]["min"] == 1.0 and recs[0]["n_inf"] == 1 and recs[0]["n_missing"] == 1
