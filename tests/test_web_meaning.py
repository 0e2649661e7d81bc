"""Issue 9 §5, "say what things mean", without a browser: every control of every page has its
explanation, every page its "How to read this", and the results of real runs (through the
pages' cards) carry the glossary's explanations: tooltips on the numbers, on the table
headers, and the list of terms under the results."""

from __future__ import annotations

import re
import sys

import pytest

from infoimb.web import glossary, ids
from infoimb.web.analyses import ANALYSES
from infoimb.web.fields import form_fields
from infoimb.web.inputs import NONE


def _walk(node, out: list) -> list:
    """Every component of a Dash tree, depth first."""
    if isinstance(node, (list, tuple)):
        for n in node:
            _walk(n, out)
        return out
    if node is None or isinstance(node, (str, int, float)):
        return out
    out.append(node)
    _walk(getattr(node, "children", None), out)
    return out


def _text(node) -> str:
    if isinstance(node, (list, tuple)):
        return " ".join(_text(n) for n in node)
    if node is None:
        return ""
    if isinstance(node, (str, int, float)):
        return str(node)
    return _text(getattr(node, "children", None))


# --------------------------------------------------------------------------------------
# the controls
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(ANALYSES))
def test_every_field_of_every_page_says_what_it_is(name):
    analysis = ANALYSES[name]
    fields = form_fields(analysis.form)
    assert fields, name
    missing = [f.name for f in fields if len(f.help.strip()) < 12]
    assert missing == [], f"{name}: fields without a help text: {missing}"
    # the help is rendered under the control, in small print
    for f in fields:
        texts = [c.children for c in _walk(f.control(), []) if "field-help" in (getattr(c, "className", "") or "")]
        assert texts == [f.help], (name, f.name)


def test_the_options_the_issue_names_are_explained():
    """k, metric (each choice), queries, beam width, DII steps and L1, α values, embedding
    dimension and delay, the scalings: each with what it is, and k / queries / beam with
    what a larger value does."""
    k = ANALYSES["compare"].field("k").help
    assert "(k + 1)/N" in k and "larger k" in k and "paper's default" in k
    metric = ANALYSES["compare"].field("metric").help
    for choice in ANALYSES["compare"].field("metric").choices:
        assert f"{choice}: " in metric, choice
    assert "more queries, a smaller ±" in ANALYSES["compare"].field("n_queries").help
    assert "Beam width" in ANALYSES["select"].field("n_best").help
    assert "Gradient steps of DII" in ANALYSES["scales"].field("n_iter").help
    assert "exactly 0" in ANALYSES["scales"].field("l1").help
    assert "α*" in ANALYSES["causality"].field("n_alpha").help
    assert "Past values per variable" in ANALYSES["causality"].field("embed_dim").help
    assert "surrogates + 1" in ANALYSES["causality"].field("n_surrogates").help
    scaling = glossary.DATA_HELP[ids.ROLE_SCALING]
    for word in ("none:", "z-score:", "min-max:", "rank (copula):"):
        assert word in scaling, word


def test_the_data_page_explains_its_controls(dash_app):
    tree = _walk(sys.modules["pages.data"].layout(), [])
    present = {c.id for c in tree if isinstance(getattr(c, "id", None), str)}
    helps = [c.children for c in tree if "field-help" in (getattr(c, "className", "") or "")]
    for control, text in glossary.DATA_HELP.items():
        assert control in present, control
        assert text in helps, control
    for control in (ids.UPLOAD, ids.EXAMPLE_SELECT, ids.ROLE_FEATURES, ids.ROLE_TIME, ids.ROLE_ENTITY,
                    ids.ROLE_PERIODIC, ids.ROLE_SCALING, ids.PRE_RESAMPLE_PERIOD, ids.PRE_DIFF_COLUMNS,
                    ids.PRE_RATIO_NUM, ids.PRE_TRANSFORM_COLUMNS, ids.PRE_DROP, ids.MATRIX_TIE):
        assert control in glossary.DATA_HELP, control


# --------------------------------------------------------------------------------------
# "How to read this" and the glossary
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(ANALYSES))
def test_every_page_has_a_how_to_read_block(name):
    analysis = ANALYSES[name]
    text = glossary.how_to_read(analysis)
    sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(Δα])", text) if s]
    assert 3 <= len(sentences) <= 6, (name, len(sentences))
    assert "quote" in text.lower(), name  # which number to report
    block = glossary.how_to_read_block(analysis)
    assert block.id == ids.job(ids.HOW_TO_READ, name)
    assert _text(block) == "How to read this " + text


def test_the_glossary_terms_and_columns():
    for name, terms in glossary.PAGE_TERMS.items():
        assert name in ANALYSES
        for t in terms:
            assert len(glossary.TERMS[t]) > 30, t
    assert set(glossary.TARGETS.values()) <= set(glossary.TERMS)
    assert glossary.column_term("q (B→A)") == "q"
    assert glossary.column_term("CI →") == "CI"
    assert glossary.column_term("interval (S→target)") == "CI"
    assert glossary.column_term("± (A→B)") == "±"
    assert glossary.column_term("Δ(source → target)") == "Δ"
    assert glossary.column_term("pairwise p") == "p"
    assert glossary.column_term("feature") is None
    with pytest.raises(KeyError):
        glossary.explain("no such term")
    # every id the glossary adds is declared in ids.py, and the app-level ids stay unique
    declared = [v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)]
    assert ids.HOW_TO_READ in declared and ids.TERMS in declared
    assert len(declared) == len(set(declared)), sorted({v for v in declared if declared.count(v) > 1})


# --------------------------------------------------------------------------------------
# results of real runs, through the pages' cards
# --------------------------------------------------------------------------------------
#: page -> (example, size, inputs besides the defaults, ids the result must show with a tooltip)
RUNS = {
    "compare": ("gauss3d", 200, {"n_permutations": 0, "extras": ["features"]},
                {ids.CMP_DELTA_AB, ids.CMP_DELTA_BA, ids.CMP_RELATION, ids.CMP_SIGNIFICANCE}),
    "select": ("gauss3d", 200, {"n_random": 2, "max_features": 3}, {ids.SEL_SUGGESTED, ids.SEL_VALUE,
                                                                   ids.SEL_SELECTED}),
    "lags": ("policy_panel", 12, {"n_permutations": 0, "sel_max": 2, "lag_min": -2, "lag_max": 2},
             {ids.LAG_BEST, ids.LAG_ARROW}),
    "causality": ("rossler", 300, {"n_alpha": 5, "n_surrogates": 0}, {ids.CAU_IG_XY, ids.CAU_IG_YX}),
    "graph": ("logistic_graph", 150, {"n_surrogates": 19, "n_alpha": 5}, {ids.GRA_N_EDGES}),
    "scales": ("gauss3d", 200, {"n_iter": 20}, {ids.SCL_BEFORE, ids.SCL_AFTER}),
    "matrix": ("gauss3d", 200, {}, set()),
}


@pytest.fixture(scope="module")
def results(dash_app):
    """Each page's result of a real small run, as its card displays it."""
    from infoimb.web import data_logic, runtime
    from infoimb.web.fields import form_values
    from infoimb.web.jobs import run_job

    store, settings = runtime.get_store(), runtime.get_settings()
    out = {}
    for page, (example, n, extra, _) in RUNS.items():
        sid = store.new_session()
        loaded = data_logic.ingest_example(store, sid, example, n, settings)
        client = {"groups": loaded["groups"], "scaling": "none"}
        meta = store.get_meta(sid)
        analysis = ANALYSES[page]
        inputs = form_values(analysis, meta, client, {}, restore=True, data_changed=False)["values"]
        inputs.update(extra)
        if page == "matrix":
            inputs["spaces"] = ["full", "group:xy", "col:z"]
        status = run_job(store, page, sid, inputs, client, settings)
        assert status["status"] == "ok", (page, status.get("message"))
        card = sys.modules[f"pages.{page}"].CARD
        shown = card.display(status, client, inputs, {"sid": sid}, triggered=(f"job-result-{page}.data",))
        out[page] = shown["results"]
    return out


@pytest.mark.parametrize("page", list(RUNS))
def test_the_results_explain_their_terms(results, page):
    import dash_ag_grid as dag
    import dash_bootstrap_components as dbc

    tree = _walk(results[page], [])
    present = {c.id for c in tree if isinstance(getattr(c, "id", None), str)}
    # a tooltip with the glossary's sentence on each number it explains, and only on ids present
    tips = {c.target: c.children for c in tree if isinstance(c, dbc.Tooltip)}
    expected = RUNS[page][3]
    assert expected <= present, expected - present
    assert expected <= set(tips)
    assert set(tips) <= present
    for target, text in tips.items():
        assert text == glossary.TERMS[glossary.TARGETS[target]]
    # the list of the page's terms under the results, each with its explanation
    terms = [c for c in tree if getattr(c, "id", None) == ids.job(ids.TERMS, page)]
    assert len(terms) == 1
    listed = _text(terms[0])
    for t in glossary.PAGE_TERMS[page]:
        assert f"{t} {glossary.TERMS[t]}" in listed, t
    # the tables' column headers carry the explanation of their term
    grids = [c for c in tree if isinstance(c, dag.AgGrid)]
    assert grids, page
    tipped = 0
    for grid in grids:
        for col in grid.columnDefs:
            term = glossary.column_term(col["headerName"])
            assert col.get("headerTooltip") == (glossary.TERMS[term] if term else None), col["headerName"]
            tipped += term is not None
    assert tipped >= 1, page


def test_the_compare_result_names_its_numbers(results):
    """The numbers a user quotes are the ones explained: Δ both ways with ±, and the relation."""
    text = _text(results["compare"])
    assert re.search(r"Δ\(A → B\) 0\.\d{4} ± 0\.\d{4}", text)
    assert "What the numbers mean" in text
    assert glossary.TERMS["plane"] in text
