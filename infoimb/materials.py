"""The paper's materials case (Fig. 4): SOAP descriptors of carbon environments.

:func:`carbon_soap` builds a seeded set of carbon structures of four kinds, computes for every
atom its SOAP vector (DScribe), its Tersoff energy and force (ASE), a radial fingerprint (the
sorted distances to its nearest neighbours) and returns one row per atomic environment. The
result is cached on disk after the first build.

Needs the optional extra ``materials`` (``pip install infoimb[materials]``: ASE, DScribe,
scikit-matter, scikit-learn); the rest of infoimb does not import this module.

The structures
--------------
Structure ``s`` is built from its own generator ``numpy.random.default_rng([random_state, s])``,
so the first structures of a larger set are the structures of a smaller one. Kinds cycle
through ``kinds`` (default all four):

* ``diamond``: the 64-atom cubic cell (a = 3.567 Å), strained and rattled.
* ``graphite``: AB-stacked graphite (a = 2.464 Å, c = 6.711 Å), 3 x 3 x 1 cells (36 atoms),
  strained and rattled.
* ``graphene``: a 4 x 4 sheet (32 atoms) with 12 Å of vacuum, strained in-plane, rattled.
* ``amorphous``: 32 atoms placed at random (no two closer than 1.3 Å) at a density drawn
  from 2.0-3.2 g/cm³, melted by a short Langevin MD with the Tersoff potential (30 steps of
  0.5 fs at 6000 K) and quenched (30 steps at 300 K, strong friction): liquid-quenched
  cells with a mixture of 2-, 3- and 4-fold coordinated atoms.

Strains are symmetric with entries uniform in ±3 %; rattles are Gaussian with a standard
deviation drawn from 0.02-0.10 Å per structure.

The potential
-------------
Tersoff's 1988 carbon parameters (the ``C C C`` line of LAMMPS's ``SiC.tersoff``: cut-off
1.8-2.1 Å) in ASE's :class:`ase.calculators.tersoff.Tersoff`, whose per-atom energies are
its ``energies`` property (each bond's energy split equally between its two atoms; their
sum is the total energy). ASE 3.29 raises ``ZeroDivisionError`` for an atom with exactly one
neighbour inside the cut-off (ζ = 0 and n < 1 make dB/dζ infinite, although no three-body
term uses it): :func:`tersoff_carbon` returns a calculator that takes that derivative as 0
in that case, which is exact (the derivative multiplies an empty sum over third atoms).

The SOAP
--------
DScribe's ``SOAP(species=["C"], r_cut=4.2, n_max=8, l_max=8, sigma=0.5, periodic=True)``:
n_max (n_max + 1) / 2 · (l_max + 1) = 324 components, columns ``soap_000`` … ``soap_323``,
by default divided by their norm (unit vectors: the Euclidean distance between rows is the
standard SOAP distance).
r_cut = 4.2 Å is twice the Tersoff cut-off, the range the per-atom energy depends on.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ._validation import check_int, check_real

__all__ = [
    "CARBON_KINDS",
    "TERSOFF_C",
    "carbon_soap",
    "carbon_structures",
    "neighbour_distances",
    "soap_columns",
    "soap_vectors",
    "tersoff_carbon",
]

CARBON_KINDS = ("diamond", "graphite", "graphene", "amorphous")
# Tersoff, PRL 61, 2879 (1988), as in LAMMPS's SiC.tersoff (C C C): m, gamma, lambda3, c, d,
# h (cos theta0), n, beta, lambda2, B, R, D, lambda1, A
TERSOFF_C = (3.0, 1.0, 0.0, 38049.0, 4.3484, -0.57058, 0.72751, 1.5724e-7, 2.2119, 346.74,
             1.95, 0.15, 3.4879, 1393.6)
_MASS_C = 12.011  # amu
_AMU_G = 1.66053906660e-24  # g
_MD_STEPS = 30  # per stage (melt, quench) of an amorphous cell
_FORMAT = 1  # bump when the generator's output changes


def _require():
    try:
        import ase  # noqa: F401
        import dscribe  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the materials example needs ASE and DScribe: "
                          "pip install 'infoimb[materials]'") from exc


# --------------------------------------------------------------------------------------
# the potential
# --------------------------------------------------------------------------------------
def tersoff_carbon():
    """ASE's Tersoff calculator with Tersoff's 1988 carbon parameters, safe at ζ = 0.

    Identical to ``ase.calculators.tersoff.Tersoff`` (energies, per-atom energies, forces,
    stress) except for atoms with exactly one neighbour inside the cut-off, where ASE 3.29
    raises ``ZeroDivisionError``: there the unused derivative dB/dζ is taken as 0.

    Examples
    --------
    >>> from ase.build import bulk
    >>> atoms = bulk("C", "diamond", a=3.566)
    >>> atoms.calc = tersoff_carbon()
    >>> round(atoms.get_potential_energy() / len(atoms), 3)
    -7.371
    """
    _require()
    from ase.calculators.tersoff import Tersoff, TersoffParameters

    class _Tersoff(Tersoff):
        def _calc_bij_d(self, zeta, beta, n):
            if zeta == 0.0:  # no third atom: the derivative multiplies an empty sum
                return 0.0
            return super()._calc_bij_d(zeta, beta, n)

    return _Tersoff({("C", "C", "C"): TersoffParameters(*TERSOFF_C)})


# --------------------------------------------------------------------------------------
# the structures
# --------------------------------------------------------------------------------------
def _strain(atoms, rng, amplitude, in_plane=False):
    eps = rng.uniform(-amplitude, amplitude, size=(3, 3))
    eps = 0.5 * (eps + eps.T)
    if in_plane:
        eps[2, :] = 0.0
        eps[:, 2] = 0.0
    atoms.set_cell(atoms.cell[:] @ (np.eye(3) + eps), scale_atoms=True)
    return float(np.abs(eps).max())


def _rattle(atoms, rng):
    sd = float(rng.uniform(0.02, 0.10))
    atoms.positions = atoms.positions + rng.normal(scale=sd, size=atoms.positions.shape)
    return sd


def _diamond():
    from ase.build import bulk

    return bulk("C", "diamond", a=3.567, cubic=True).repeat((2, 2, 2))


def _graphite():
    from ase import Atoms

    a, c = 2.464, 6.711
    cell = [[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]]
    frac = [[0, 0, 0], [0, 0, 0.5], [1 / 3, 2 / 3, 0], [2 / 3, 1 / 3, 0.5]]
    return Atoms("C4", scaled_positions=frac, cell=cell, pbc=True).repeat((3, 3, 1))


def _graphene():
    from ase.build import graphene

    atoms = graphene(a=2.46, vacuum=6.0).repeat((4, 4, 1))
    atoms.pbc = True
    return atoms


def _random_cell(rng, n_atoms, density):
    from ase import Atoms

    volume = n_atoms * _MASS_C * _AMU_G / density * 1e24  # Å^3
    L = volume ** (1 / 3)
    pos = np.empty((n_atoms, 3))
    placed = 0
    for _ in range(200_000):
        x = rng.uniform(0, L, size=3)
        d = pos[:placed] - x
        d -= L * np.round(d / L)
        if placed == 0 or np.min(np.einsum("ij,ij->i", d, d)) >= 1.3 ** 2:
            pos[placed] = x
            placed += 1
            if placed == n_atoms:
                break
    else:  # pragma: no cover - the densities used leave ample room
        raise RuntimeError("could not place the atoms of a random cell")
    return Atoms(f"C{n_atoms}", positions=pos, cell=[L, L, L], pbc=True)


def _amorphous(rng):
    from ase import units
    from ase.md.langevin import Langevin
    try:  # ASE >= 3.29 (the same draw as MaxwellBoltzmannDistribution, which it deprecates)
        from ase.md.velocitydistribution import thermalize_momenta
    except ImportError:  # pragma: no cover - older ASE
        from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

        def thermalize_momenta(atoms, temperature_K, rng):
            MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)

    density = float(rng.uniform(2.0, 3.2))
    atoms = _random_cell(rng, 32, density)
    atoms.calc = tersoff_carbon()
    thermalize_momenta(atoms, 6000, rng=rng)
    Langevin(atoms, timestep=0.5 * units.fs, temperature_K=6000, friction=0.02 / units.fs,
             fixcm=False, rng=rng).run(_MD_STEPS)
    Langevin(atoms, timestep=0.5 * units.fs, temperature_K=300, friction=0.2 / units.fs,
             fixcm=False, rng=rng).run(_MD_STEPS)
    atoms.wrap()
    atoms.calc = None
    atoms.set_velocities(np.zeros((len(atoms), 3)))
    return atoms, density


def _structure(kind, rng):
    info = {"kind": kind}
    if kind == "amorphous":
        atoms, info["density"] = _amorphous(rng)
        return atoms, info
    atoms = {"diamond": _diamond, "graphite": _graphite, "graphene": _graphene}[kind]()
    info["strain"] = _strain(atoms, rng, 0.03, in_plane=kind == "graphene")
    info["rattle"] = _rattle(atoms, rng)
    atoms.wrap()
    return atoms, info


def _check_kinds(kinds) -> tuple[str, ...]:
    if isinstance(kinds, str):
        kinds = (kinds,)
    kinds = tuple(kinds)
    if not kinds:
        raise ValueError(f"kinds must name at least one of {', '.join(CARBON_KINDS)}")
    bad = [k for k in kinds if k not in CARBON_KINDS]
    if bad:
        raise ValueError(f"kinds: unknown kind(s) {bad}; choose from {', '.join(CARBON_KINDS)}")
    return kinds


def carbon_structures(n_structures: int = 8, *, random_state: int = 0,
                      kinds=CARBON_KINDS, cache_dir=None, cache: bool = False) -> list:
    """The seeded carbon structures behind :func:`carbon_soap` (a list of ``ase.Atoms``).

    Structure ``s`` has kind ``kinds[s % len(kinds)]`` and is built from
    ``numpy.random.default_rng([random_state, s])``; ``atoms.info`` holds its ``kind`` and
    its ``strain`` and ``rattle`` (crystals) or ``density`` (amorphous, g/cm³).
    With ``cache=True`` the structures are kept (exactly, as NumPy arrays) under
    ``cache_dir`` (default :func:`default_cache_dir`), so other SOAP resolutions of the same
    structures skip the MD; :func:`carbon_soap` does this.

    Examples
    --------
    >>> s = carbon_structures(4, random_state=0)
    >>> [a.info["kind"] for a in s], [len(a) for a in s]
    (['diamond', 'graphite', 'graphene', 'amorphous'], [64, 36, 32, 32])
    """
    _require()
    n_structures = check_int(n_structures, "n_structures", low=1, high=10_000)
    random_state = check_int(random_state, "random_state", low=0)
    kinds = _check_kinds(kinds)
    if not isinstance(cache, bool):
        raise TypeError(f"cache must be True or False, got {cache!r}")
    path = None
    if cache:
        key = json.dumps({"n_structures": n_structures, "random_state": random_state,
                          "kinds": list(kinds)} | _versions(), sort_keys=True)
        folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        path = folder / f"carbon_structures_{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
        if path.exists():
            return _unpack(path)
    out = []
    for s in range(n_structures):
        rng = np.random.default_rng([random_state, s])
        atoms, info = _structure(kinds[s % len(kinds)], rng)
        atoms.info.update(info)
        out.append(atoms)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npz")
        np.savez(tmp, positions=np.vstack([a.positions for a in out]),
                 cells=np.stack([a.cell[:] for a in out]),
                 counts=np.array([len(a) for a in out]),
                 info=np.array(json.dumps([a.info for a in out])))
        os.replace(tmp, path)
    return out


def _unpack(path) -> list:
    from ase import Atoms

    with np.load(path) as z:
        positions, cells, counts = z["positions"], z["cells"], z["counts"]
        infos = json.loads(str(z["info"]))
    out, start = [], 0
    for cell, count, info in zip(cells, counts, infos):
        atoms = Atoms(f"C{count}", positions=positions[start:start + count], cell=cell, pbc=True)
        atoms.info.update(info)
        out.append(atoms)
        start += count
    return out


# --------------------------------------------------------------------------------------
# per-atom quantities
# --------------------------------------------------------------------------------------
def soap_columns(n_max: int = 8, l_max: int = 8) -> list[str]:
    """Column names ``soap_000`` … of a one-species SOAP: n_max (n_max+1)/2 (l_max+1) of them."""
    n = n_max * (n_max + 1) // 2 * (l_max + 1)
    width = max(3, len(str(n - 1)))
    return [f"soap_{j:0{width}d}" for j in range(n)]


def soap_vectors(structures, *, n_max: int = 8, l_max: int = 8, r_cut: float = 4.2,
                 sigma: float = 0.5, normalize: bool = False) -> np.ndarray:
    """Per-atom SOAP vectors (DScribe, species C, periodic), stacked over the structures.

    ``normalize``: divide each vector by its Euclidean norm (the Euclidean distance between
    unit vectors is the usual SOAP distance, sqrt(2 - 2 k) with k the linear SOAP kernel).
    Returns an array (total atoms, n_max (n_max+1)/2 (l_max+1)).

    Examples
    --------
    >>> soap_vectors(carbon_structures(1), n_max=2, l_max=1).shape
    (64, 6)
    """
    _require()
    from dscribe.descriptors import SOAP

    n_max = check_int(n_max, "n_max", low=1, high=20)
    l_max = check_int(l_max, "l_max", low=0, high=20)
    r_cut = check_real(r_cut, "r_cut", low=1.0, high=20.0)
    sigma = check_real(sigma, "sigma", low=0.0, low_open=True, high=5.0)
    soap = SOAP(species=["C"], r_cut=r_cut, n_max=n_max, l_max=l_max, sigma=sigma,
                periodic=True)
    expected = n_max * (n_max + 1) // 2 * (l_max + 1)
    if soap.get_number_of_features() != expected:  # pragma: no cover - a DScribe change
        raise RuntimeError(f"DScribe's SOAP has {soap.get_number_of_features()} components, "
                           f"expected {expected}")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be True or False, got {normalize!r}")
    X = np.vstack([np.asarray(soap.create(a), dtype=np.float64).reshape(len(a), -1)
                   for a in structures])
    if normalize:
        X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X


def neighbour_distances(structures, *, n_neighbours: int = 12, r_cut: float = 4.2) -> np.ndarray:
    """The radial fingerprint of each environment: its ``n_neighbours`` smallest distances to
    other atoms (periodic images included), increasing, capped at ``r_cut``.

    The Euclidean distance between two fingerprints is the structural "ground truth" of
    ``bench/bench_materials.py`` (Fig. 4a): invariant under rotations and permutations of the
    neighbours, blind to angles. Returns an array (total atoms, n_neighbours).
    """
    _require()
    from ase.neighborlist import neighbor_list

    n_neighbours = check_int(n_neighbours, "n_neighbours", low=1, high=200)
    r_cut = check_real(r_cut, "r_cut", low=1.0, high=20.0)
    blocks = []
    for atoms in structures:
        i, d = neighbor_list("id", atoms, r_cut)
        out = np.full((len(atoms), n_neighbours), r_cut)
        order = np.lexsort((d, i))
        i, d = i[order], d[order]
        starts = np.searchsorted(i, np.arange(len(atoms)))
        ends = np.searchsorted(i, np.arange(len(atoms)), side="right")
        for a in range(len(atoms)):
            m = min(n_neighbours, ends[a] - starts[a])
            out[a, :m] = d[starts[a]:starts[a] + m]
        blocks.append(out)
    return np.vstack(blocks)


def _versions() -> dict:
    import ase
    import dscribe

    from . import __version__

    try:
        from importlib.metadata import version
        dscribe_version = version("dscribe")
    except Exception:  # pragma: no cover
        dscribe_version = getattr(dscribe, "__version__", "?")
    return {"infoimb": __version__, "ase": ase.__version__, "dscribe": dscribe_version,
            "numpy": np.__version__, "format": _FORMAT}


def default_cache_dir() -> Path:
    """``$INFOIMB_CACHE_DIR/materials`` if that variable is set, else ``~/.cache/infoimb/materials``."""
    root = os.environ.get("INFOIMB_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "infoimb"
    return base / "materials"


def carbon_soap(n_structures: int = 8, *, random_state: int = 0, kinds=CARBON_KINDS,
                n_max: int = 8, l_max: int = 8, r_cut: float = 4.2, sigma: float = 0.5,
                n_neighbours: int = 12, normalize: bool = True, cache_dir=None,
                cache: bool = True) -> pd.DataFrame:
    """Carbon environments with SOAP vectors, Tersoff energies and forces (the paper's Fig. 4).

    One row per atom of :func:`carbon_structures`: ``structure`` (0-based id), ``kind``,
    ``atom`` (index in its structure), ``energy`` (Tersoff per-atom energy, eV), ``fx``,
    ``fy``, ``fz`` (Tersoff force, eV/Å), ``nd_00`` … (the radial fingerprint of
    :func:`neighbour_distances`) and ``soap_000`` … ``soap_323`` (SOAP, n_max = l_max = 8).
    See the module docstring for how the structures are made.

    Parameters
    ----------
    n_structures : int, default 8
        Number of structures (kinds cycle, so 8 gives two of each). The default gives 328
        environments and builds in a few seconds; N ≈ 2000 environments needs ~44.
    random_state : int, default 0
        Seed (a non-negative whole number, so that the cache can be keyed on it).
    kinds : sequence of str
        Subset of ``CARBON_KINDS``, cycled over the structures.
    n_max, l_max, r_cut, sigma : SOAP parameters (DScribe).
    n_neighbours : int
        Length of the radial fingerprint.
    normalize : bool, default True
        Unit-length SOAP vectors (each DScribe vector divided by its norm), so that the
        Euclidean distance between rows is the standard SOAP distance. Raw DScribe
        components span five orders of magnitude (the largest ~10² here).
    cache_dir : path, optional
        Where the parquet cache lives (default :func:`default_cache_dir`). The file name is a
        hash of every argument and of the versions of infoimb, ASE, DScribe and NumPy.
    cache : bool, default True
        Read and write the cache; False always rebuilds and writes nothing.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> df = carbon_soap(4, random_state=0, cache=False)
    >>> df.shape, df["kind"].unique().tolist()
    ((164, 343), ['diamond', 'graphite', 'graphene', 'amorphous'])
    """
    _require()
    args = {
        "n_structures": check_int(n_structures, "n_structures", low=1, high=10_000),
        "random_state": check_int(random_state, "random_state", low=0),
        "kinds": list(_check_kinds(kinds)),
        "n_max": check_int(n_max, "n_max", low=1, high=20),
        "l_max": check_int(l_max, "l_max", low=0, high=20),
        "r_cut": check_real(r_cut, "r_cut", low=1.0, high=20.0),
        "sigma": check_real(sigma, "sigma", low=0.0, low_open=True, high=5.0),
        "n_neighbours": check_int(n_neighbours, "n_neighbours", low=1, high=200),
        "normalize": normalize,
    }
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be True or False, got {normalize!r}")
    if not isinstance(cache, bool):
        raise TypeError(f"cache must be True or False, got {cache!r}")
    path = None
    if cache:
        key = json.dumps(args | _versions(), sort_keys=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        path = folder / f"carbon_soap_{digest}.parquet"
        if path.exists():
            return pd.read_parquet(path)
    df = _build(args, cache_dir if cache else None, cache)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    return df


def _build(args: dict, cache_dir, cache: bool) -> pd.DataFrame:
    structures = carbon_structures(args["n_structures"], random_state=args["random_state"],
                                   kinds=args["kinds"], cache_dir=cache_dir, cache=cache)
    calc = tersoff_carbon()
    rows = []
    for s, atoms in enumerate(structures):
        atoms.calc = calc
        energies = np.asarray(atoms.get_potential_energies(), dtype=np.float64)
        forces = np.asarray(atoms.get_forces(), dtype=np.float64)
        atoms.calc = None
        rows.append(pd.DataFrame({
            "structure": np.full(len(atoms), s, dtype=np.int64),
            "kind": atoms.info["kind"],
            "atom": np.arange(len(atoms), dtype=np.int64),
            "energy": energies,
            "fx": forces[:, 0], "fy": forces[:, 1], "fz": forces[:, 2],
        }))
    df = pd.concat(rows, ignore_index=True)
    nd = neighbour_distances(structures, n_neighbours=args["n_neighbours"], r_cut=args["r_cut"])
    nd_cols = [f"nd_{j:02d}" for j in range(nd.shape[1])]
    X = soap_vectors(structures, n_max=args["n_max"], l_max=args["l_max"], r_cut=args["r_cut"],
                     sigma=args["sigma"], normalize=args["normalize"])
    cols = soap_columns(args["n_max"], args["l_max"])
    if X.shape[1] != len(cols):  # pragma: no cover
        raise RuntimeError(f"SOAP has {X.shape[1]} components, expected {len(cols)}")
    return pd.concat([df, pd.DataFrame(nd, columns=nd_cols), pd.DataFrame(X, columns=cols)],
                     axis=1)
