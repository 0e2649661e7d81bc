"""One validation: the checks of _validation.py, and the API and the CLI refusing through them."""

from __future__ import annotations

import numpy as np
import pytest

from infoimb import _validation as V
from infoimb._spaces import check_k, check_metric, check_n_queries
from infoimb.cli import main


def test_check_int_strict_and_none():
    assert V.check_int(3.0, "n") == 3
    with pytest.raises(TypeError, match="n must be a whole number, got 3.0"):
        V.check_int(3.0, "n", strict=True)
    assert V.check_int(None, "n_queries", allow_none=True) is None
    with pytest.raises(TypeError, match="n_queries must be a whole number or None, got 'x'"):
        V.check_int("x", "n_queries", allow_none=True)
    with pytest.raises(ValueError, match="n must be between 1 and 5, got 6"):
        V.check_int(6, "n", low=1, high=5)


def test_check_real_positive_wording():
    with pytest.raises(ValueError, match="rate must be positive, got 0"):
        V.check_real(0, "rate", low=0, low_open=True)
    with pytest.raises(ValueError, match="rate must be greater than 1, got 1"):
        V.check_real(1, "rate", low=1, low_open=True)


def test_spaces_wrappers_refuse_and_never_clip():
    assert check_k(3, 10) == 3
    with pytest.raises(ValueError, match="k=10 must be smaller than the number of points N=10"):
        check_k(10, 10)
    with pytest.raises(ValueError, match="n_queries=11 is larger than the number of points N=10"):
        check_n_queries(11, 10)
    with pytest.raises(ValueError, match="metric must be one of 'euclidean'"):
        check_metric("cosine")
    # the metric list is typed once
    from infoimb import _spaces, cli
    assert _spaces.METRICS is V.METRICS
    assert not hasattr(cli, "METRICS") or cli.METRICS is V.METRICS


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda: __import__("infoimb").select_features(np.eye(5), None, n_random=-1),
     ValueError, "n_random must be at least 0, got -1"),
    (lambda: __import__("infoimb").select_features(np.eye(5), None, max_subsets=0),
     ValueError, "max_subsets must be at least 1, got 0"),
    (lambda: __import__("infoimb.causality").causality.causality_test(
        np.arange(50.0), np.arange(50.0), tau=1, z=-1), ValueError, "z must be at least 0, got -1"),
    (lambda: __import__("infoimb.datasets").datasets.descriptors(100, noise_fraction=1.0),
     ValueError, r"noise_fraction must be between 0 and 1 \(high end excluded\), got 1.0"),
    (lambda: __import__("infoimb.weights").weights.optimize_weights(
        np.eye(5), np.eye(5), lambda_factor=0.0), ValueError, "lambda_factor must be positive"),
])
def test_api_refuses_through_the_one_validation(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "t.csv"
    x = rng.normal(size=60)
    np.savetxt(path, np.c_[x, np.roll(x, 1)], delimiter=",", header="x,y", comments="")
    return path


@pytest.mark.parametrize(("argv", "message"), [
    (["pair", "{f}", "--a", "x", "--b", "y", "--period", "x=abc"], "--period x must be a number, got 'abc'"),
    (["pair", "{f}", "--a", "x", "--b", "y", "--period", "x=0"], "--period x must be positive, got 0.0"),
    (["causality", "{f}", "--cause", "x", "--effect", "y", "--tau", "1", "--n-alphas", "1"],
     "--n-alphas must be at least 2, got 1"),
    (["causality", "{f}", "--cause", "x", "--effect", "y", "--tau", "1", "--embedding", "0,1"],
     "--embedding DIM must be at least 1, got 0"),
    (["causality", "{f}", "--cause", "x", "--effect", "y", "--tau", "1", "--embedding", "2,x"],
     "--embedding DELAY must be a whole number, got 'x'"),
])
def test_cli_parsing_uses_the_same_checks(table, capsys, argv, message):
    assert main([a.replace("{f}", str(table)) for a in argv]) == 2
    assert message in capsys.readouterr().err
