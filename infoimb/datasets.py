"""Built-in examples with a known answer, and the loader of the real Covid-19 Data Hub file.

Every example is a function returning a pandas DataFrame, deterministic given
``random_state`` and fast (well under 2 s). ``EXAMPLES`` maps each name to an
:class:`Example` that also says what the data are, which columns play which role, which
analyses suit them and what they should show; :func:`load_example` loads one by name.

==================  =======  =========================================================
name                kind     ground truth
==================  =======  =========================================================
``gauss3d``         table    z has a tiny spread: [x, y] carries the full space
``gauss4d``         table    [x, y, z] and [y, z, w] share half their information
``spiral``          table    the height z predicts the plane [x, y], not conversely
``sinusoid``        table    x1 predicts x2 = 5 sin(25 x1) + noise, not conversely
``rossler``         series   X drives Y (coupling 0.07); Y does not act on X
``policy_panel``    panel    four policies jointly set case growth two weeks later
``descriptors``     table    240 noisy features of 3 latent variables; 3 suffice
``logistic_graph``  series   five maps: A -> B -> C, A -> D, E alone (direct links only)
==================  =======  =========================================================
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd

from .preprocess import (
    add_ratio,
    check_panel,
    difference_cumulative,
    log_growth,
    resample_panel,
)
from ._validation import check_int, check_real

__all__ = [
    "DATAHUB_POLICIES",
    "EFFECTIVE_POLICIES",
    "EXAMPLES",
    "PAPER_POLICIES",
    "POLICIES",
    "WEAK_POLICIES",
    "DescriptorTruth",
    "Example",
    "descriptors",
    "epidemic_state",
    "gauss3d",
    "gauss4d",
    "list_examples",
    "load_covid_datahub",
    "load_example",
    "policy_panel",
    "rossler",
    "sinusoid",
    "spiral",
]

KINDS = ("table", "panel", "series")


def _check_n(n, minimum: int, what: str = "n") -> int:
    return check_int(n, what, low=minimum, strict=True)


# --------------------------------------------------------------------------------------
# simple tables
# --------------------------------------------------------------------------------------
def gauss3d(n: int = 1000, *, random_state=0) -> pd.DataFrame:
    """A 3-D Gaussian with a small spread along z: the paper's first example (Fig. 2).

    ``np.random.default_rng(random_state).normal(size=(n, 3)) * [1, 1, 0.1]``, columns x, y, z.

    Ground truth (n = 1000, random_state = 0, exact, k = 1): z carries almost nothing, so
    [x, y] is equivalent to the full space: Delta(full -> xy) = 0.0041, Delta(xy -> full)
    = 0.0084. A single coordinate is contained in the full space but does not contain it:
    Delta(full -> x) = 0.063748, Delta(x -> full) = 0.548194. x and y are independent:
    Delta(x -> y) = 0.9928, Delta(y -> x) = 1.0028. (METHOD.md section 5.)

    Examples
    --------
    >>> gauss3d().round(3).iloc[0].tolist()
    [0.126, -0.132, 0.064]
    """
    n = _check_n(n, 3)
    X = np.random.default_rng(random_state).normal(size=(n, 3)) * [1, 1, 0.1]
    return pd.DataFrame(X, columns=["x", "y", "z"])


def gauss4d(n: int = 2000, *, random_state=0) -> pd.DataFrame:
    """An isotropic 4-D Gaussian, columns x, y, z, w: two spaces that overlap by half.

    ``np.random.default_rng(random_state).normal(size=(n, 4))``.

    Ground truth: [x, y, z] and [y, z, w] share y and z and each has one coordinate the other
    lacks, so the relation is symmetric and partial: Delta([x,y,z] -> [y,z,w]) = 0.357 and
    Delta([y,z,w] -> [x,y,z]) = 0.348 (n = 2000, random_state = 0, exact, k = 1; METHOD.md:
    about 0.34 both ways).

    Examples
    --------
    >>> gauss4d().shape
    (2000, 4)
    """
    n = _check_n(n, 3)
    X = np.random.default_rng(random_state).normal(size=(n, 4))
    return pd.DataFrame(X, columns=["x", "y", "z", "w"])


def sinusoid(n: int = 1000, *, random_state=0) -> pd.DataFrame:
    """A noisy sine: ``x1 ~ U(0, 1)``, ``x2 = 5 sin(25 x1) + N(0, 0.5^2)``.

    Drawn as ``rng.uniform(size=n)`` then ``rng.normal(0, 0.5, size=n)`` from
    ``np.random.default_rng(random_state)``.

    Ground truth: x1 determines x2 up to noise, while x2 leaves x1 ambiguous (the sine takes
    each value about eight times over [0, 1]): Delta(x1 -> x2) = 0.218 and
    Delta(x2 -> x1) = 0.978 (n = 1000, random_state = 0, exact, k = 1; METHOD.md: about 0.20
    and 0.96). A nonlinear, non-invertible dependence that a correlation coefficient misses.

    Examples
    --------
    >>> list(sinusoid(10).columns)
    ['x1', 'x2']
    """
    n = _check_n(n, 3)
    rng = np.random.default_rng(random_state)
    x1 = rng.uniform(size=n)
    x2 = 5 * np.sin(25 * x1) + rng.normal(0, 0.5, size=n)
    return pd.DataFrame({"x1": x1, "x2": x2})


def spiral(n: int = 1000, *, turns: float = 4.0, random_state=0) -> pd.DataFrame:
    """A helix climbed ``turns`` times: the height tells where you are, the plane does not.

    With ``s ~ U(0, 1)`` (the arc parameter) and ``phi = 2 pi turns s``::

        x = cos(phi) + N(0, 0.02^2),  y = sin(phi) + N(0, 0.02^2),
        z = s + N(0, 0.002^2),        angle = phi mod 2 pi   (period 2 pi)

    Ground truth (n = 1000, random_state = 0, exact, k = 1): the height z fixes the point on
    the helix, so it predicts the plane, Delta(z -> [x, y]) = 0.041; the plane only gives the
    phase, which recurs on every turn, so Delta([x, y] -> z) = 0.928: z contains [x, y], not
    conversely. ``angle`` is the phase: equivalent to [x, y] when declared periodic
    (``period={"angle": 2 pi}``), Delta = 0.017 both ways; without the period,
    Delta([x, y] -> angle) doubles to 0.033 (points just either side of the seam at
    0 = 2 pi are neighbours in the plane but far apart in the angle).

    Examples
    --------
    >>> list(spiral(10).columns)
    ['x', 'y', 'z', 'angle']
    """
    n = _check_n(n, 3)
    turns = check_real(turns, "turns", low=0, low_open=True)
    rng = np.random.default_rng(random_state)
    s = rng.uniform(size=n)
    phi = 2 * np.pi * float(turns) * s
    x = np.cos(phi) + rng.normal(0, 0.02, size=n)
    y = np.sin(phi) + rng.normal(0, 0.02, size=n)
    z = s + rng.normal(0, 0.002, size=n)
    return pd.DataFrame({"x": x, "y": y, "z": z, "angle": np.mod(phi, 2 * np.pi)})


# --------------------------------------------------------------------------------------
# coupled Rossler oscillators
# --------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _rossler_rk4(state, dt, n_transient, n_samples, stride, omega1, omega2, coupling, a, b,
                 c):  # pragma: no cover - compiled
    """Fixed-step RK4 of two Rossler systems, X driving Y through x2' += coupling (x1 - x2).

    Runs ``n_transient`` steps, then records the state every ``stride`` steps."""
    out = np.empty((n_samples, 6))
    s = state.copy()
    k = np.empty((4, 6))
    tmp = np.empty(6)
    total = n_transient + n_samples * stride
    j = 0
    for step in range(total):
        for stage in range(4):
            if stage == 0:
                for i in range(6):
                    tmp[i] = s[i]
            else:
                h = dt if stage == 3 else 0.5 * dt
                for i in range(6):
                    tmp[i] = s[i] + h * k[stage - 1, i]
            x1, y1, z1, x2, y2, z2 = tmp[0], tmp[1], tmp[2], tmp[3], tmp[4], tmp[5]
            k[stage, 0] = -omega1 * y1 - z1
            k[stage, 1] = omega1 * x1 + a * y1
            k[stage, 2] = b + z1 * (x1 - c)
            k[stage, 3] = -omega2 * y2 - z2 + coupling * (x1 - x2)
            k[stage, 4] = omega2 * x2 + a * y2
            k[stage, 5] = b + z2 * (x2 - c)
        for i in range(6):
            s[i] += dt / 6.0 * (k[0, i] + 2.0 * k[1, i] + 2.0 * k[2, i] + k[3, i])
        if step >= n_transient and (step - n_transient + 1) % stride == 0:
            out[j] = s
            j += 1
    return out


def rossler(n: int = 2000, *, coupling: float = 0.07, sample_interval: float = 1.57,
            dt: float = 0.019625, transient: float = 500.0, omega1: float = 1.015,
            omega2: float = 0.985, random_state=0) -> pd.DataFrame:
    """Two Rossler oscillators, X = (x1, y1, z1) driving Y = (x2, y2, z2).

    The standard unidirectionally coupled system (Palus; Del Tatto et al., PNAS 2024)::

        x1' = -omega1 y1 - z1           x2' = -omega2 y2 - z2 + coupling (x1 - x2)
        y1' =  omega1 x1 + a y1         y2' =  omega2 x2 + a y2
        z1' =  b + z1 (x1 - c)          z2' =  b + z2 (x2 - c)

    with a = 0.15, b = 0.2, c = 10, omega1 = 1.015, omega2 = 0.985. Integrated with a
    fixed-step fourth-order Runge-Kutta (step ``dt``, a quarter of Del Tatto's 0.0785) from
    a start drawn uniformly in [-5, 5]^6, a ``transient`` discarded, then ``n`` snapshots
    every ``sample_interval`` time units (rounded to a whole number of steps). The default
    interval, 1.57 (a quarter of a turn), is the sampling of the DADApy fixture
    ``rosslers_xtoy_trajectory.npy``, and the values span the same ranges (|x|, |y| < 25,
    0 < z < 50).

    Ground truth: Y's future depends on X's present, never the reverse. Delta between the
    present states hardly shows it (n = 2000, random_state = 0: Delta(X -> Y) = 0.93,
    Delta(Y -> X) = 0.71); the imbalance gain does: with Y_tau 5 rows ahead and k = 5,
    Delta((alpha X_0, Y_0) -> Y_tau) falls from 0.126 at alpha = 0 to 0.053 at alpha = 0.2,
    IG(X -> Y) = 0.58, while adding Y to X's own present never helps, IG(Y -> X) = 0.
    At coupling 0 both gains are 0 and Delta(X -> Y) = 1.08. Note that at these standard
    parameters the *uncoupled* Y settles on a periodic orbit (period 4; X stays chaotic;
    checked with an adaptive DOP853 integrator too): its regular phase partly lines up with
    X's at the sampling times, so Delta(Y -> X) = 0.36 at coupling 0 although the systems
    are independent, a finite-sample coincidence the imbalance gain correctly ignores.

    Parameters
    ----------
    n : int
        Number of snapshots.
    coupling : float, default 0.07
        Strength epsilon of the X -> Y coupling (0: independent systems).
    sample_interval, dt, transient : float
        Time between snapshots, integration step, discarded initial time.
    omega1, omega2 : float
        Frequencies of X and Y.
    random_state : int
        Seeds the initial condition.

    Returns
    -------
    DataFrame
        Columns t (time), x1, y1, z1, x2, y2, z2.

    Examples
    --------
    >>> df = rossler(100)
    >>> list(df.columns), df["t"].diff().iloc[1].round(2)
    (['t', 'x1', 'y1', 'z1', 'x2', 'y2', 'z2'], np.float64(1.57))
    """
    n = _check_n(n, 2)
    for name, v in (("coupling", coupling), ("sample_interval", sample_interval), ("dt", dt),
                    ("transient", transient), ("omega1", omega1), ("omega2", omega2)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            raise TypeError(f"{name} must be a finite number, got {v!r}")
    if coupling < 0:
        raise ValueError(f"coupling must be >= 0, got {coupling}")
    if dt <= 0 or sample_interval < dt or transient < 0:
        raise ValueError(f"need dt > 0, sample_interval >= dt and transient >= 0; got "
                         f"dt={dt}, sample_interval={sample_interval}, transient={transient}")
    stride = max(1, int(round(sample_interval / dt)))
    n_transient = int(round(transient / dt))
    start = np.random.default_rng(random_state).uniform(-5, 5, size=6)
    traj = _rossler_rk4(start, float(dt), n_transient, n, stride, float(omega1), float(omega2),
                        float(coupling), 0.15, 0.2, 10.0)
    t = (n_transient + stride * np.arange(1, n + 1)) * float(dt)
    df = pd.DataFrame(traj, columns=["x1", "y1", "z1", "x2", "y2", "z2"])
    df.insert(0, "t", t)
    return df


# --------------------------------------------------------------------------------------
# policies and the epidemic: the synthetic panel and the real Data Hub
# --------------------------------------------------------------------------------------
EFFECTIVE_POLICIES = ("testing_policy", "stay_home_restrictions",
                      "international_movement_restrictions", "gatherings_restrictions")
WEAK_POLICIES = ("school_closing", "workplace_closing", "transport_closing",
                 "facial_coverings", "contact_tracing")
#: the nine Data Hub policies of the synthetic panel (and of the paper's Fig. 3)
PAPER_POLICIES = EFFECTIVE_POLICIES + WEAK_POLICIES
#: every policy column of the Covid-19 Data Hub
DATAHUB_POLICIES = (
    "school_closing", "workplace_closing", "cancel_events", "gatherings_restrictions",
    "transport_closing", "stay_home_restrictions", "internal_movement_restrictions",
    "international_movement_restrictions", "information_campaigns", "testing_policy",
    "contact_tracing", "facial_coverings", "vaccination_policy", "elderly_people_protection",
)
#: the policy columns of ``policy_panel``: the nine real ones and the dummy
POLICIES = PAPER_POLICIES + ("dummy_policy",)
CUMULATIVE = ("confirmed", "tests", "deaths")

# effect of one policy level on the weekly growth rate of infections, two weeks later
_POLICY_EFFECT = {
    "testing_policy": 0.08, "stay_home_restrictions": 0.08,
    "international_movement_restrictions": 0.08, "gatherings_restrictions": 0.08,
    "school_closing": 0.01, "workplace_closing": 0.01, "transport_closing": 0.0,
    "facial_coverings": 0.01, "contact_tracing": 0.005, "dummy_policy": 0.0,
}


# how often policies change: base weekly rate per (nation, policy), the reaction to the epidemic
_CHANGE_RATE = (1 / 25, 1 / 10)
_REACTION = 3.0
_MAX_CHANGE = 0.6


def policy_panel(n: int = 40, *, n_weeks: int = 80, random_state=0,
                 derived: bool = True) -> pd.DataFrame:
    """A synthetic policy-epidemic panel standing in for the Covid-19 Data Hub (Fig. 3).

    ``n`` nations observed for ``n_weeks`` weeks (dates: Sundays from 2020-03-01), in the
    long format and with the column names of the real Data Hub, so that the same analysis
    runs on both (see :func:`load_covid_datahub`).

    **The model** (nation i, week w; all draws from ``np.random.default_rng(random_state)``):

    - Nation: population ``N_i`` log-uniform in [2e6, 1e8]; baseline growth
      ``g0_i ~ N(0.65, 0.03^2)`` per week; tolerated weekly infections
      ``theta_i = N_i U(5e-4, 2e-3)``; ascertainment ``a_i ~ U(0.2, 0.6)``; infection fatality
      ratio ``ifr_i ~ U(0.004, 0.01)``; testing rate ``tau_i ~ U(0.002, 0.01)``.
    - Policies, integer levels 0..4 that change in steps: each of the nine real ones starts at
      0 or 1 and, each week, changes with probability ``min(0.6, rho_ij (1 + 3 |dev|))``
      (``rho_ij ~ U(1/25, 1/10)``, ``dev = log(I_{w-1} / theta_i)``), by 1 or 2 levels, in
      the direction that answers the epidemic (tighten when above ``theta_i``) with
      probability 0.8 for the four effective policies and 0.7 for the others, the other way
      otherwise. So governments react to the epidemic, which keeps it bounded, and a policy
      changes in about a quarter of the weeks. ``dummy_policy`` is a uniform level 0..4 drawn
      independently for every nation and week, ignoring everything (information-free).
    - Infections: ``log I_w = log I_{w-1} + g0_i - sum_j beta_j P_{j, w-2} + N(0, 0.04^2)``
      with ``beta = 0.08`` for each of the four effective policies (testing_policy,
      stay_home_restrictions, international_movement_restrictions, gatherings_restrictions),
      0.01 for school_closing, workplace_closing and facial_coverings, 0.005 for
      contact_tracing, and 0 for transport_closing and dummy_policy. Policies act **two weeks
      later**, and only their sum matters: each alone says little, the four together set
      the growth. ``log I_0 = log theta_i + N(-1.5, 0.5^2)``.
    - Reports: weekly cases ``C_w ~ Poisson(a_i I_w e^{N(0, 0.04^2)})``; weekly tests
      ``T_w ~ Poisson(N_i tau_i (0.2 + 0.4 testing_policy_{w-1}) e^{N(0, 0.1^2)} + 5 C_w)``
      (tests follow the testing policy one week later); weekly deaths
      ``D_w ~ Poisson(ifr_i I_{w-3})`` (deaths follow infections by **three weeks**).
      Columns confirmed, tests, deaths are the cumulative sums, as in the Data Hub.

    **What an analyst forms** (done here by :func:`epidemic_state` when ``derived=True``,
    with :mod:`infoimb.preprocess`): weekly counts ``confirmed_new, tests_new, deaths_new``
    (difference_cumulative), ``positivity`` = confirmed_new / tests_new (add_ratio), the
    weekly growth rate of cases ``cases_growth = log((C_w + 1) / (C_{w-1} + 1))``
    (log_growth), and ``cases_per_100k, tests_per_100k, deaths_per_100k``. The epidemic state
    is ``E = [cases_growth]``; by construction ``cases_growth_{t+2}`` is a function of the
    policies at t plus noise.

    **Ground truth** (n = 40 nations, 80 weeks, random_state = 0; 3120 pairs formed within
    nations; exact, k = 1): Delta(P_t -> E_{t+2}) = 0.274 for the four effective policies
    (0.544 back), 0.325 for all ten, 0.75-0.76 for any one effective policy alone, 0.571 for
    the best pair, 0.423 for the best triple, 0.91-0.93 for a weak policy alone and 0.999
    for the dummy. Of all 210 sets of four policies the effective four are the best (next
    best 0.403); adding the dummy to them does not help (0.280), and greedy selection picks
    it last of ten. Lag scan of Delta(4 policies_t -> E_{t+delta}) for delta = -5..5: 0.92,
    0.91, 0.86, 0.79, 0.71, 0.60, 0.47, **0.27**, 0.48, 0.62, 0.72 -- best at +2 weeks, and
    at every |delta| the future is better predicted than the past (with all ten policies
    too: 0.47 vs 0.63 at |delta| = 1). Arrow of time as in Fig. 3a: with rank-scaled
    columns, Delta([tests, cases per 100k]_t -> deaths per 100k_{t+delta}) is smallest at
    delta = +3 (0.25) and always smaller for +delta than for -delta. The dummy is drawn
    independently for every row (nation x week), so it carries no information at all, not
    even which nation or when: Delta(dummy -> anything) is 1 up to sampling noise.

    Parameters
    ----------
    n : int, default 40
        Number of nations.
    n_weeks : int, default 80
    random_state : int
    derived : bool, default True
        Add the derived columns of :func:`epidemic_state`.

    Returns
    -------
    DataFrame
        Columns id, date, population, the ten ``POLICIES`` (int 0..4), confirmed, tests,
        deaths (cumulative, int) and, if ``derived``, the derived columns. Sorted by id, date.

    Examples
    --------
    >>> df = policy_panel(3, n_weeks=10, derived=False)
    >>> df.shape, df["id"].unique().tolist()
    ((30, 16), ['N01', 'N02', 'N03'])
    """
    n = _check_n(n, 1)
    n_weeks = _check_n(n_weeks, 8, "n_weeks")
    rng = np.random.default_rng(random_state)
    policies = list(POLICIES)
    n_pol = len(policies)
    dummy = policies.index("dummy_policy")
    beta = np.array([_POLICY_EFFECT[p] for p in policies])
    p_follow = np.array([0.8 if p in EFFECTIVE_POLICIES else 0.7 for p in policies])

    pop = np.round(np.exp(rng.uniform(np.log(2e6), np.log(1e8), size=n)))
    g0 = rng.normal(0.65, 0.03, size=n)
    log_theta = np.log(pop * rng.uniform(5e-4, 2e-3, size=n))
    asc = rng.uniform(0.2, 0.6, size=n)
    ifr = rng.uniform(0.004, 0.01, size=n)
    tau = rng.uniform(0.002, 0.01, size=n)
    rates = rng.uniform(*_CHANGE_RATE, size=(n, n_pol))

    P = np.zeros((n_weeks, n, n_pol), dtype=np.int64)
    P[0] = rng.integers(0, 2, size=(n, n_pol))
    log_i = np.empty((n_weeks, n))
    log_i[0] = log_theta + rng.normal(-1.5, 0.5, size=n)
    for w in range(1, n_weeks):
        dev = log_i[w - 1] - log_theta
        p_change = np.minimum(_MAX_CHANGE, rates * (1 + _REACTION * np.abs(dev))[:, None])
        change = rng.random((n, n_pol)) < p_change
        follow = rng.random((n, n_pol)) < p_follow
        direction = np.where(follow, 1, -1) * np.where(dev > 0, 1, -1)[:, None]
        step = rng.integers(1, 3, size=(n, n_pol))
        moved = np.clip(P[w - 1] + direction * step, 0, 4)
        new = np.where(change, moved, P[w - 1])
        P[w] = new
        growth = g0 - P[max(w - 2, 0)] @ beta
        log_i[w] = log_i[w - 1] + growth + rng.normal(0, 0.04, size=n)

    infections = np.exp(log_i)
    cases = rng.poisson(asc * infections * np.exp(rng.normal(0, 0.04, size=(n_weeks, n))))
    testing = P[:, :, policies.index("testing_policy")]
    testing_before = np.vstack([testing[:1], testing[:-1]])
    tests = rng.poisson(pop * tau * (0.2 + 0.4 * testing_before)
                        * np.exp(rng.normal(0, 0.1, size=(n_weeks, n))) + 5 * cases)
    lagged_inf = np.vstack([np.repeat(infections[:1], 3, axis=0), infections[:-3]])
    deaths = rng.poisson(ifr * lagged_inf)
    # the dummy: a level 0..4 drawn independently for every row (nation x week), so it
    # carries no information at all (not even which nation or when): the sanity check
    P[:, :, dummy] = rng.integers(0, 5, size=(n_weeks, n))

    dates = pd.date_range("2020-03-01", periods=n_weeks, freq="W")
    ids = np.array([f"N{i + 1:0{max(2, len(str(n)))}d}" for i in range(n)])
    # (week, nation) arrays -> long format sorted by nation, then week
    long = {
        "id": np.repeat(ids, n_weeks),
        "date": np.tile(dates.to_numpy(), n),
        "population": np.repeat(pop, n_weeks),
    }
    for j, p in enumerate(policies):
        long[p] = P[:, :, j].T.reshape(-1)
    for name, weekly in (("confirmed", cases), ("tests", tests), ("deaths", deaths)):
        long[name] = np.cumsum(weekly, axis=0).T.reshape(-1).astype(np.int64)
    df = pd.DataFrame(long)
    return epidemic_state(df) if derived else df


def epidemic_state(df: pd.DataFrame, *, time: str = "date", entity: str = "id",
                   negative: str = "nan") -> pd.DataFrame:
    """Add the derived epidemic columns to a weekly policy panel (synthetic or Data Hub).

    From the cumulative columns confirmed, tests and deaths (and population if present),
    with :mod:`infoimb.preprocess`:

    - ``confirmed_new, tests_new, deaths_new``: weekly counts (difference_cumulative;
      negative weekly counts, i.e. corrections, become NaN by default, with a warning);
    - ``positivity = confirmed_new / tests_new`` (add_ratio; no tests gives NaN);
    - ``cases_growth = log((confirmed_new_t + 1) / (confirmed_new_{t-1} + 1))``, the weekly
      growth rate of cases (log_growth), the recommended epidemic state E;
    - ``cases_per_100k, tests_per_100k, deaths_per_100k`` (if population is there).

    The first week of each nation has no weekly counts and the first two no growth (NaN):
    :func:`infoimb.preprocess.lagged_pairs` drops and counts those pairs.

    Examples
    --------
    >>> df = epidemic_state(policy_panel(2, n_weeks=10, derived=False))
    >>> int(df["cases_growth"].notna().sum())
    16
    """
    out = difference_cumulative(df, list(CUMULATIVE), time=time, entity=entity,
                                negative=negative)
    out = add_ratio(out, "confirmed_new", "tests_new", name="positivity")
    out = log_growth(out, "confirmed_new", time=time, entity=entity, suffix="_growth")
    out = out.rename(columns={"confirmed_new_growth": "cases_growth"})
    if "population" in out.columns:
        for new, short in (("confirmed_new", "cases"), ("tests_new", "tests"),
                           ("deaths_new", "deaths")):
            out[f"{short}_per_100k"] = out[new] / out["population"].where(
                out["population"] > 0) * 1e5
    return out


def load_covid_datahub(path, *, period: str | None = "W", policies: str = "paper",
                       id_column: str = "id", dummy: bool = True,
                       random_state=0) -> pd.DataFrame:
    """Load the real Covid-19 Data Hub file into the panel of :func:`policy_panel`.

    The Covid-19 Data Hub (Guidotti & Ardia, covid19datahub.io) publishes one CSV row per
    place and day with cumulative confirmed, deaths and tests, and the OxCGRT policy levels.
    This loader

    1. reads the CSV (a path, URL or file object; only the needed columns);
    2. keeps countries: rows with ``administrative_area_level == 1`` when that column exists;
    3. parses ``date``, names the entity column ``id`` (from ``id_column``: the Data Hub's
       ``id`` is a code; ``"iso_alpha_3"`` gives readable country codes) and sorts;
    4. takes the absolute value of the policy levels: the Data Hub encodes "targeted"
       measures (in force in part of the country only) with a minus sign, e.g. -2 is level 2
       targeted; the level is what the analysis compares;
    5. resamples each country to ``period`` (default weekly, weeks ending on Sunday) keeping
       the last value of each week: the cumulative counts at the end of the week and the
       policy levels in force then;
    6. adds ``dummy_policy``, a uniform random level 0..4 drawn independently for every row
       (country x period), so it carries no information, not even which country it is
       (``dummy=False`` to skip): the paper's sanity check, as in :func:`policy_panel`.

    The result has the columns of ``policy_panel(..., derived=False)``: id, date, population
    (when in the file), the policies, confirmed, tests, deaths. Policy levels are
    non-negative numbers (float where values are missing: they stay NaN).

    With the real file. Download the country-level CSV of the Data Hub (version 3:
    ``https://storage.covid19datahub.io/level/1.csv.zip``; pandas reads the zip as it is,
    and the older ``data-1.csv`` files load the same way), then::

        from infoimb.datasets import PAPER_POLICIES, epidemic_state, load_covid_datahub
        from infoimb.preprocess import lagged_pairs
        panel = epidemic_state(load_covid_datahub("1.csv.zip", id_column="iso_alpha_3"))
        P, E, info = lagged_pairs(panel, [*PAPER_POLICIES, "dummy_policy"],
                                  ["cases_growth"], lag=2, time="date", entity="id")
        # info["n_dropped_missing"] counts the weeks without data; Delta(P -> E) is then
        # infoimb.information_imbalance(P, E). Restrict the dates to the period of interest
        # (the paper: 2020 to early 2021) before epidemic_state if needed.

    ``epidemic_state`` warns about negative weekly counts (downward corrections of the
    cumulative series, common in the real data) and sets them to NaN.

    Parameters
    ----------
    path : str, path or file-like
        The Data Hub CSV (country level "level1" file, or the all-levels file).
    period : str or None, default "W"
        Resampling period (pandas offset alias); None keeps the daily rows.
    policies : {"paper", "all"}
        "paper": the nine policies of ``PAPER_POLICIES``; "all": the fourteen of
        ``DATAHUB_POLICIES``.
    id_column : str, default "id"
        Column identifying a country.
    dummy : bool, default True
    random_state : int
        Seeds the dummy policy.

    Returns
    -------
    DataFrame

    Raises
    ------
    ValueError
        A required column is missing (named), no country-level rows, or the panel errors of
        :func:`infoimb.preprocess.check_panel` (unparseable dates, duplicate rows).

    Examples
    --------
    >>> import io
    >>> csv = ("id,date,confirmed,deaths,tests,testing_policy,stay_home_restrictions,"
    ...        "international_movement_restrictions,gatherings_restrictions,school_closing,"
    ...        "workplace_closing,transport_closing,facial_coverings,contact_tracing,"
    ...        "administrative_area_level\\n"
    ...        "ITA,2020-03-02,10,1,100,1,0,0,0,-2,0,0,0,0,1\\n"
    ...        "ITA,2020-03-09,30,2,250,1,1,0,2,3,0,0,0,0,1\\n")
    >>> df = load_covid_datahub(io.StringIO(csv), dummy=False)
    >>> df.loc[0, ["confirmed", "school_closing"]].tolist()
    [10, 2]
    """
    if policies == "paper":
        wanted_policies = list(PAPER_POLICIES)
    elif policies == "all":
        wanted_policies = list(DATAHUB_POLICIES)
    else:
        raise ValueError(f"policies must be 'paper' or 'all'; got {policies!r}")
    if not isinstance(id_column, str):
        raise TypeError(f"id_column must be a column name, got {id_column!r}")
    needed = {id_column, "date", *CUMULATIVE, *wanted_policies, "population",
              "administrative_area_level"}
    raw = pd.read_csv(path, usecols=lambda c: c in needed, low_memory=False)
    required = [id_column, "date", *CUMULATIVE, *wanted_policies]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise ValueError(f"the Data Hub file lacks column(s) {', '.join(map(repr, missing))}")
    if "administrative_area_level" in raw.columns:
        level = pd.to_numeric(raw["administrative_area_level"], errors="coerce")
        raw = raw.loc[level == 1]
        if raw.empty:
            raise ValueError("no country-level rows (administrative_area_level == 1) in the file")
    keep = [id_column, "date"] + (["population"] if "population" in raw.columns else [])
    df = raw[keep + wanted_policies + list(CUMULATIVE)].rename(columns={id_column: "id"})
    for c in wanted_policies:
        df[c] = pd.to_numeric(df[c], errors="coerce").abs()
    for c in (*CUMULATIVE, *(["population"] if "population" in df.columns else [])):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    df = check_panel(df, time="date", entity="id", min_rows=1)
    if period is not None:
        df = resample_panel(df, time="date", entity="id", period=period, how="last",
                            columns=[c for c in df.columns if c not in ("id", "date")])
    if dummy:
        rng = np.random.default_rng(random_state)
        at = df.columns.get_loc(wanted_policies[-1]) + 1
        df.insert(at, "dummy_policy", rng.integers(0, 5, size=len(df)))
    return df.reset_index(drop=True)


def covid_datahub_layout(n: int = 40, *, n_weeks: int = 80, random_state=0,
                         path=None) -> pd.DataFrame:
    """The synthetic panel of :func:`policy_panel` written in the Covid-19 Data Hub's
    level-1 layout: one row per country and **day**, with known effects.

    Columns as in the Data Hub's country file: ``id``, ``date`` (ISO text in the CSV),
    cumulative ``confirmed``, ``deaths``, ``recovered``, ``tests``, ``vaccines``, the
    fourteen OxCGRT policy columns of ``DATAHUB_POLICIES`` (negative levels mark targeted
    measures, as in the Data Hub: about a fifth of the non-zero levels), the
    ``administrative_area_level`` (1) and ``administrative_area_level_1`` (a country name),
    ``population`` and ``iso_alpha_3``.

    Built from ``policy_panel(n, n_weeks=n_weeks, random_state=random_state, derived=False)``:
    each week's policy levels hold on its seven days (weeks end on Sunday), the cumulative
    counts rise linearly (in whole numbers) through the week to the panel's value on Sunday,
    and the five Data Hub policies the panel does not model are random steps. So the Data Hub
    pipeline (:func:`load_covid_datahub` or :func:`infoimb.preprocess.datahub_weekly`, then
    :func:`epidemic_state`) gives back the panel's weekly values exactly, and with them its
    documented ground truth (the four effective policies act two weeks later).

    Parameters
    ----------
    n, n_weeks, random_state
        As in :func:`policy_panel`.
    path : str or path, optional
        Also write the table there as CSV.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> df = covid_datahub_layout(2, n_weeks=8)
    >>> df.shape[0], int(df["date"].min().day_of_week), bool((df["school_closing"] < 0).any())
    (100, 6, True)
    """
    weekly = policy_panel(n, n_weeks=n_weeks, random_state=random_state, derived=False)
    rng = np.random.default_rng([int(random_state) if isinstance(random_state, numbers.Integral) else 0, 9])
    ids = weekly["id"].unique()
    frames = []
    for e, (code, g) in enumerate(weekly.groupby("id", sort=True)):
        g = g.sort_values("date").reset_index(drop=True)
        days = pd.date_range(g["date"].iloc[0], g["date"].iloc[-1], freq="D")
        week = np.searchsorted(g["date"].to_numpy(), days.to_numpy())  # the week each day ends in
        d = pd.DataFrame({"id": f"{code.lower()}{e:02d}", "date": days})
        prev = g[list(CUMULATIVE)].shift(1).fillna(0).to_numpy()
        cur = g[list(CUMULATIVE)].to_numpy()
        day_in_week = np.where(week == 0, 7, 7 - (g["date"].to_numpy()[week] - days.to_numpy())
                               // np.timedelta64(1, "D"))
        frac = day_in_week / 7.0
        cum = np.floor(prev[week] + (cur[week] - prev[week]) * frac[:, None] + 1e-9)
        cum[week == 0] = cur[0]
        for j, c in enumerate(CUMULATIVE):
            d[c] = cum[:, j].astype(np.int64)
        d["recovered"] = 0
        d["vaccines"] = np.nan
        for p in DATAHUB_POLICIES:
            if p in weekly.columns:
                level = g[p].to_numpy()[week]
            else:  # the Data Hub policies the panel does not model: random steps
                steps = rng.integers(0, 4, size=len(g))
                level = np.maximum.accumulate(steps)[week] if p == "vaccination_policy" else steps[week]
            targeted = (level > 0) & (rng.random(len(level)) < 0.2)
            d[p] = np.where(targeted, -level, level).astype(np.int64)
        d["administrative_area_level"] = 1
        d["administrative_area_level_1"] = f"Country {code}"
        d["population"] = g["population"].iloc[0]
        d["iso_alpha_3"] = code
        frames.append(d)
    out = pd.DataFrame(pd.concat(frames, ignore_index=True))
    cols = ["id", "date", "confirmed", "deaths", "recovered", "tests", "vaccines",
            *DATAHUB_POLICIES, "administrative_area_level", "administrative_area_level_1",
            "population", "iso_alpha_3"]
    out = out[cols]
    if path is not None:
        out.to_csv(path, index=False, date_format="%Y-%m-%d")
    return out


# --------------------------------------------------------------------------------------
# descriptor compression
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DescriptorTruth:
    """How :func:`descriptors` built its features.

    Attributes
    ----------
    latent : DataFrame (n, n_latent)
        The latent variables s0, s1, ... that generate everything.
    features : DataFrame
        One row per feature column: ``latents`` (tuple of latent indices it depends on; empty
        for pure noise), ``transform`` (linear, tanh, sin, square, exp, product or noise),
        ``noise`` (standard deviation of the added noise relative to the signal; inf for pure
        noise) and ``scale`` (the factor the feature was multiplied by).
    """

    latent: pd.DataFrame
    features: pd.DataFrame

    def best_features(self, per_latent: int = 1) -> list[str]:
        """The least noisy monotone (linear, tanh, exp) single-latent features, per latent."""
        f = self.features
        mono = f[f["transform"].isin(["linear", "tanh", "exp"]) & (f["latents"].map(len) == 1)]
        out = []
        for k in range(self.latent.shape[1]):
            own = mono[mono["latents"].map(lambda t, k=k: t == (k,))]
            out += own.sort_values("noise").index[:per_latent].tolist()
        return out


_TRANSFORMS = ("linear", "tanh", "sin", "square", "exp", "product")


def descriptors(n: int = 1000, *, n_features: int = 240, n_latent: int = 3,
                noise_fraction: float = 0.1, random_state=0, return_truth: bool = False):
    """Hundreds of redundant, nonlinear, noisy descriptors of a few latent variables.

    Stands in for atomistic descriptors (the paper's SOAP compression, Fig. 4): a latent
    state ``s ~ U(-1, 1)^n_latent`` is seen through ``n_features`` columns f000, f001, ...
    and determines a smooth ``energy``::

        energy = s0 + 0.5 s1^2 + 0.5 sum_{k>=2} sin(pi s_k / 2) + 0.3 s0 s1

    Each feature is, in a random order: pure noise N(0, 1) (a fraction ``noise_fraction``),
    or ``scale * (standardised f(s) + N(0, noise^2))`` with f one of linear, tanh, sin,
    square, exp of a random unit projection of one or two latent variables, or the product
    of two latent variables; ``noise`` is log-uniform in [0.02, 0.5] and ``scale`` uniform
    in [0.5, 3]. ``return_truth=True`` also returns a :class:`DescriptorTruth`.

    Ground truth (n = 1000, 240 features, 3 latents, random_state = 0; exact, k = 1): the
    features are equivalent to the latent state (Delta(full -> latent) = 0.0036, back
    0.0038) and the full space predicts the energy, Delta(full -> energy) = 0.121 (the latent
    state itself: 0.110). Three well-chosen features, ``truth.best_features()`` (the least
    noisy monotone feature of each latent), are equivalent to all 240 (Delta = 0.006 both
    ways) and give Delta(-> energy) = 0.142; three random features give 0.26-0.90
    (median 0.60), and pure-noise columns about 1.

    Returns
    -------
    DataFrame, or (DataFrame, DescriptorTruth) with ``return_truth=True``
        Columns f000 ... and energy.

    Examples
    --------
    >>> df, truth = descriptors(200, return_truth=True)
    >>> df.shape, len(truth.best_features())
    ((200, 241), 3)
    """
    n = _check_n(n, 3)
    n_features = _check_n(n_features, 1, "n_features")
    n_latent = _check_n(n_latent, 2, "n_latent")
    noise_fraction = check_real(noise_fraction, "noise_fraction", low=0, high=1, high_open=True)
    rng = np.random.default_rng(random_state)
    s = rng.uniform(-1, 1, size=(n, n_latent))
    F = np.empty((n, n_features))
    n_noise = int(round(noise_fraction * n_features))
    rows = []
    for j in range(n_features):
        if j < n_noise:
            F[:, j] = rng.normal(size=n)
            rows.append(((), "noise", np.inf, 1.0))
            continue
        kind = _TRANSFORMS[rng.integers(len(_TRANSFORMS))]
        m = 2 if kind == "product" or rng.random() >= 0.5 else 1
        idx = tuple(int(i) for i in np.sort(rng.choice(n_latent, size=m, replace=False)))
        a = rng.normal(size=m)
        u = s[:, idx] @ (a / np.linalg.norm(a))
        b = rng.uniform(-0.5, 0.5)
        if kind == "linear":
            v = u
        elif kind == "tanh":
            v = np.tanh(1.5 * u + b)
        elif kind == "sin":
            v = np.sin(np.pi * u + b)
        elif kind == "square":
            v = (u + b) ** 2
        elif kind == "exp":
            v = np.exp(u + b)
        else:
            v = s[:, idx[0]] * s[:, idx[1]]
        v = (v - v.mean()) / v.std()
        noise = float(np.exp(rng.uniform(np.log(0.02), np.log(0.5))))
        factor = float(rng.uniform(0.5, 3.0))
        F[:, j] = factor * (v + rng.normal(0, noise, size=n))
        rows.append((idx, kind, noise, factor))
    order = rng.permutation(n_features)
    width = max(3, len(str(n_features - 1)))
    names = [f"f{j:0{width}d}" for j in range(n_features)]
    energy = s[:, 0] + 0.5 * s[:, 1] ** 2 + 0.3 * s[:, 0] * s[:, 1]
    for k in range(2, n_latent):
        energy = energy + 0.5 * np.sin(np.pi * s[:, k] / 2)
    df = pd.DataFrame(F[:, order], columns=names)
    df["energy"] = energy
    if not return_truth:
        return df
    table = pd.DataFrame([rows[o] for o in order], index=names,
                         columns=["latents", "transform", "noise", "scale"])
    latent = pd.DataFrame(s, columns=[f"s{k}" for k in range(n_latent)])
    return df, DescriptorTruth(latent, table)


# --------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    """A built-in example: the data, what they are, and what the analysis should show.

    Attributes
    ----------
    name : str
        Registry key (a stable contract).
    title : str
        Short human title.
    description : str
        One paragraph for the dashboard: what it is, what the analysis shows, the expected
        result.
    kind : {"table", "panel", "series"}
    roles : dict
        ``"groups"``: {group name: [columns]}, suggested spaces; for panels ``"time"`` and
        ``"entity"``; for series ``"time"``; ``"periodic"``: {column: period} when some
        columns are angles; optionally ``"target"`` (a group name) and ``"lag"`` (the lag, in
        panel steps or rows, at which the target is best predicted).
    analyses : tuple of str
        Suggested analyses among "compare", "select", "lags", "causality", "weights",
        "graph".
    generator : callable
        ``generator(n, random_state=...) -> DataFrame``.
    n_default : int
        Default size; ``n_unit`` says what it counts ("points", "nations", "snapshots").
    """

    name: str
    title: str
    description: str
    kind: str
    roles: dict = field(hash=False)
    analyses: tuple[str, ...]
    generator: Callable[..., pd.DataFrame] = field(repr=False)
    n_default: int = 1000
    n_unit: str = "points"

    def load(self, *, n: int | None = None, random_state=0) -> pd.DataFrame:
        """Generate the data (``n`` defaults to ``n_default``)."""
        return self.generator(self.n_default if n is None else n, random_state=random_state)


def _descriptor_columns(n_features: int = 240) -> list[str]:
    return [f"f{j:03d}" for j in range(n_features)]


EXAMPLES: dict[str, Example] = {
    e.name: e for e in (
        Example(
            "gauss3d", "3-D Gaussian with a thin z",
            "1000 points from a 3-D Gaussian whose spread along z is ten times smaller than "
            "along x and y (the paper's Fig. 2). Comparing the full space with its subsets "
            "shows the relations of the information imbalance plane: [x, y] is equivalent to "
            "the full space (Δ = 0.004 and 0.008, z adds almost nothing); x alone is "
            "contained in the full space but does not contain it (Δ(full → x) = 0.064, "
            "Δ(x → full) = 0.55); x and y are independent (Δ ≈ 1 both ways). Feature "
            "selection against the full space picks x and y, never z.",
            "table", {"groups": {"full": ["x", "y", "z"], "xy": ["x", "y"], "x": ["x"],
                                 "y": ["y"], "z": ["z"]}},
            ("compare", "select"), gauss3d, 1000, "points"),
        Example(
            "gauss4d", "4-D Gaussian: two overlapping spaces",
            "2000 points from an isotropic 4-D Gaussian. The spaces [x, y, z] and [y, z, w] "
            "share two of their three coordinates and each has one the other lacks, so each "
            "predicts the other equally and only in part: Δ ≈ 0.35 in both directions, on "
            "the diagonal of the information imbalance plane (symmetric, partial sharing).",
            "table", {"groups": {"xyz": ["x", "y", "z"], "yzw": ["y", "z", "w"]}},
            ("compare",), gauss4d, 2000, "points"),
        Example(
            "spiral", "Helix: the height contains the plane",
            "1000 points on a helix climbing four turns. The height z fixes where a point is, "
            "while its position in the plane [x, y] only gives the phase, which repeats on "
            "every turn. So z contains [x, y] and not conversely: Δ(z → [x, y]) = 0.04, "
            "Δ([x, y] → z) = 0.93. The angle column is the phase in radians: declared "
            "periodic (period 2π) it is equivalent to [x, y] (Δ = 0.017 both ways); without "
            "the period, points either side of the seam at 0 = 2π look far apart and "
            "Δ([x, y] → angle) doubles.",
            "table", {"groups": {"height": ["z"], "plane": ["x", "y"], "angle": ["angle"],
                                 "helix": ["x", "y", "z"]},
                      "periodic": {"angle": 2 * np.pi}},
            ("compare", "select"), spiral, 1000, "points"),
        Example(
            "sinusoid", "Noisy sine: a one-way dependence",
            "1000 points with x1 uniform in [0, 1] and x2 = 5 sin(25 x1) plus noise. Knowing "
            "x1 fixes x2 up to the noise, but each value of x2 occurs at about eight places "
            "in x1: Δ(x1 → x2) = 0.22 and Δ(x2 → x1) = 0.98, so x1 contains x2. A "
            "correlation coefficient sees almost nothing here.",
            "table", {"groups": {"x1": ["x1"], "x2": ["x2"]}},
            ("compare",), sinusoid, 1000, "points"),
        Example(
            "rossler", "Coupled Rössler oscillators: X drives Y",
            "2000 snapshots, a quarter turn apart, of two chaotic Rössler oscillators: "
            "X = (x1, y1, z1) acts on Y = (x2, y2, z2) with coupling 0.07, and nothing acts "
            "back. The information imbalance between the present states says little "
            "(Δ(X → Y) = 0.93, Δ(Y → X) = 0.71), but the imbalance gain finds the direction: "
            "adding X's present to Y's present improves the prediction of Y five rows later "
            "(IG(X → Y) = 0.58, k = 5), while adding Y to X's present never improves the "
            "prediction of X (IG(Y → X) = 0).",
            "series", {"time": "t", "groups": {"X": ["x1", "y1", "z1"],
                                               "Y": ["x2", "y2", "z2"]},
                       "lag": 5},
            ("causality", "lags", "compare"), rossler, 2000, "snapshots"),
        Example(
            "policy_panel", "Policies and the epidemic (synthetic Covid-19 panel)",
            "A synthetic stand-in for the paper's Covid-19 Data Hub analysis (Fig. 3): 40 "
            "nations over 80 weeks, ten policy levels (0-4) that change in steps, and "
            "cumulative cases, tests and deaths. Four policies (testing, stay-home, "
            "international movement, gatherings) together set the growth of cases two weeks "
            "later; five others barely matter and dummy_policy not at all. With the weekly "
            "growth of cases two weeks ahead as the epidemic state E, the four effective "
            "policies give Δ(P_t → E_t+2) = 0.27, any one of them alone 0.75-0.76, the "
            "dummy (drawn afresh for every row) 1.0, and no other set of four does better. A lag scan shows the future "
            "predicted better than the past at every lag, best at +2 weeks; deaths follow "
            "cases by three weeks.",
            "panel", {"time": "date", "entity": "id",
                      "groups": {"policies": list(POLICIES),
                                 "effective_policies": list(EFFECTIVE_POLICIES),
                                 "weak_policies": list(WEAK_POLICIES),
                                 "dummy": ["dummy_policy"],
                                 "epidemic_state": ["cases_growth"],
                                 "tests_and_cases": ["tests_per_100k", "cases_per_100k"],
                                 "deaths": ["deaths_per_100k"]},
                      "target": "epidemic_state", "lag": 2},
            ("lags", "select", "compare"), policy_panel, 40, "nations"),
        Example(
            "descriptors", "Descriptor compression: 240 features, 3 latent variables",
            "1000 configurations described by 240 redundant, nonlinear and noisy features "
            "(f000-f239, 10% of them pure noise) of only three latent variables, and an "
            "energy that depends smoothly on those: a stand-in for compressing atomistic "
            "descriptors (the paper's Fig. 4). All 240 features predict the energy "
            "(Δ = 0.12); three well-chosen ones are equivalent to the full space (Δ = 0.006 "
            "both ways) and predict the energy nearly as well (0.14), while three random ones "
            "typically give 0.6. Feature selection should level off at about three features.",
            "table", {"groups": {"features": _descriptor_columns(), "energy": ["energy"]},
                      "target": "energy"},
            ("select", "compare", "weights"), descriptors, 1000, "points"),
    )
}


def list_examples() -> list[Example]:
    """All built-in examples, in registry order.

    Examples
    --------
    >>> [e.name for e in list_examples()][:3]
    ['gauss3d', 'gauss4d', 'spiral']
    """
    return list(EXAMPLES.values())


def load_example(name: str, *, n: int | None = None, random_state=0) -> pd.DataFrame:
    """Generate a built-in example by name.

    Parameters
    ----------
    name : str
        One of ``EXAMPLES``.
    n : int, optional
        Size (points, nations or snapshots; see ``Example.n_unit``); default the example's.
    random_state : int, default 0

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> load_example("sinusoid", n=5).shape
    (5, 2)
    """
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; choose one of {', '.join(EXAMPLES)}")
    return EXAMPLES[name].load(n=n, random_state=random_state)


# --------------------------------------------------------------------------------------
# networks with a known causal graph (for infoimb.causal_graph)
# --------------------------------------------------------------------------------------
def _check_parents(parents) -> tuple[list[str], np.ndarray]:
    """Node names (mapping order) and the adjacency matrix A[i, j] = 1 when j drives i."""
    if not isinstance(parents, Mapping) or len(parents) == 0:
        raise TypeError("parents must be a non-empty mapping {node: [its parents]}")
    names = [str(k) for k in parents]
    index = {name: i for i, name in enumerate(names)}
    adj = np.zeros((len(names), len(names)))
    for child, pars in parents.items():
        if isinstance(pars, str):
            pars = [pars]
        for par in pars:
            if str(par) not in index:
                raise ValueError(f"parents of {child!r}: {par!r} is not a node; nodes are {names}")
            if str(par) == str(child):
                raise ValueError(f"parents of {child!r}: a node cannot drive itself here")
            adj[index[str(child)], index[str(par)]] = 1.0
    return names, adj


@numba.njit(cache=True)
def _logistic_run(x0, adj, n, transient, coupling, r):  # pragma: no cover - compiled
    m = x0.shape[0]
    x = x0.copy()
    f = np.empty(m)
    out = np.empty((n, m))
    n_par = adj.sum(axis=1)
    for step in range(transient + n):
        for i in range(m):
            f[i] = r * x[i] * (1.0 - x[i])
        for i in range(m):
            if n_par[i] > 0:
                drive = 0.0
                for j in range(m):
                    drive += adj[i, j] * f[j]
                x[i] = (1.0 - coupling) * f[i] + coupling * drive / n_par[i]
            else:
                x[i] = f[i]
        if step >= transient:
            out[step - transient] = x
    return out


def _network_panel(run, names, n, n_entities, rng) -> pd.DataFrame:
    if n_entities is None:
        return pd.DataFrame(run(rng), columns=names)
    n_entities = _check_n(n_entities, 1, "n_entities")
    frames = []
    for e in range(n_entities):
        part = pd.DataFrame(run(rng), columns=names)
        part.insert(0, "t", np.arange(n))
        part.insert(0, "entity", f"e{e}")
        frames.append(part)
    return pd.concat(frames, ignore_index=True)


def logistic_network(parents, n: int = 1000, *, coupling: float = 0.3, r: float = 3.8,
                     transient: int = 200, n_entities: int | None = None,
                     random_state=0) -> pd.DataFrame:
    """Coupled logistic maps on a known directed graph: the standard test of causal discovery.

    Node i follows ``x_i(t+1) = (1 - c) f(x_i(t)) + c * mean_{j in parents(i)} f(x_j(t))``
    with ``f(u) = r u (1 - u)`` (a node without parents: ``x_i(t+1) = f(x_i(t))``), c the
    ``coupling``. Each link acts in one step, so the direct links are exactly the given
    ones: a chain X -> Y -> Z has no direct X -> Z, a fork Z -> X, Z -> Y no X - Y link.
    Deterministic and chaotic at the default r = 3.8, c = 0.3; initial values uniform in
    (0.1, 0.9), a ``transient`` discarded.

    Parameters
    ----------
    parents : mapping {node: sequence of parent nodes}
        Every node is a key (use ``[]`` for none), e.g.
        ``{"X": [], "Y": ["X"], "Z": ["Y"], "W": []}`` (a chain and an unconnected W).
    n : int
        Time steps (per entity).
    coupling, r : float
    transient : int
        Steps discarded first.
    n_entities : int, optional
        A panel: this many independent runs (own initial values), long format with columns
        ``entity``, ``t`` and the nodes. None: one run, one column per node.
    random_state : int or Generator

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> df = logistic_network({"X": [], "Y": ["X"]}, n=5)
    >>> list(df.columns), df.shape
    (['X', 'Y'], (5, 2))
    """
    names, adj = _check_parents(parents)
    n = _check_n(n, 2)
    transient = _check_n(transient, 0, "transient")
    if not (isinstance(coupling, numbers.Real) and 0 <= coupling <= 1):
        raise ValueError(f"coupling must be in [0, 1], got {coupling!r}")
    if not (isinstance(r, numbers.Real) and 0 < r <= 4):
        raise ValueError(f"r must be in (0, 4], got {r!r}")
    rng = np.random.default_rng(random_state)

    def run(g):
        return _logistic_run(g.uniform(0.1, 0.9, size=len(names)), adj, n, transient,
                             float(coupling), float(r))

    return _network_panel(run, names, n, n_entities, rng)


@numba.njit(cache=True)
def _rossler_net_rhs(s, adj, omega, coupling, a, b, c, out):  # pragma: no cover - compiled
    m = omega.shape[0]
    for i in range(m):
        x, y, z = s[3 * i], s[3 * i + 1], s[3 * i + 2]
        drive = 0.0
        for j in range(m):
            if adj[i, j] != 0.0:
                drive += s[3 * j] - x
        out[3 * i] = -omega[i] * y - z + coupling * drive
        out[3 * i + 1] = omega[i] * x + a * y
        out[3 * i + 2] = b + z * (x - c)


@numba.njit(cache=True)
def _rossler_net_run(s0, adj, omega, coupling, dt, n_transient, n, stride):  # pragma: no cover
    d = s0.shape[0]
    s = s0.copy()
    k1 = np.empty(d)
    k2 = np.empty(d)
    k3 = np.empty(d)
    k4 = np.empty(d)
    tmp = np.empty(d)
    out = np.empty((n, d))
    j = 0
    for step in range(n_transient + n * stride):
        _rossler_net_rhs(s, adj, omega, coupling, 0.15, 0.2, 10.0, k1)
        for q in range(d):
            tmp[q] = s[q] + 0.5 * dt * k1[q]
        _rossler_net_rhs(tmp, adj, omega, coupling, 0.15, 0.2, 10.0, k2)
        for q in range(d):
            tmp[q] = s[q] + 0.5 * dt * k2[q]
        _rossler_net_rhs(tmp, adj, omega, coupling, 0.15, 0.2, 10.0, k3)
        for q in range(d):
            tmp[q] = s[q] + dt * k3[q]
        _rossler_net_rhs(tmp, adj, omega, coupling, 0.15, 0.2, 10.0, k4)
        for q in range(d):
            s[q] += dt / 6.0 * (k1[q] + 2.0 * k2[q] + 2.0 * k3[q] + k4[q])
        if step >= n_transient and (step - n_transient + 1) % stride == 0:
            out[j] = s
            j += 1
    return out


def rossler_network(parents, n: int = 1000, *, coupling: float = 0.1,
                    sample_interval: float = 0.5, dt: float = 0.025, transient: float = 300.0,
                    n_entities: int | None = None, random_state=0) -> pd.DataFrame:
    """Rossler oscillators coupled on a known directed graph (e.g. a ring).

    Oscillator i, with state (x_i, y_i, z_i)::

        x_i' = -omega_i y_i - z_i + coupling * sum_{j in parents(i)} (x_j - x_i)
        y_i' =  omega_i x_i + 0.15 y_i
        z_i' =  0.2 + z_i (x_i - 10)

    the generalisation of :func:`rossler` to many nodes, with frequencies omega_i spread
    evenly over [0.95, 1.05] (in node order) so that the oscillators do not lock. RK4 with
    step ``dt``, a ``transient`` discarded, then ``n`` snapshots every ``sample_interval``
    time units. A variable is an oscillator's three columns ``{node}_x``, ``{node}_y``,
    ``{node}_z``.

    Caution (measured): :func:`infoimb.causal_graph` does *not* recover a ring of these
    oscillators cleanly. One step of 0.5 time units shows no gain at all (each oscillator's
    own smooth present predicts its next state); at 3 time units per step the ring's
    oscillators share their phase and links appear in both directions with small gains. Use
    :func:`lorenz96` for a ring with a known answer.

    Parameters
    ----------
    parents : mapping {node: sequence of parent nodes}
        E.g. a ring with an unconnected node:
        ``{"A": ["C"], "B": ["A"], "C": ["B"], "D": []}``.
    n : int
        Snapshots (per entity).
    coupling : float, default 0.1
    sample_interval, dt, transient : float
    n_entities : int, optional
        A panel of independent runs (columns ``entity``, ``t``, then the states).
    random_state : int or Generator
        Initial states uniform in [-5, 5].

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> df = rossler_network({"A": [], "B": ["A"]}, n=3)
    >>> list(df.columns)
    ['A_x', 'A_y', 'A_z', 'B_x', 'B_y', 'B_z']
    """
    names, adj = _check_parents(parents)
    n = _check_n(n, 2)
    for name, v in (("coupling", coupling), ("sample_interval", sample_interval), ("dt", dt),
                    ("transient", transient)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    if dt <= 0 or sample_interval < dt:
        raise ValueError(f"need dt > 0 and sample_interval >= dt; got dt={dt}, "
                         f"sample_interval={sample_interval}")
    m = len(names)
    omega = np.linspace(0.95, 1.05, m) if m > 1 else np.array([1.0])
    stride = max(1, int(round(sample_interval / dt)))
    n_transient = int(round(transient / dt))
    columns = [f"{name}_{c}" for name in names for c in "xyz"]
    rng = np.random.default_rng(random_state)

    def run(g):
        return _rossler_net_run(g.uniform(-5, 5, size=3 * m), adj, omega, float(coupling),
                                float(dt), n_transient, n, stride)

    return _network_panel(run, columns, n, n_entities, rng)


__all__ += ["logistic_network", "rossler_network"]


@numba.njit(cache=True)
def _l96_rhs(x, F, out):  # pragma: no cover - compiled
    m = x.shape[0]
    for i in range(m):
        out[i] = (x[(i + 1) % m] - x[(i - 2) % m]) * x[(i - 1) % m] - x[i] + F


@numba.njit(cache=True)
def _l96_run(x0, F, dt, n_transient, n, stride):  # pragma: no cover - compiled
    m = x0.shape[0]
    x = x0.copy()
    k1 = np.empty(m)
    k2 = np.empty(m)
    k3 = np.empty(m)
    k4 = np.empty(m)
    tmp = np.empty(m)
    out = np.empty((n, m))
    j = 0
    for step in range(n_transient + n * stride):
        _l96_rhs(x, F, k1)
        for q in range(m):
            tmp[q] = x[q] + 0.5 * dt * k1[q]
        _l96_rhs(tmp, F, k2)
        for q in range(m):
            tmp[q] = x[q] + 0.5 * dt * k2[q]
        _l96_rhs(tmp, F, k3)
        for q in range(m):
            tmp[q] = x[q] + dt * k3[q]
        _l96_rhs(tmp, F, k4)
        for q in range(m):
            x[q] += dt / 6.0 * (k1[q] + 2.0 * k2[q] + 2.0 * k3[q] + k4[q])
        if step >= n_transient and (step - n_transient + 1) % stride == 0:
            out[j] = x
            j += 1
    return out


def lorenz96_parents(n_nodes: int) -> dict[str, list[str]]:
    """The direct links of :func:`lorenz96`: node i is driven by i-1, i-2 and i+1 (a ring).

    >>> lorenz96_parents(4)["x0"]
    ['x1', 'x2', 'x3']
    """
    m = _check_n(n_nodes, 4, "n_nodes")
    return {f"x{i}": sorted({f"x{(i - 1) % m}", f"x{(i - 2) % m}", f"x{(i + 1) % m}"})
            for i in range(m)}


def lorenz96(n: int = 1000, *, n_nodes: int = 6, forcing: float = 8.0,
             sample_interval: float = 0.05, dt: float = 0.01, transient: float = 50.0,
             n_entities: int | None = None, random_state=0) -> pd.DataFrame:
    """The Lorenz-96 ring: ``x_i' = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F`` (indices mod m).

    Each node is driven directly by its neighbours i-1, i+1 and i-2 on the ring
    (:func:`lorenz96_parents`); i+2 (and farther nodes) act only through them. Chaotic at
    the default forcing F = 8. RK4 with step ``dt`` from F plus a small random perturbation,
    a ``transient`` discarded, then ``n`` snapshots every ``sample_interval`` time units.
    Columns ``x0 .. x{m-1}`` (with ``n_entities``: a panel of independent runs, columns
    ``entity``, ``t`` first).

    Examples
    --------
    >>> lorenz96(3, n_nodes=4).shape
    (3, 4)
    """
    m = _check_n(n_nodes, 4, "n_nodes")
    n = _check_n(n, 2)
    for name, v in (("forcing", forcing), ("sample_interval", sample_interval), ("dt", dt),
                    ("transient", transient)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            raise TypeError(f"{name} must be a finite number, got {v!r}")
    if dt <= 0 or sample_interval < dt or transient < 0:
        raise ValueError(f"need dt > 0, sample_interval >= dt and transient >= 0; got dt={dt}, "
                         f"sample_interval={sample_interval}, transient={transient}")
    stride = max(1, int(round(sample_interval / dt)))
    n_transient = int(round(transient / dt))
    rng = np.random.default_rng(random_state)
    columns = [f"x{i}" for i in range(m)]

    def run(g):
        return _l96_run(forcing + g.normal(scale=1.0, size=m), float(forcing), float(dt),
                        n_transient, n, stride)

    return _network_panel(run, columns, n, n_entities, rng)


__all__ += ["lorenz96", "lorenz96_parents"]


# --------------------------------------------------------------------------------------
# the materials case (needs the optional extra "materials": ASE, DScribe)
# --------------------------------------------------------------------------------------
def carbon_soap(n_structures: int = 8, *, random_state: int = 0, cache_dir=None, **kwargs) -> pd.DataFrame:
    """Carbon environments with 324-component SOAP vectors, Tersoff energies and forces.

    The paper's materials case (Fig. 4); see :func:`infoimb.materials.carbon_soap` for the
    structures, the columns and every option. Needs ``pip install 'infoimb[materials]'``.

    Examples
    --------
    >>> df = carbon_soap(4, random_state=0, cache=False)
    >>> df.filter(like="soap_").shape[1]
    324
    """
    from .materials import carbon_soap as build

    return build(n_structures, random_state=random_state, cache_dir=cache_dir, **kwargs)


__all__.append("carbon_soap")


#: the graph of :func:`logistic_graph`: node -> its parents (direct causes)
LOGISTIC_GRAPH_PARENTS = {"A": [], "B": ["A"], "C": ["B"], "D": ["A"], "E": []}


def logistic_graph(n: int = 500, *, random_state=0) -> pd.DataFrame:
    """Five coupled logistic maps on a known graph, as one time series with a time column:
    A drives B and D (a fork), B drives C (so A -> B -> C is a chain), E is unconnected
    (:data:`LOGISTIC_GRAPH_PARENTS`; :func:`logistic_network` with its defaults). The direct
    links are A -> B, A -> D and B -> C; A -> C is indirect (through B) and B - D share a
    cause without acting on each other.

    Examples
    --------
    >>> list(logistic_graph(4).columns)
    ['t', 'A', 'B', 'C', 'D', 'E']
    """
    df = logistic_network(LOGISTIC_GRAPH_PARENTS, n=n, random_state=random_state)
    df.insert(0, "t", np.arange(len(df)))
    return df


EXAMPLES["logistic_graph"] = Example(
    "logistic_graph", "Coupled logistic maps: a chain, a fork and a bystander",
    "500 steps of five chaotic logistic maps coupled on a known graph: A drives B and D, B "
    "drives C, and E is on its own. The direct links are A → B, A → D and B → C. The causal "
    "graph finds exactly these (gains about 0.49, 0.50 and 0.23, lag 1, with 199 surrogates): "
    "A → C is significant on its own but explained by B (an indirect link through B), B and D "
    "look related because they share the cause A and are explained by it, and nothing links "
    "to or from E.",
    "series", {"time": "t", "groups": {v: [v] for v in LOGISTIC_GRAPH_PARENTS}, "lag": 1},
    ("graph", "causality"), logistic_graph, 500, "steps")

__all__ += ["LOGISTIC_GRAPH_PARENTS", "logistic_graph"]


def _carbon_example(n: int, *, random_state=0) -> pd.DataFrame:
    """The dashboard's carbon example: ``n`` structures (cached on disk after the first build);
    ValueError with a message when the optional extra "materials" is not installed."""
    try:
        import ase  # noqa: F401
        import dscribe  # noqa: F401
    except ImportError:
        raise ValueError("the carbon example needs the optional extra: pip install 'infoimb[materials]' "
                         "(ASE and DScribe)") from None
    n = int(n)
    if n < 4:
        raise ValueError(f"the carbon example needs at least 4 structures (one of each kind), got {n}")
    return carbon_soap(n, random_state=int(random_state))


EXAMPLES["carbon"] = Example(
    "carbon", "Carbon environments: SOAP, Tersoff energies (materials)",
    "Atomic environments of carbon (diamond, graphite, graphene, and quenched disordered cells, "
    "rattled and strained), each described by a 324-component SOAP vector (DScribe, n_max = "
    "l_max = 8, unit length), its Tersoff per-atom energy and force (ASE), and a radial "
    "fingerprint of its 12 nearest neighbour distances: the paper's materials case (Fig. 4). "
    "The size is the number of structures (8 give 328 environments, built in seconds and cached "
    "on disk; about 44 give N ≈ 2000). Compare SOAP with the neighbour distances and the energy, "
    "or select the SOAP components that keep the full SOAP's information (Select, target: the "
    "full SOAP or the energy).",
    "table", {"groups": {"SOAP": [f"soap_{j:03d}" for j in range(324)], "energy": ["energy"],
                         "forces": ["fx", "fy", "fz"],
                         "neighbour distances": [f"nd_{j:02d}" for j in range(12)]},
              "features": [f"soap_{j:03d}" for j in range(324)], "target": "energy"},
    ("compare", "select"), _carbon_example, 8, "structures")
