"""Names that explain themselves: __all__ lists what exists; shared helpers have public names."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

import infoimb
from infoimb import _kernels as K
from infoimb import cli, figures
from infoimb._serialize import dumps


def test_figures_all_lists_every_public_builder():
    public = {name for name, obj in vars(figures).items()
              if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == figures.__name__}
    assert public <= set(figures.__all__)
    assert all(hasattr(figures, name) for name in figures.__all__)


def test_package_all_and_submodules_resolve():
    for name in infoimb.__all__:
        assert getattr(infoimb, name) is not None
    assert infoimb.verdicts.relation is not None and infoimb.io.clean_filename is not None
    for name in ("io", "verdicts", "figures", "datasets", "preprocess"):
        assert name in infoimb.__doc__


def test_former_private_helpers_are_public():
    from infoimb.selection import _expected_evaluations, expected_evaluations

    assert expected_evaluations("greedy", 5, 3, 1) == 5 + 4 + 3
    assert expected_evaluations("exhaustive", 4, 2, 1) == 4 + 6
    assert _expected_evaluations is expected_evaluations
    assert K.chunks(10, 3).tolist() == [0, 3, 6, 10]


def test_progress_bar_is_closed_when_the_command_fails(capsys):
    class Args:
        quiet, progress = False, True

    with pytest.raises(RuntimeError):
        with cli.progress_bar(Args()) as bar:
            bar(0.5, "half")
            raise RuntimeError("stop")
    err = capsys.readouterr().err
    assert "50.0% half" in err and err.endswith("\n")


def test_figures_read_results_stored_as_json():
    """The dashboard stores to_dict() as JSON (NaN as null): the builders read it back."""
    X = np.random.default_rng(0).normal(size=(80, 4))
    sel = infoimb.select_features(X, X[:, 0], max_features=2)
    stored = json.loads(dumps(sel.to_dict() | {"lag": 2}))  # extra keys are ignored
    a, b = figures.selection_curve(sel), figures.selection_curve(stored)
    np.testing.assert_allclose(np.asarray(a.data[0].y, float), np.asarray(b.data[0].y, float))
    with pytest.raises(TypeError, match="expected a LagScanResult or its to_dict"):
        figures.lag_scan_curve([1, 2, 3])
