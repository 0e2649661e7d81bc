"""Tables the way they come: European CSV, unnamed columns, text dates, long panels (roles
proposed from the content) and a stable content fingerprint."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from infoimb.io import TableError, dataset_fingerprint, detect_dates, propose_roles, read_table

EUROPEAN = """\
Datum;Land;Neue Fälle;Tests;Positivrate;Bevölkerung;Maßnahme
01.03.2021;Deutschland;1.234;10.500,5;0,117;83.190.556;Stufe 2
08.03.2021;Deutschland;2.001;11.200;0,179;83.190.556;Stufe 3
15.03.2021;Deutschland;12.345;98.765,25;0,125;83.190.556;Stufe 3
01.03.2021;Österreich;345;4.000,25;0,086;8.917.000;Stufe 1
08.03.2021;Österreich;1.020;;0,1;8.917.000;Stufe 1
15.03.2021;Österreich;-7;3.100;-0,002;8.917.000;Stufe 2
""".encode("utf-8")


def test_european_csv_reads_numbers_and_dates():
    df = read_table(EUROPEAN, filename="rki.csv")
    assert df["Neue Fälle"].tolist() == [1234, 2001, 12345, 345, 1020, -7]
    assert pd.api.types.is_integer_dtype(df["Neue Fälle"])
    np.testing.assert_array_equal(df["Tests"].to_numpy(),
                                  [10500.5, 11200.0, 98765.25, 4000.25, np.nan, 3100.0])
    assert df["Positivrate"].tolist() == [0.117, 0.179, 0.125, 0.086, 0.1, -0.002]
    assert df["Bevölkerung"].tolist() == [83190556] * 3 + [8917000] * 3
    assert df["Maßnahme"].iloc[0] == "Stufe 2" and df["Land"].iloc[3] == "Österreich"
    assert pd.api.types.is_datetime64_any_dtype(df["Datum"])
    assert df["Datum"].dt.strftime("%Y-%m-%d").tolist()[:3] == ["2021-03-01", "2021-03-08", "2021-03-15"]
    notes = " | ".join(df.attrs["read_notes"])
    assert "decimal comma" in notes and "Tests" in notes
    assert "column 'Datum' read as dates (day.month.year)" in notes


def test_thousands_only_column_in_a_decimal_comma_file_is_not_a_fraction():
    data = b"a;b\n1.234;0,5\n2.000;1,5\n3;2\n"
    df = read_table(data, filename="x.csv")
    assert df["a"].tolist() == [1234, 2000, 3] and df["b"].tolist() == [0.5, 1.5, 2.0]


def test_comma_separated_files_keep_the_decimal_point():
    df = read_table(b"a,b\n1.234,x\n2.5,y\n3,z\n", filename="x.csv")
    assert df["a"].tolist() == [1.234, 2.5, 3.0]
    semi = read_table(b"a;b\n1.5;x\n2.5;y\n3;z\n", filename="y.csv")
    assert semi["a"].tolist() == [1.5, 2.5, 3.0]  # no decimal comma anywhere: read as usual


def test_unnamed_columns_are_named_by_position():
    with pytest.raises(TableError, match=r"column 2 \(counting from 1\) has no name"):
        read_table(b"a,,c\n1,2,3\n4,5,6\n7,8,9\n", filename="t.csv")
    with pytest.raises(TableError, match=r"columns 2, 4 \(counting from 1\) have no name"):
        read_table(b"a,,c,\n1,2,3,4\n4,5,6,7\n7,8,9,1\n", filename="t.csv")
    # a trailing separator on every line (an empty, unnamed column) is dropped with a note
    df = read_table(b"a;b;\n1;2;\n3;4;\n5;6;\n", filename="t.csv")
    assert list(df.columns) == ["a", "b"]
    assert "dropped 1 empty column(s) without a name" in df.attrs["read_notes"]


@pytest.mark.parametrize("values, month", [
    (["2021-03-01", "2021-04-02", None], [3, 4]),
    (["2021-03-01 10:00", "2021-04-02T08:30:00", "2021-05-01"], [3, 4, 5]),
    (["13/03/2021", "01/04/2021"], [3, 4]),      # day first: 13 cannot be a month
    (["03/13/2021", "04/01/2021"], [3, 4]),      # month first: 13 cannot be a month
    (["01.03.2021", "02.04.2021"], [3, 4]),      # dotted: day.month.year
    (["2021/03/01", "2021/04/30"], [3, 4]),
])
def test_dates_are_detected(values, month):
    df = detect_dates(pd.DataFrame({"d": values}))
    assert pd.api.types.is_datetime64_any_dtype(df["d"])
    assert df["d"].dropna().dt.month.tolist() == month


def test_ambiguous_or_invalid_dates_stay_text():
    notes = []
    df = detect_dates(pd.DataFrame({"d": ["01/03/2021", "02/04/2021"], "e": ["31.02.2021", "1.1.2021"],
                                    "f": ["a", "b"]}), notes=notes)
    assert not pd.api.types.is_datetime64_any_dtype(df["d"])
    assert not pd.api.types.is_datetime64_any_dtype(df["e"])
    assert notes == ["column 'd' looks like dates but stays text: day and month cannot be told apart "
                     "(no value above 12)"]


def _long_panel_csv():
    rng = np.random.default_rng(0)
    dates = pd.date_range("2021-01-04", periods=30, freq="W-MON").strftime("%Y-%m-%d")
    rows = []
    for iso, pop in (("ITA", 59_000_000), ("FRA", 67_000_000), ("DEU", 83_000_000), ("ESP", 47_000_000)):
        for d in dates:
            rows.append((iso, d, pop, int(rng.integers(0, 5)), int(rng.integers(100, 9000))))
    df = pd.DataFrame(rows, columns=["iso_code", "date", "population", "stay_home", "cases"])
    return df.sample(frac=1, random_state=1).to_csv(index=False).encode()


def test_propose_roles_on_a_long_panel_with_text_dates():
    df = read_table(_long_panel_csv(), filename="panel.csv")
    assert pd.api.types.is_datetime64_any_dtype(df["date"])
    r = propose_roles(df)
    assert (r.time, r.entity, r.panel) == ("date", "iso_code", True)
    assert r.reasons["entity"] == "'iso_code' has 4 values, each on 30-30 rows, one row per 'iso_code' and 'date'"
    assert r.reasons["time"] == "'date' holds dates (30 distinct values)"
    assert r.to_dict()["entity"] == "iso_code"


def test_propose_roles_integer_ids_and_no_panel():
    df = pd.DataFrame({"id": np.repeat([1, 2, 3], 4), "week": np.tile([1, 2, 3, 4], 3),
                       "x": np.arange(12.0)})
    r = propose_roles(df)
    assert (r.time, r.entity, r.panel) == ("week", "id", True)
    clinical = pd.DataFrame({"age": [30, 41, 52, 60], "sex": ["M", "F", "F", "M"],
                             "bmi": [21.0, 25.2, 30.1, 27.3]})
    r = propose_roles(clinical)
    assert (r.time, r.panel) == (None, False)
    assert r.reasons["time"] == "no column of dates (or whole numbers named like a time)"
    with pytest.raises(TypeError, match="df must be a DataFrame"):
        propose_roles([1, 2])


def test_dataset_fingerprint_is_a_stable_content_hash():
    data = _long_panel_csv()
    a, b = read_table(data, filename="p.csv"), read_table(data, filename="copy.csv")
    fp = dataset_fingerprint(a)
    assert len(fp) == 64 and fp == dataset_fingerprint(b)
    assert dataset_fingerprint(a.set_axis(range(100, 100 + len(a)))) == fp  # index ignored
    changed = a.copy()
    changed.loc[5, "cases"] += 1
    assert dataset_fingerprint(changed) != fp
    assert dataset_fingerprint(a[list(a.columns[::-1])]) != fp
    assert dataset_fingerprint(a.rename(columns={"cases": "Cases"})) != fp
    # the same in another process (no per-process hash seed)
    code = ("import sys; from infoimb.io import read_table, dataset_fingerprint; "
            "print(dataset_fingerprint(read_table(sys.argv[1])))")
    import tempfile, os
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "p.csv")
        open(path, "wb").write(data)
        out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True,
                             check=True)
    assert out.stdout.strip() == fp


def test_no_entity_is_proposed_without_a_time_column():
    """A cross-sectional clinical table: 'sex' repeats two values, but the rows are independent
    patients; proposing it as an entity would switch every analysis to the panel null."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"age": rng.integers(20, 80, 160), "sex": rng.choice(["M", "F"], 160),
                       "arm": rng.choice(["placebo", "drug"], 160), "weight": rng.normal(70, 9, 160)})
    r = propose_roles(df)
    assert (r.time, r.entity, r.panel) == (None, None, False)
    assert "no time column" in r.reasons["entity"]
