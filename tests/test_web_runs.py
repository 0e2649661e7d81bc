"""Long runs and stale state on the dashboard, without a browser (issue 9, §3 and §4).

- the cost line under Run and the one-click subsampled estimator (infoimb.web.jobs.costs);
- progress that moves with the engine's work and says the time left (runner.Progress);
- results of a previous table never shown as the current table's (card.display_logic);
- the page's last settings restored after a reload (fields.form_values, card.sync_controls);
- the Time lags page's defaults run.
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest

from infoimb.cost import EngineRate, estimate_seconds
from infoimb.web import data_logic, ids
from infoimb.web.analyses import imbalance, lags, selection
from infoimb.web.config import Settings
from infoimb.web.fields import form_values
from infoimb.web.jobs import card as card_mod
from infoimb.web.jobs import runner
from infoimb.web.jobs.card import AnalysisCard, display_logic, saved_for
from infoimb.web.jobs.costs import Work, card_cost, heavily_tied, proposal_values, run_cost, seconds_text
from infoimb.web.jobs.runner import Progress, last_inputs, lookup, run_job, time_left_text
from infoimb.web.store import SessionStore

#: a fixed (slow) rate: the estimates below do not depend on this machine
SLOW = EngineRate(base=1e-7, per_feature=2e-8, per_neighbour=1e-8, machine="test",
                  measured_at="2026-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    s = Settings(cache_dir=tmp_path_factory.mktemp("web-runs"), job_timeout=300)
    s.ensure_dirs()
    return s


@pytest.fixture(scope="module")
def store(settings) -> SessionStore:
    return SessionStore(settings.sessions_dir)


def example(store, settings, name, n=None, sid=None):
    sid = sid or store.new_session()
    out = data_logic.ingest_example(store, sid, name, n, settings)
    assert out["dataset"] is not None, out["message"]
    return sid, {"groups": out["groups"], "scaling": "none"}


def upload(store, settings, df: pd.DataFrame, filename: str, sid=None):
    sid = sid or store.new_session()
    url = "data:text/csv;base64," + base64.b64encode(df.to_csv(index=False).encode()).decode()
    out = data_logic.ingest_upload(store, sid, url, filename, settings)
    assert out["dataset"] is not None, out["message"]
    return sid


def make_card(analysis, store, settings) -> AnalysisCard:
    return AnalysisCard(analysis, get_store=lambda: store, get_settings=lambda: settings)


def page_defaults(module, store, sid, client) -> dict:
    return form_values(module.ANALYSIS, store.get_meta(sid), client, {}, restore=True, data_changed=False)["values"]


# --------------------------------------------------------------------------------------
# 1. the cost before a run
# --------------------------------------------------------------------------------------
def test_run_cost_words_the_estimate_and_proposes_the_subsampled_estimator():
    c = run_cost(Work(200_000, 10, 1), rate=SLOW, threshold_seconds=30)
    want = estimate_seconds(200_000, 10, 1, rate=SLOW)  # 4e10 pairs x 3.2e-7 s
    assert c.seconds == pytest.approx(want) and c.exact
    assert c.text == f"About {want / 3600:.1f} h exact (N = 200,000, 10 + 1 features)"
    per_query = want / 200_000
    assert c.proposed_queries == 1000  # 10 s / 0.064 s per query < 1000: the floor
    assert c.proposed_seconds == pytest.approx(1000 * per_query)
    # under the threshold: no proposal; subsampled: no proposal, and said so
    small = run_cost(Work(4000, 3, 1), rate=SLOW, threshold_seconds=30)  # 16e6 pairs x 1.8e-7 s
    assert small.text == "About 3 s exact (N = 4,000, 3 + 1 features)" and not small.propose
    assert run_cost(Work(2000, 3, 1), rate=SLOW).text == "Under a second exact (N = 2,000, 3 + 1 features)"
    sub = run_cost(Work(200_000, 10, 1, n_queries=1000), rate=SLOW, threshold_seconds=30)
    assert sub.text == "About 64 s with 1,000 random queries (N = 200,000, 10 + 1 features)" and not sub.propose
    # the k-d trees (at most 4 features per space, large N) are not estimated at the brute rate
    tree = run_cost(Work(200_000, 2, 1, tree_ok=True), rate=SLOW)
    assert tree.tree and tree.text.startswith("Fast: exact on k-d trees") and not tree.propose
    assert seconds_text(0.2) == "under a second" and seconds_text(150) == "2 min"
    assert run_cost([], rate=SLOW) is None


def test_compare_cost_line_and_one_click_subsampling(store, settings):
    sid, client = example(store, settings, "descriptors", 5000)
    card = make_card("compare", store, settings.replace(subsample_above=30.0))
    values = page_defaults(imbalance, store, sid, client) | {"b": "group:energy"}
    assert (values["a"], values["estimator"], values["n_permutations"]) == ("group:features", "exact", None)
    out = card.cost_outputs(values, client, sid, rate=SLOW)
    # the pair with its default 199 permutations (a tenth of a pair each), then the rank samples
    exact = estimate_seconds(5000, 240, 1, rate=SLOW) * (1 + 0.1 * 199)
    ranks = imbalance.RANKS_COST * estimate_seconds(5000, 240, 1, n_queries=2000, rate=SLOW)
    assert out["text"].startswith(f"About {(exact + ranks) / 60:.0f} min exact (N = 5,000, 240 + 1 features, "
                                  "199 permutations). "
                                  "Over 30 s: the subsampled estimator")
    assert out["proposal"] == {"estimator": "subsampled", "n_queries": 1000, "n_permutations": None}
    sub = estimate_seconds(5000, 240, 1, n_queries=1000, rate=SLOW) + ranks  # and no permutations
    assert out["button"] == f"Use 1,000 random queries (about {seconds_text(sub)})"
    assert out["style"] == {}
    # the click puts the proposal into the page's fields: the estimate follows, nothing proposed
    after = card.cost_outputs(values | out["proposal"], client, sid, rate=SLOW)
    assert after["text"] == f"About {seconds_text(sub)} with 1,000 random queries (N = 5,000, 240 + 1 features)."
    assert after["style"] == {"display": "none"} and after["proposal"] == {}
    # invalid inputs (k too large for the table): no estimate, no error
    assert card.cost_outputs(values | {"k": 10**6}, client, sid, rate=SLOW)["text"] is None


def test_every_analysis_declares_its_cost(store, settings):
    from infoimb.web.analyses import ANALYSES

    sid, client = example(store, settings, "policy_panel")
    meta = store.get_meta(sid)
    for name, analysis in ANALYSES.items():
        assert analysis.cost is not None, name
    # the lag scan's defaults: 2 x 8 + 1 lags, then the greedy lagged selection
    values = page_defaults(lags, store, sid, client)
    _, key, why = lookup(store, "lags", sid, values, client, settings)
    assert why is None
    job = runner.prepare_job(store, "lags", sid, values, client, settings)
    work = lags.cost(job.settings, meta)
    n_lags = job.settings["lag_max"] - job.settings["lag_min"] + 1
    n_perm = job.settings["n_permutations"]
    assert work[0].what == f"{n_lags} lags with {n_perm} permutations each" and work[0].n == meta["n_rows"]
    assert work[1].what == f"{selection.evaluations('greedy', 11, 8, 1, 0):,} subsets"
    est = card_cost(lags.ANALYSIS, job.settings, meta, rate=SLOW, threshold_seconds=1e9)
    assert est.text.startswith("About ")
    assert f"N = {meta['n_rows']:,}, 10 + 1 features, {n_lags} lags with {n_perm} permutations each, " in est.text
    assert proposal_values(lags.ANALYSIS, est) == {}
    # a policy holds 5 levels: one alone (5 distinct points) or four (625 < N / 4) tie heavily;
    # five (3125 >= N / 4) do not, nor does a count
    pol = ["testing_policy", "stay_home_restrictions", "school_closing", "contact_tracing", "facial_coverings"]
    assert heavily_tied(pol[:1], meta, 3200) and heavily_tied(pol[:4], meta, 3200)
    assert not heavily_tied(pol, meta, 3200) and not heavily_tied(["confirmed"], meta, 3200)
    # the selection's subsets start with single features: its estimate warns for the policies
    job = runner.prepare_job(store, "select", sid, page_defaults(selection, store, sid, client), client, settings)
    est = card_cost(selection.ANALYSIS, job.settings, meta, rate=SLOW)
    assert est.text.endswith("; many tied values (few distinct levels): it may take several times longer")
    tied = run_cost(Work(3200, 1, 1, columns=("testing_policy",)), rate=SLOW, meta=meta)
    assert tied.text.endswith("; many tied values (few distinct levels): it may take several times longer")


# --------------------------------------------------------------------------------------
# 2. progress that moves, with the time left
# --------------------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_progress_label_says_the_step_and_the_time_left():
    reports, clock = [], Clock()
    p = Progress(reports.append, deadline=float("inf"), min_interval=0.0, clock=clock)
    p(0.0, "loading the data")
    clock.t += 30  # loading the data and starting the job: not part of the rate
    p(0.01, "Δ for A vs B")
    clock.t += 10
    p(0.25, "Δ both ways: 50,000 of 200,000 query points · about 95 s left")  # the engine's own
    clock.t += 110
    p(0.5, "Δ both ways: 100,000 of 200,000 query points · about 40 s left")
    clock.t += 60
    p(1.0, "done")
    assert [r["label"] for r in reports] == [
        "0% · loading the data",
        "1% · Δ for A vs B",
        "25% · about 31 s left · Δ both ways: 50,000 of 200,000 query points",  # 10 s x 0.75 / 0.24
        "50% · about 2 min left · Δ both ways: 100,000 of 200,000 query points",  # 120 s x 0.5 / 0.49
        "100% · done",
    ]
    assert [r["value"] for r in reports] == [0.0, 1.0, 25.0, 50.0, 100.0]
    assert time_left_text(0.2) == "about 1 s left" and time_left_text(7200) == "about 2.0 h left"


def test_compare_reports_from_inside_the_engine(store, settings, monkeypatch):
    """A real exact Compare whose engine reports per chunk of queries (chunks of 1/100 of the
    queries, as in a job of 100 s or more): at least 20 updates reach the page, each with the
    step, and the time left."""
    import infoimb.imbalance as imb

    monkeypatch.setattr(imb, "_PROGRESS_CHUNK_SECONDS", 0.0)
    monkeypatch.setattr(Progress, "MIN_INTERVAL", 0.0)
    monkeypatch.setattr(Progress, "LEFT_AFTER_SECONDS", 0.0)
    sid, client = example(store, settings, "rossler", 8000)
    values = page_defaults(imbalance, store, sid, client) | {"n_permutations": 0}
    reports = []
    status = run_job(store, "compare", sid, values, client, settings, report=reports.append)
    assert status["status"] == "ok", status
    inside = [r for r in reports if "query points" in r["label"]]
    assert len(inside) >= 100  # the engine's 100 chunks of 80 queries
    assert "Δ both ways: 4,000 of 8,000 query points" in " ".join(r["label"] for r in inside)
    assert all(" left · Δ both ways: " in r["label"] for r in inside if 3 <= r["value"] < 100)
    values_ = [r["value"] for r in reports]
    assert values_ == sorted(values_) and values_[-1] == 100.0 and reports[-1]["label"] == "100% · done"
    record = store.get_result(sid, status["content_hash"], "compare", status["key"])
    from infoimb import imbalance_pair

    df = store.get_dataset(sid)
    s = record["settings"]
    assert s["a"]["columns"] == ["x1", "y1", "z1"] and s["scaling"] == "none"
    assert s["b"]["columns"] == ["x1", "y1", "z1", "x2", "y2", "z2"]
    want = imbalance_pair(df[s["a"]["columns"]], df[s["b"]["columns"]], random_state=0)
    assert record["result"]["main"]["a_to_b"] == pytest.approx(want.a_to_b, abs=0)


# --------------------------------------------------------------------------------------
# 3. stale state: results of another table
# --------------------------------------------------------------------------------------
def test_results_of_the_previous_table_are_cleared(store, settings):
    sid, client = example(store, settings, "gauss3d", 300)
    card = make_card("compare", store, settings)
    values = page_defaults(imbalance, store, sid, client) | {"n_permutations": 0}
    status = run_job(store, "compare", sid, values, client, settings)
    assert status["status"] == "ok", status
    trig = (f"{ids.job(ids.JOB_RESULT, 'compare')}.data",)
    shown_now = display_logic(card, status, client, values, {"sid": sid}, triggered=trig)
    assert shown_now["shown"] == {"key": status["key"], "content_hash": status["content_hash"]}
    # another table in the same session: the same inputs are not valid there, the last
    # result (of gauss3d) is not shown, and the placeholder names the previous table
    _, client2 = example(store, settings, "sinusoid", 300, sid=sid)
    out = display_logic(card, status, client2, values, {"sid": sid}, shown=shown_now["shown"],
                        triggered=(f"{ids.DATASET_STORE}.data",))
    assert out["shown"] is None and out["csv"] is True and out["status"] is None
    text = out["results"].children
    assert text.startswith("A new table is loaded: the last result, for the previous table (example: gauss3d), "
                           "is no longer shown.")
    # a failed run on the new table never sits above the old table's figures
    error = {"analysis": "compare", "status": "error", "message": "K must be smaller than the number of points."}
    failed = display_logic(card, error, client2, values, {"sid": sid}, shown=shown_now["shown"], triggered=trig)
    assert failed["shown"] is None and failed["results"].children == "Choose spaces A and B and press Compare."
    assert failed["status"].children == error["message"]
    # ... while on the same table the figures stay under the message
    sid3, client3 = example(store, settings, "gauss3d", 300)
    status3 = run_job(store, "compare", sid3, values, client3, settings)
    shown3 = {"key": status3["key"], "content_hash": status3["content_hash"]}
    kept = display_logic(card, error, client3, values, {"sid": sid3}, shown=shown3, triggered=trig)
    assert kept["results"] is card_mod.no_update and kept["shown"] is card_mod.no_update


# --------------------------------------------------------------------------------------
# 4. settings survive a reload
# --------------------------------------------------------------------------------------
def test_last_settings_come_back_and_invalid_ones_fall_back(store, settings, monkeypatch):
    sid, client = example(store, settings, "gauss3d", 300)
    meta = store.get_meta(sid)
    card = make_card("compare", store, settings)
    import infoimb.web.sessions as sessions

    monkeypatch.setattr(sessions, "current_sid", lambda: sid)
    form = {"a": "group:x", "b": "group:y", "k": 4, "metric": "manhattan", "estimator": "subsampled",
            "n_queries": 200, "extras": ["features"]}
    saved = dict(client, last={"compare": {"a": "group:xy", "k": 2}},
                 form={"compare": {"hash": meta["content_hash"], "values": form}})
    assert saved_for(saved, "compare") == meta["content_hash"]
    assert last_inputs(saved, "compare")["a"] == "group:x"  # the page's settings over the last run's
    layout = {f.name: f.default for f in imbalance.ANALYSIS.fields}
    # a reload: mounted without a table, then the dataset store fills in for the same table
    first = card.sync_controls({}, saved, layout, None)
    assert first["values"]["a"] is None
    out = card.sync_controls({"content_hash": meta["content_hash"]}, saved, layout, ids.DATASET_STORE)
    for name, value in form.items():
        assert out["values"][name] == value, name
    # invalid for this table or refused by the field: the default, with no error
    bad = dict(saved, form={"compare": {"hash": meta["content_hash"],
                                        "values": form | {"a": "group:gone", "k": 0, "metric": "nope"}}})
    out = card.sync_controls({"content_hash": meta["content_hash"]}, bad, layout, ids.DATASET_STORE)
    assert out["values"]["a"] == page_defaults(imbalance, store, sid, client)["a"]
    assert out["values"]["k"] == 1 and out["values"]["metric"] == imbalance.ANALYSIS.field("metric").default
    assert out["values"]["n_queries"] == 200  # the valid ones still come back
    # a new table (another hash): the table's defaults for the data-dependent fields
    other = dict(saved, form={"compare": {"hash": "another", "values": form}})
    out = card.sync_controls({"content_hash": meta["content_hash"]}, other, layout, ids.DATASET_STORE)
    assert out["values"]["a"] == page_defaults(imbalance, store, sid, client)["a"]


def test_a_non_compare_page_restores_its_own_settings(store, settings):
    """Pages that restore all-or-nothing (``restore_each=False``) still bring back a setting of
    their own (k, the estimator) when a data-dependent one no longer fits."""
    sid, client = example(store, settings, "policy_panel")
    meta = store.get_meta(sid)
    saved = dict(client, form={"lags": {"hash": meta["content_hash"],
                                        "values": {"source": "group:gone", "k": 3, "estimator": "subsampled"}}})
    values = form_values(lags.ANALYSIS, meta, saved, {}, restore=True, data_changed=False)["values"]
    assert values["source"] == page_defaults(lags, store, sid, client)["source"]
    assert (values["k"], values["estimator"]) == (3, "subsampled")


# --------------------------------------------------------------------------------------
# 5. the Time lags page's defaults run
# --------------------------------------------------------------------------------------
def panel_table(n_entities=6, n_times=40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for e in range(n_entities):
        a = rng.normal(size=n_times)
        b = np.roll(a, 2) + 0.1 * rng.normal(size=n_times)
        c = rng.normal(size=n_times)
        for t in range(n_times):
            day = str(pd.Timestamp("2021-01-04") + pd.Timedelta(weeks=t))[:10]
            rows.append({"entity": f"e{e}", "t": day, "a": a[t], "b": b[t], "c": c[t]})
    return pd.DataFrame(rows)


def test_lags_defaults_run_when_the_source_overlaps_the_target(store, settings):
    sid = upload(store, settings, panel_table(), "panel.csv")
    meta = store.get_meta(sid)
    groups = [{"name": "ab", "columns": ["a", "b"]}, {"name": "bc", "columns": ["b", "c"]}]
    client = {"groups": groups, "scaling": "none"}
    values = page_defaults(lags, store, sid, client) | {"time": "t", "entity": "entity"}
    assert (values["source"], values["target"]) == ("group:ab", "group:bc")  # they share b
    assert values["candidates"] == "col:a" and values["select"] == ["on"]  # the one space free of b, c
    record = run_job(store, "lags", sid, values | {"lag_min": -3, "lag_max": 3}, client, settings)
    assert record["status"] == "ok", record
    # a user-made overlap is still refused, with its message
    msg = run_job(store, "lags", sid, values | {"candidates": "group:ab"}, client, settings)["message"]
    assert msg == ("The target (bc) overlaps the candidates (ab): both contain 'b'; remove the target's columns "
                   "from the candidate group.")
    # every space overlaps the target (the full space): no default candidates, the selection
    # is then off by default and the scan runs
    assert lags.default_candidates(meta, groups, "group:ab", "full") is None
