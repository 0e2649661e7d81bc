"""The Data page's logic for real tables (issue 9): proposed time / entity roles of a long
panel, roles remembered per dataset content, feature groups that belong to a dataset, and the
Covid-19 Data Hub steps checked against :func:`infoimb.preprocess.datahub_weekly`."""

from __future__ import annotations

import base64
import warnings

import numpy as np
import pandas as pd
import pytest

from infoimb import datasets as D
from infoimb.io import dataset_fingerprint, read_table
from infoimb.preprocess import datahub_weekly
from infoimb.web import data_logic
from infoimb.web.config import Settings
from infoimb.web.store import SessionStore

from tests.webkit import make_settings, make_store

N_NATIONS, N_WEEKS = 3, 8


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return make_settings(tmp_path_factory, "data-roles")


@pytest.fixture(scope="module")
def store(settings) -> SessionStore:
    return make_store(settings)


@pytest.fixture(scope="module")
def hub_csv() -> bytes:
    return D.covid_datahub_layout(N_NATIONS, n_weeks=N_WEEKS).to_csv(index=False).encode()


def data_url(raw: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(raw).decode()


def upload(store, settings, raw: bytes, client=None, sid=None, name="1.csv"):
    sid = sid or store.new_session()
    out = data_logic.load_request(store, settings, {"kind": "upload", "filename": name}, data_url(raw), sid,
                                  client or {})
    assert out["dataset"] is not None, out["message"]
    return sid, out


# --------------------------------------------------------------------------------------
# proposed roles
# --------------------------------------------------------------------------------------
def test_a_long_panel_gets_proposed_time_and_entity_roles(store, settings, hub_csv):
    sid, out = upload(store, settings, hub_csv)
    meta = store.get_meta(sid)
    assert meta["proposal"]["time"] == "date" and meta["proposal"]["entity"] == "id"
    assert meta["proposal"]["panel"] is True
    # the proposal is the starting roles; the date and the ids are not features
    assert meta["roles"]["time"] == "date" and meta["roles"]["entity"] == "id"
    assert "date" not in meta["roles"]["features"] and "confirmed" in meta["roles"]["features"]
    text = data_logic.proposal_text(meta)
    days = 1 + 7 * (N_WEEKS - 1)
    assert text.startswith("This looks like a long panel (one row per entity and time)")
    assert f"time = date ('date' holds dates ({days} distinct values))" in text
    assert f"entity = id ('id' has {N_NATIONS} values, each on {days}-{days} rows" in text
    assert out["dataset"]["fingerprint"] == dataset_fingerprint(read_table(hub_csv, filename="1.csv"))
    # dismissed: no time / entity, and no proposal shown
    assert data_logic.dismiss_proposal(store, sid) is True
    meta = store.get_meta(sid)
    assert meta["roles"]["time"] is None and meta["roles"]["entity"] is None
    assert data_logic.proposal_text(meta) is None
    assert data_logic.dismiss_proposal(store, sid) is False  # nothing left to dismiss


def test_no_proposal_for_a_plain_table_or_an_example(store, settings):
    sid, _ = upload(store, settings, b"x,y\n1,2\n3,4\n5,7\n")
    meta = store.get_meta(sid)
    assert meta["proposal"]["time"] is None and meta["proposal"]["entity"] is None
    assert meta["proposal"]["reasons"]["time"] == "no column of dates (or whole numbers named like a time)"
    assert data_logic.proposal_text(meta) is None and meta["roles"]["time"] is None
    sid = store.new_session()
    data_logic.ingest_example(store, sid, "policy_panel", 4, settings)
    meta = store.get_meta(sid)
    assert data_logic.proposal_text(meta) is None  # the example's own roles
    assert meta["roles"]["time"] == "date"


# --------------------------------------------------------------------------------------
# roles remembered per dataset content
# --------------------------------------------------------------------------------------
def test_roles_come_back_when_the_same_content_is_loaded_again(store, settings, hub_csv):
    sid, _ = upload(store, settings, hub_csv)
    features = ["confirmed", "tests", "school_closing"]
    msg = data_logic.save_roles(store, sid, features, "date", "iso_alpha_3", [], {})
    assert msg["color"] == "success", msg
    client = data_logic.remember_current_roles(store, sid, {"scaling": "none"})
    fp = store.get_meta(sid)["fingerprint"]
    assert client["scaling"] == "none"  # the other settings are kept
    assert data_logic.remembered_roles(client, fp) == {"features": features, "time": "date",
                                                       "entity": "iso_alpha_3", "periodic": {}}
    # a later session in the same browser, the same file under another name: the roles come back
    sid2, out = upload(store, settings, hub_csv, client=client, name="copy.csv")
    roles = store.get_meta(sid2)["roles"]
    assert roles["features"] == features and roles["entity"] == "iso_alpha_3" and roles["time"] == "date"
    assert out["message"]["details"][0] == ("The roles you applied to this same table before were restored "
                                            "(time: date, entity: iso_alpha_3, 3 features).")
    assert data_logic.proposal_text(store.get_meta(sid2)) is None
    # other content (one value changed): no remembered roles, the proposal instead
    changed = hub_csv.replace(b"\n", b"\n", 1).replace(b",0,", b",1,", 1)
    assert changed != hub_csv
    sid3, out = upload(store, settings, changed, client=client)
    assert store.get_meta(sid3)["roles"]["entity"] == "id"
    assert not any("restored" in d for d in out["message"]["details"])
    # the same session, the same file uploaded again: back too
    sid4, _ = upload(store, settings, hub_csv, client=client, sid=sid3)
    assert sid4 == sid3 and store.get_meta(sid3)["roles"]["entity"] == "iso_alpha_3"


def test_an_examples_roles_come_back_too(store, settings):
    req = {"kind": "example", "name": "policy_panel", "n": 4}
    sid = store.new_session()
    data_logic.load_request(store, settings, req, None, sid, {})
    assert data_logic.save_roles(store, sid, ["testing_policy"], "date", None, [], {})["color"] == "success"
    client = data_logic.remember_current_roles(store, sid, {})
    out = data_logic.load_request(store, settings, req, None, store.new_session(), client)
    assert "were restored (time: date, entity: none, 1 feature)" in out["message"]["details"][0]
    # another size is other content: the example's own roles
    sid3 = store.new_session()
    data_logic.load_request(store, settings, dict(req, n=5), None, sid3, client)
    assert store.get_meta(sid3)["roles"]["entity"] == "id"


def test_remembered_roles_book_is_bounded_and_robust():
    client = {}
    for i in range(data_logic.MAX_REMEMBERED + 5):
        client = data_logic.remember_roles(client, f"fp{i}", {"features": ["x"], "time": None, "entity": None})
    book = client["roles_by_dataset"]
    assert len(book) == data_logic.MAX_REMEMBERED
    assert "fp0" not in book and f"fp{data_logic.MAX_REMEMBERED + 4}" in book
    assert data_logic.remembered_roles(client, "fp9")["features"] == ["x"]
    assert data_logic.remembered_roles(None, "fp9") is None
    assert data_logic.remembered_roles({"roles_by_dataset": {"a": "junk"}}, "a") is None
    assert data_logic.remembered_roles(client, None) is None


def test_remembered_roles_naming_missing_columns_are_filtered(store, settings):
    raw = b"t,g,x,y\n1,a,1,2\n2,a,3,4\n1,b,5,7\n2,b,2,2\n"
    fp = dataset_fingerprint(read_table(raw, filename="p.csv"))
    client = data_logic.remember_roles({}, fp, {"features": ["x", "gone"], "time": "t", "entity": "nope"})
    sid, out = upload(store, settings, raw, client=client, name="p.csv")
    roles = store.get_meta(sid)["roles"]
    assert roles["features"] == ["x"] and roles["time"] == "t" and roles["entity"] is None


# --------------------------------------------------------------------------------------
# feature groups belong to a dataset
# --------------------------------------------------------------------------------------
def test_groups_are_scoped_to_the_table_and_cleared_in_one_click():
    stored = [{"name": "policies", "columns": ["school_closing", "testing_policy"]},
              {"name": "xy", "columns": ["x", "y"]},
              {"name": "new", "columns": []},
              {"name": "state", "columns": ["cases_growth"]}]
    hub_cols = ["id", "date", "school_closing", "testing_policy", "cases_growth"]
    mine, others = data_logic.groups_of_table(stored, hub_cols)
    assert [g["name"] for g in mine] == ["policies", "new", "state"]
    assert others == [{"name": "xy", "columns": ["x", "y"]}]
    mine, others = data_logic.groups_of_table(stored, ["x", "y", "z"])
    assert [g["name"] for g in mine] == ["xy", "new"] and len(others) == 2
    # the editor's draft replaces this table's groups only
    saved = data_logic.save_groups_draft(stored, [{"name": "xy", "columns": ["x"]}], ["x", "y", "z"])
    assert saved == [{"name": "xy", "columns": ["x"]}, stored[0], stored[3]]
    # clear: this table's groups go, the others stay for when their table returns
    left, n = data_logic.clear_groups(stored, hub_cols)
    assert n == 3 and left == [{"name": "xy", "columns": ["x", "y"]}]
    assert data_logic.clear_groups(left, hub_cols) == (left, 0)


def test_five_examples_do_not_pile_up_groups(store, settings):
    client = {}
    for name in ("gauss3d", "policy_panel", "rossler", "gauss3d"):
        sid = store.new_session()
        ex = next(e for e in data_logic.examples() if e["name"] == name)
        out = data_logic.load_request(store, settings, {"kind": "example", "name": name, "n": ex["n_default"]},
                                      None, sid, client)
        client = out["client"] or client
    cols = store.get_meta(sid)["columns"]
    mine, others = data_logic.groups_of_table(client["groups"], cols)
    assert {g["name"] for g in mine} == set(D.EXAMPLES["gauss3d"].roles["groups"])  # gauss3d's groups only
    assert {"policies", "epidemic_state", "X", "Y"} <= {g["name"] for g in others}  # kept for their tables


# --------------------------------------------------------------------------------------
# the Covid-19 Data Hub steps against preprocess.datahub_weekly
# --------------------------------------------------------------------------------------
def test_one_click_data_hub_step_is_datahub_weekly(store, settings, hub_csv):
    sid, _ = upload(store, settings, hub_csv)
    out = data_logic.preprocess_step(store, sid, "datahub", {}, settings)
    assert out["message"]["color"] == "success", out["message"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        want = datahub_weekly(read_table(hub_csv, filename="1.csv"), time="date", entity="id")
    got = store.get_dataset(sid)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    assert got.shape[0] == N_NATIONS * N_WEEKS
    assert (got[list(D.DATAHUB_POLICIES)] >= 0).all().all()
    truth = D.policy_panel(N_NATIONS, n_weeks=N_WEEKS)
    np.testing.assert_array_equal(got["cases_growth"].to_numpy(float), truth["cases_growth"].to_numpy(float))
    groups = {g["name"]: g["columns"] for g in out["groups"]}
    assert groups["policies"] == list(D.PAPER_POLICIES)
    assert groups["all policies"] == list(D.DATAHUB_POLICIES)
    assert groups["epidemic state"] == ["cases_growth"]
    assert groups["tests and cases"] == ["positivity", "confirmed_new", "tests_new"]
    meta = store.get_meta(sid)
    assert meta["roles"]["time"] == "date" and meta["roles"]["entity"] == "id"
    assert "cases_growth" in meta["roles"]["features"]
    assert meta["history"][0].startswith("Data Hub weekly: country rows, absolute policy levels (14 policies)")


def test_step_by_step_equals_datahub_weekly(store, settings, hub_csv):
    """resample (W, last) → difference → ratio → absolute value → log growth, as a user clicks."""
    sid, _ = upload(store, settings, hub_csv)
    pols = list(D.DATAHUB_POLICIES)
    step = lambda op, **p: data_logic.preprocess_step(store, sid, op, p, settings)  # noqa: E731
    assert step("resample", period="W", how="last")["dataset"]["n_rows"] == N_NATIONS * N_WEEKS
    assert step("difference", columns=["confirmed", "tests", "deaths"])["dataset"] is not None
    assert step("ratio", numerator="confirmed_new", denominator="tests_new", name="positivity")["dataset"]
    out = step("absolute", columns=pols)
    n_neg = int((read_table(hub_csv, filename="1.csv")[pols] < 0).any(axis=None))
    assert n_neg and "negative value(s) made positive" in out["message"]["text"]
    out = step("growth", columns=["confirmed_new"])
    assert out["message"]["text"].startswith("Log growth of confirmed_new (new columns confirmed_new_growth)")
    got = store.get_dataset(sid)
    want = datahub_weekly(read_table(hub_csv, filename="1.csv"), time="date", entity="id")
    assert got.shape[0] == want.shape[0]
    for c in (*pols, "confirmed", "tests", "deaths", "confirmed_new", "tests_new", "deaths_new", "positivity"):
        np.testing.assert_array_equal(got[c].to_numpy(float), want[c].to_numpy(float), err_msg=c)
    np.testing.assert_array_equal(got["confirmed_new_growth"].to_numpy(float), want["cases_growth"].to_numpy(float))
    assert list(got["date"]) == list(want["date"])


def test_steps_that_do_not_apply_say_why(store, settings, hub_csv):
    sid = store.new_session()
    data_logic.ingest_example(store, sid, "gauss3d", 50, settings)
    out = data_logic.preprocess_step(store, sid, "datahub", {}, settings)
    assert out["dataset"] is None
    assert out["message"]["text"].startswith("The Data Hub step needs the time column (date) and the entity column")
    sid, _ = upload(store, settings, b"id,date,v\na,2020-01-01,1\na,2020-01-02,2\nb,2020-01-01,3\nb,2020-01-02,4\n")
    out = data_logic.preprocess_step(store, sid, "datahub", {}, settings)
    assert out["message"]["text"] == (
        "This is not a Covid-19 Data Hub table: it has no cumulative count column(s) 'confirmed', 'tests', "
        "'deaths' (the Data Hub's level-1 file has confirmed, tests and deaths, one row per country and day)")
    out = data_logic.preprocess_step(store, sid, "absolute", {"columns": ["id"]}, settings)
    assert out["message"]["text"] == "Column 'id' is not a numeric column of the table"
    out = data_logic.preprocess_step(store, sid, "absolute", {"columns": []}, settings)
    assert out["message"]["text"].startswith("Choose the columns to take the absolute value of")
    sid, _ = upload(store, settings, hub_csv.replace(b"confirmed", b"cases"))
    out = data_logic.preprocess_step(store, sid, "datahub", {}, settings)
    assert "no cumulative count column(s) 'confirmed'" in out["message"]["text"]
