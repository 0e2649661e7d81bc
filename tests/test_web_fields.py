"""The typed input fields of the analyses (infoimb/web/fields.py) and the generic card built
from them: defaults, limits refused with a message (never corrected), help text rendered, and
every analysis's declaration turned into controls, States and the settings sync."""

from __future__ import annotations

import pytest

from infoimb.web import fields, ids
from infoimb.web.analyses import ANALYSES, causality, imbalance, selection, weights
from infoimb.web.context import AnalysisInputError

META = {"filename": "t.csv", "n_rows": 50, "columns": ["t", "x", "y", "z"], "feature_columns": ["x", "y", "z"],
        "summary": [{"column": c, "kind": "numeric", "n_unique": 50} for c in ("t", "x", "y", "z")]}
GROUPS = [{"name": "xy", "columns": ["x", "y"]}]


def _texts(component) -> list[str]:
    """Every string in a Dash component tree."""
    out = []

    def walk(c):
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, (list, tuple)):
            for x in c:
                walk(x)
        elif hasattr(c, "children"):
            walk(c.children)
    walk(component)
    return out


def _find(component, id_):
    """The component with id ``id_`` in a tree, or None."""
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    for c in children if isinstance(children, (list, tuple)) else [children]:
        if c is not None and not isinstance(c, str):
            hit = _find(c, id_)
            if hit is not None:
                return hit
    return None


# --------------------------------------------------------------------------------------
# each kind: default, limits refused with the message, help text rendered
# --------------------------------------------------------------------------------------
def test_int_field():
    f = fields.IntField("n", "n-id", "beam n", 10, low=1, high=1000, what="beam width n_best",
                        help="subsets kept per step")
    assert f.check(None) == 10 and f.check("") == 10 and f.check(" ") == 10  # empty box: the default
    assert f.check(7) == 7 and f.check("12") == 12 and f.check(3.0) == 3
    with pytest.raises(AnalysisInputError, match=r"^beam width n_best must be between 1 and 1000, got 0$"):
        f.check(0)
    with pytest.raises(AnalysisInputError, match=r"^beam width n_best must be between 1 and 1000, got 1001$"):
        f.check(1001)  # refused, not clipped to 1000
    with pytest.raises(AnalysisInputError, match=r"^beam width n_best must be a whole number, got 2\.5$"):
        f.check(2.5)
    with pytest.raises(AnalysisInputError, match="beam width n_best must be a whole number, got 'ten'"):
        f.check("ten")
    box = f.control()
    inp = _find(box, "n-id")
    # the limits are the server's to check: a browser would turn a number outside min/max
    # into an empty value (the default), so the box has none; its tooltip says them
    assert (getattr(inp, "min", None), getattr(inp, "max", None)) == (None, None)
    assert (inp.step, inp.value, inp.type) == ("any", 10, "number")
    assert box.title == "a whole number from 1 to 1000"
    assert "subsets kept per step" in _texts(box) and "beam n" in _texts(box)
    # optional: empty means None; no default and not optional: the empty box is refused
    assert fields.IntField("d", "d", "δ", None, optional=True).check("") is None
    with pytest.raises(AnalysisInputError, match="^the lag: enter a whole number$"):
        fields.IntField("lag", "l", "lag", None, what="the lag").check(None)


def test_real_field():
    f = fields.RealField("l1", "l1-id", "DII L1", 0, low=0.0, high=10.0, what="L1",
                         help="L1 > 0 pushes useless weights to exactly 0")
    assert f.check(None) == 0.0 and isinstance(f.check(None), float)
    assert f.check("0.25") == 0.25 and f.check(3) == 3.0
    with pytest.raises(AnalysisInputError, match=r"^L1 must be at least 0, got -1$"):
        f.check(-1)  # shown as typed
    with pytest.raises(AnalysisInputError, match=r"^L1 must be at most 10, got 10\.5$"):
        f.check(10.5)
    with pytest.raises(AnalysisInputError, match="L1 must be a finite number"):
        f.check(float("nan"))
    assert "L1 > 0 pushes useless weights to exactly 0" in _texts(f.control())
    assert f.control().title == "a number from 0 to 10"


def test_choice_field():
    f = fields.ChoiceField("metric", "m-id", "metric", "euclidean",
                           choices={"euclidean": "Euclidean", "manhattan": "Manhattan"}, help="the distance")
    assert f.check(None) == "euclidean" and f.check("manhattan") == "manhattan"
    with pytest.raises(AnalysisInputError, match=r"^metric must be one of 'euclidean', 'manhattan'; got 'cosine'$"):
        f.check("cosine")
    assert f.valid(META, GROUPS) == {"euclidean", "manhattan"}
    box = f.control()
    select = _find(box, "m-id")
    assert [o["value"] for o in select.options] == ["euclidean", "manhattan"] and select.value == "euclidean"
    assert "the distance" in _texts(box)
    radio = _find(fields.ChoiceField("e", "e-id", "e", "a", choices={"a": "A", "b": "B"}, radio=True).control(),
                  "e-id")
    assert type(radio).__name__ == "RadioItems" and radio.value == "a"


def test_space_and_column_fields():
    s = fields.SpaceField("target", "s-id", "Target", none_label="No target", help="what to predict")
    opts = s.options(META, GROUPS)
    assert opts[0] == {"label": "No target", "value": "none"}
    assert {"full", "group:xy", "col:x"} <= s.valid(META, GROUPS) and "none" in s.valid(META, GROUPS)
    assert s.data and s.sync
    box = s.control()
    assert "Target" in _texts(box) and "what to predict" in _texts(box)
    assert _find(box, "s-id").placeholder == "a group or a feature"
    c = fields.ColumnField("time", "c-id", "Time column", none_label="none")
    assert [o["value"] for o in c.options(META, GROUPS)] == ["none", "t", "x", "y", "z"]
    assert c.valid(META, GROUPS) == {"none", "t", "x", "y", "z"}
    assert fields.ColumnField("time", "c", "Time").options(None, None) == []


def test_flag_field():
    f = fields.FlagField("dummy", "f-id", "dummy", default=("dummy",), options_={"dummy": "add a dummy"},
                         help="must never be chosen")
    assert f.check(None) == [] and f.check(["dummy"]) == ["dummy"] and f.check("dummy") == ["dummy"]
    with pytest.raises(AnalysisInputError, match="dummy: unknown option 'other'; allowed: 'dummy'"):
        f.check(["other"])
    box = f.control()
    assert _find(box, "f-id").value == ["dummy"] and "must never be chosen" in _texts(box)


def test_a_form_names_each_field_once():
    k = fields.IntField("k", "a", "k", 1)
    with pytest.raises(ValueError, match=r"a form names a field twice: \['k'\]"):
        fields.form_fields((k, fields.Row(k)))
    assert fields.form_fields((fields.RUN, fields.Row(k, fields.IntField("n", "b", "n", 1)),
                               fields.Block("w", fields.FlagField("f", "c", "f")))) == \
        (k, fields.IntField("n", "b", "n", 1), fields.FlagField("f", "c", "f"))


# --------------------------------------------------------------------------------------
# the declarations
# --------------------------------------------------------------------------------------
def test_every_declared_field_has_an_id_from_ids_and_a_default():
    known = {v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)}
    for name, analysis in ANALYSES.items():
        assert analysis.fields, name
        for f in analysis.fields:
            assert f.id in known, (name, f.name, f.id)
            if isinstance(f, (fields.IntField, fields.ChoiceField)) and not getattr(f, "optional", False):
                assert f.check(None) == f.default, (name, f.name)
            if isinstance(f, fields.ChoiceField):
                assert f.default in f.choices, (name, f.name)


def test_analyses_refuse_out_of_range_inputs_with_the_fields_message():
    """The page's values go through the fields: out of range is refused, not corrected."""
    with pytest.raises(AnalysisInputError, match="^beam width n_best must be between 1 and 1000, got 5000$"):
        selection.ANALYSIS.check({"n_best": 5000}, "n_best")
    with pytest.raises(AnalysisInputError, match="^the number of α values must be between 2 and 500, got 1$"):
        causality.ANALYSIS.check({"n_alpha": 1}, "n_alpha")
    with pytest.raises(AnalysisInputError, match="^iterations must be between 1 and 5000, got 6000$"):
        weights.ANALYSIS.check({"n_iter": 6000}, "n_iter")
    assert weights.ANALYSIS.check({}, "n_iter") == 200
    with pytest.raises(KeyError):
        weights.ANALYSIS.field("nope")


def test_the_card_builds_the_page_from_the_declaration(dash_app):
    """Controls, States, synced names, options and help text come from the analysis's form."""
    import sys

    card = sys.modules["pages.scales"].CARD
    assert list(card.state) == [f.name for f in weights.ANALYSIS.fields]
    assert card.state["l1"].component_id == ids.SCL_L1 and card.state["l1"].component_property == "value"
    assert card.options == {"a": ids.SCL_A, "b": ids.SCL_B} and card.hint == ids.SCL_HINT
    page = card.layout()
    assert _find(page, ids.SCL_ITER).value == 200 and _find(page, ids.SCL_ITER).step == "any"
    assert "L1 > 0 pushes useless weights to exactly 0 (try 0.01–0.5)." in _texts(page)
    assert _find(page, ids.SCL_HINT) is not None and "Scales of features" in _texts(page)
    # the causality page fills the entity values and the hint itself: not part of the sync
    cau = sys.modules["pages.causality"].CARD
    assert "entity_value" in cau.state and "entity_value" not in cau.synced and cau.hint is None
    assert _find(cau.layout(), ids.CAU_ENTITY_VALUE_WRAP) is not None
    # the compare page: the same controls as before, by id
    cmp_page = sys.modules["pages.compare"].CARD.layout()
    for cid in (ids.CMP_A, ids.CMP_B, ids.CMP_K, ids.CMP_METRIC, ids.CMP_ESTIMATOR, ids.CMP_NQ, ids.CMP_EXTRA,
                ids.CMP_HINT):
        assert _find(cmp_page, cid) is not None, cid
    assert [o["value"] for o in _find(cmp_page, ids.CMP_METRIC).options] == list(imbalance.METRICS)


def test_form_values_defaults_restore_and_data_change():
    """The generic settings sync: the analysis's data defaults, the fields' defaults, the last
    run on mount, a changed table resets the data-dependent fields only."""
    client = {"groups": GROUPS}
    out = fields.form_values(weights.ANALYSIS, META, client, {}, restore=True, data_changed=False)
    assert out["values"] == {"a": "full", "b": "group:xy", "method": "dii", "k": 1, "n_iter": 200, "l1": 0,
                             "estimator": "exact", "n_queries": 1000}
    assert set(out["options"]) == {"a", "b"} and out["hint"] == "t.csv: 50 points"
    last = dict(client, last={"scales": dict(out["values"], a="col:x", b="col:z", k=4)})
    out = fields.form_values(weights.ANALYSIS, META, last, {}, restore=True, data_changed=False)
    assert (out["values"]["a"], out["values"]["b"], out["values"]["k"]) == ("col:x", "col:z", 4)
    current = dict(out["values"], k=7, b="col:y")
    out = fields.form_values(weights.ANALYSIS, META, client, current, restore=False, data_changed=True)
    assert out["values"]["k"] == 7 and out["values"]["b"] == "group:xy"  # data field back to its default


def test_an_out_of_range_input_is_refused_on_the_page_with_its_message(dash_app):
    """The card shows the field's message where the results go, and a run is refused with it
    (nothing is clipped into range and run)."""
    import sys

    from infoimb.web import data_logic, runtime
    from infoimb.web.jobs.runner import run_job

    store, settings = runtime.get_store(), runtime.get_settings()
    sid = store.new_session()
    out = data_logic.ingest_example(store, sid, "rossler", 300, settings)
    client = {"groups": out["groups"], "scaling": "none"}
    inputs = {"cause": "group:X", "effect": "group:Y", "tau": 5, "n_alpha": 501, "time": "t", "entity": "none"}
    card = sys.modules["pages.causality"].CARD
    shown = card.display(None, client, inputs, {"sid": sid})
    assert shown["results"].children == "The number of α values must be between 2 and 500, got 501."
    assert shown["csv"] is True and shown["shown"] is None
    status = run_job(store, "causality", sid, inputs, client, settings)
    assert status == {"analysis": "causality", "status": "error",
                      "message": "The number of α values must be between 2 and 500, got 501."}
    store.delete_session(sid)
