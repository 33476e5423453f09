"""Benchmark profiles: the grids of each sweep, and the cells built from them.

A profile is a time budget on a 2-core machine with one torch thread: ``smoke`` < 1 minute
(the CI gate), ``fast`` < 10 minutes (the default main job), ``full`` < 90 minutes. A profile
holds only grids and round counts: every per-method setting comes from the method's class
(``settings_for("sweep" | "quality", profile.name)``), and the cells are built by looping over
the registry, so a new method joins every sweep without touching this module.

One :class:`Profile` object travels from the CLI (``--profile``, ``--methods``) through
``pytest benchmarks --profile NAME --methods a,b`` to the cells; ``BNNCOMPARE_PROFILE`` is read
only as the default of that option.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from bnncompare.checks import check_positive_int
from bnncompare.methods import METHODS, select_methods

__all__ = ["AXES", "DEFAULT_QUALITY_HIDDEN", "PROFILES", "SEED", "Cell", "Profile",
           "QualitySetting", "budget_factor", "budget_label", "default_profile_name",
           "get_profile", "hidden_label", "parse_hidden", "quality_setting_for"]

#: every benchmark parameter, in the order they appear in test ids and in the JSON ``params``;
#: a cell carries only the ones that change its own work
AXES = ("method", "dataset", "n_train", "n_test", "num_samples", "budget", "seed", "hidden")
#: the seed of every data split and OOD draw, of every timing cell's estimator, and the first
#: method seed of the quality cells (their replicates use SEED, SEED + 1, ...)
SEED = 0


def hidden_label(sizes: tuple[int, ...]) -> str:
    """``(16, 16) -> "16x16"``; ``() -> "none"`` (logistic regression)."""
    return "x".join(map(str, sizes)) or "none"


def parse_hidden(label: str) -> tuple[int, ...]:
    """Inverse of :func:`hidden_label`.

    Raises
    ------
    ValueError
        If ``label`` is not ``"none"`` or positive widths joined by ``x`` (``"50x50"``).
    """
    if label == "none":
        return ()
    try:
        sizes = tuple(int(h) for h in str(label).split("x"))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise ValueError(f"hidden must be layer widths joined by 'x' (e.g. 50x50) or 'none', "
                         f"got {label!r}")
    return sizes


def budget_label(factor: float) -> str:
    """``0.5 -> "x0.5"``: a compute-budget factor as a plain-string benchmark parameter."""
    return f"x{factor:g}"


def budget_factor(label: str) -> float:
    """Inverse of :func:`budget_label` (``"x0.5" -> 0.5``).

    Raises
    ------
    ValueError
        If ``label`` is not ``"x"`` followed by a positive number.
    """
    try:
        factor = float(str(label).removeprefix("x")) if str(label).startswith("x") else -1.0
    except ValueError:
        factor = -1.0
    if not factor > 0:
        raise ValueError(f"budget label must look like 'x0.5', got {label!r}")
    return factor


@dataclass(frozen=True)
class Cell:
    """One benchmark cell. Axes that do not change the cell's work are None (and absent from
    :meth:`params`): a fit cell has no ``n_test``, an NN fit cell no ``num_samples``."""

    method: str
    dataset: str
    hidden: str
    n_train: int | None = None
    n_test: int | None = None
    num_samples: int | None = None
    budget: str | None = None  # quality-vs-compute cells: the budget factor, "x0.5"
    seed: int | None = None  # quality and curve cells: the method seed (``random_state``)

    def params(self) -> dict:
        """The cell's axes in ``AXES`` order, None ones left out (plain str/int only)."""
        return {axis: getattr(self, axis) for axis in AXES if getattr(self, axis) is not None}

    @property
    def id(self) -> str:
        """Readable test id: ``synthetic-nuts-n1000-S50-16x16``."""
        tags = {"n_train": "n", "n_test": "t", "num_samples": "S"}
        parts = [self.dataset, self.method]
        parts += [f"{tag}{getattr(self, axis)}" for axis, tag in tags.items()
                  if getattr(self, axis) is not None]
        parts += [self.budget] if self.budget is not None else []
        parts += [f"s{self.seed}"] if self.seed is not None else []
        return "-".join([*parts, self.hidden])


@dataclass(frozen=True)
class QualitySetting:
    """A dataset of the quality benchmarks and the net it is fitted with.

    ``source`` is what :func:`~bnncompare.data.load_dataset` is given for it when that is not
    ``dataset`` itself (a user's file: its absolute path; ``dataset`` is then its stem), and
    ``label_column`` the file's label column (None: its last).
    """

    dataset: str
    hidden: str
    activation: str = "relu"
    source: str | None = None
    label_column: str | None = None

    def load(self, seed: int = SEED):
        """The dataset, loaded by ``seed`` as every quality cell loads it."""
        from bnncompare.data import load_dataset

        kwargs = {} if self.label_column is None else {"label_column": self.label_column}
        return load_dataset(self.source or self.dataset, seed=seed, **kwargs)


#: the net of a quality dataset no profile names (a user's file, a plug-in's): one hidden
#: layer of 50, the estimators' default
DEFAULT_QUALITY_HIDDEN = "50"


@dataclass(frozen=True)
class Profile:
    """Grids and round counts of one profile (see the module docstring for the budgets)."""

    name: str
    n_train_grid: tuple[int, ...]
    num_samples_grid: tuple[int, ...]  # predictive draws S at predict
    fit_draws_grid: tuple[int, ...]  # draws made at fit, for methods that draw at fit (NUTS)
    n_test_grid: tuple[int, ...]
    fit_rounds: int
    predict_rounds: int
    quality_rounds: int
    quality: tuple[QualitySetting, ...]
    hidden: str = "16x16"
    #: the synthetic sweeps' activation (the quality datasets set their own)
    activation: str = "tanh"
    n_features: int = 8
    n_classes: int = 3
    base_n_train: int = 300  # the fixed n_train of the fit-draws / predict sweeps
    base_n_test: int = 500  # OOD and test rows of the synthetic fit cells
    base_num_samples: int = 100  # S of the predict-vs-n_test sweep
    peer_predict_samples: int = 1000
    peer_steps: int = 200
    peer_nuts_iters: int = 20
    # rounds of each calibration workload (x 2 kinds x 3 positions per run): the smoke profile
    # (the CI gate, the sharded-sweep tests) keeps them short; its gate compares paired runs'
    # raw times and reads calibration only for a fallback against the committed baseline
    calibration_rounds: int = 15
    methods: tuple[str, ...] = ()  # empty: every registered method
    #: quality-vs-compute curves: each method's budget (``budget_param``) times these factors,
    #: on these quality datasets; factor 1 is the quality cell itself (not measured twice)
    budget_factors: tuple[float, ...] = (1.0,)
    curve_datasets: tuple[str, ...] = ()
    #: method seeds of every quality and curve cell, the same for every method (paired)
    n_seeds: int = 1
    #: what :meth:`with_datasets` was given, as :func:`bnncompare.sweep.benchmark_args`
    #: keywords (``datasets`` as absolute paths or names, ``hidden``, ``label_column``), so
    #: a benchmark process rebuilds the same quality cells
    quality_args: tuple[tuple[str, object], ...] = ()
    #: the model-size sweep (``n_params`` axis): nets of fixed depth 2 and growing width,
    #: fitted at ``base_n_train`` rows and predicted at ``base_n_test`` rows and
    #: ``base_num_samples`` draws. Four sizes, so c0 + c1·P^b (three constants) has a residual
    #: to judge it by. Fast stops at width 128 (P = 18k; the whole slice ran in 38 s on 2 cores):
    #: width 256 (P = 69k) costs ~4x more per gradient, ~4 s a NUTS fit round, ~30 s more
    hidden_grid: tuple[str, ...] = ("8x8", "32x32", "64x64", "128x128")

    @property
    def seeds(self) -> tuple[int, ...]:
        """The method seeds of the quality and curve cells: ``SEED, SEED + 1, ...``."""
        return tuple(SEED + i for i in range(self.n_seeds))

    def with_seeds(self, n_seeds: int | None) -> Profile:
        """This profile with ``n_seeds`` method seeds per quality cell (None: unchanged).

        Raises
        ------
        ValueError
            If ``n_seeds`` is not a positive integer.
        """
        if n_seeds is None:
            return self
        check_positive_int("seeds", n_seeds)
        return dataclasses.replace(self, n_seeds=n_seeds)

    def with_datasets(self, datasets=None, *, hidden: str | None = None,
                      label_column: str | None = None) -> Profile:
        """This profile with its quality datasets replaced, and/or their net.

        The quality cells and the quality-vs-compute curves (where the profile has them) run
        on ``datasets``; the synthetic sweeps stay as they are.

        Parameters
        ----------
        datasets : sequence of str or path, optional
            Built-in or plug-in dataset names, or ``.csv`` / ``.npz`` paths (named by their
            stem). None keeps the profile's own.
        hidden : str, optional
            The quality cells' net, ``"50x50"`` (``"none"``: softmax regression). Default: the
            net a profile states for that dataset (this one first, then ``fast``), else
            :data:`DEFAULT_QUALITY_HIDDEN`.
        label_column : str, optional
            The label column of every CSV file (default: its last column).

        Raises
        ------
        ValueError
            A malformed ``hidden``, a name given twice or a file's stem that is a built-in
            dataset's name, or a dataset that cannot be loaded: for a file the message names
            it and its problem (each file is read here, before anything runs).
        """
        if hidden is not None:
            hidden = hidden_label(parse_hidden(hidden))
        if label_column is not None and not any(
                str(d).lower().endswith(".csv") for d in datasets or ()):
            raise ValueError(f"label column {label_column!r} given, but no CSV file is among "
                             "the datasets")
        given = {"hidden": hidden, "label_column": label_column}
        args = {**dict(self.quality_args), **{k: v for k, v in given.items() if v is not None}}
        if datasets is None:
            quality = tuple(dataclasses.replace(q, hidden=hidden or q.hidden)
                            for q in self.quality)
            return dataclasses.replace(self, quality=quality, quality_args=tuple(args.items()))
        quality = tuple(_user_setting(d, hidden, label_column, self) for d in datasets)
        if not quality:
            raise ValueError("name at least one dataset")
        names = [q.dataset for q in quality]
        if len(set(names)) < len(names):
            raise ValueError(f"a dataset name appears twice: {names} (a file is named by its "
                             "stem)")
        curves = names if self.curve_datasets else ()
        args["datasets"] = tuple(q.source or q.dataset for q in quality)
        return dataclasses.replace(self, quality=quality, curve_datasets=tuple(curves),
                                   quality_args=tuple(args.items()))

    def with_methods(self, names: str | None) -> Profile:
        """This profile restricted to the comma-separated ``names`` (None: all)."""
        return dataclasses.replace(self, methods=select_methods(names))

    @property
    def method_names(self) -> tuple[str, ...]:
        """The methods this run covers, in registry order."""
        chosen = self.methods or tuple(METHODS)
        return tuple(m for m in METHODS if m in chosen)

    # -- cells ----------------------------------------------------------------------------
    def fit_cells(self) -> list[Cell]:
        """Fit time vs ``n_train`` for every method on synthetic data."""
        return [Cell(m, "synthetic", self.hidden, n_train=n)
                for m in self.method_names for n in self.n_train_grid]

    def fit_draws_cells(self) -> list[Cell]:
        """Fit time vs draws made at fit, for methods that draw at fit (``fit_draws_param``)."""
        return [Cell(m, "synthetic", self.hidden, n_train=self.base_n_train, num_samples=s)
                for m in self.method_names if METHODS[m].fit_draws_param
                for s in self.fit_draws_grid]

    def predict_samples_cells(self) -> list[Cell]:
        """Predict time and quality vs predictive draws S, every method."""
        return [Cell(m, "synthetic", self.hidden, n_test=self.base_n_test, num_samples=s)
                for m in self.method_names for s in self.num_samples_grid]

    def predict_n_test_cells(self) -> list[Cell]:
        """Predict time vs ``n_test`` at S = ``base_num_samples``."""
        return [Cell(m, "synthetic", self.hidden, n_test=n, num_samples=self.base_num_samples)
                for m in self.method_names for n in self.n_test_grid]

    def fit_size_cells(self) -> list[Cell]:
        """Fit time vs model size P (``hidden_grid``) at ``base_n_train`` rows."""
        return [Cell(m, "synthetic", h, n_train=self.base_n_train)
                for m in self.method_names for h in self.hidden_grid]

    def predict_size_cells(self) -> list[Cell]:
        """Predict time vs model size P at ``base_n_test`` rows and ``base_num_samples``."""
        return [Cell(m, "synthetic", h, n_test=self.base_n_test,
                     num_samples=self.base_num_samples)
                for m in self.method_names for h in self.hidden_grid]

    def quality_cells(self) -> list[Cell]:
        """The seed's own setting (iris, 20x50x20) and the other quality datasets."""
        return [Cell(m, q.dataset, q.hidden, seed=seed) for q in self.quality
                for m in self.method_names for seed in self.seeds]

    def curve_cells(self) -> list[Cell]:
        """Quality vs compute: every method with a budget axis (``budget_param``) at each of
        ``budget_factors`` on each of ``curve_datasets``, fitted with its quality settings
        scaled by ``scale_budget``. Factor 1, and any factor whose rounded keywords repeat an
        earlier point's, is left out: the quality cell (read as budget x1) is that point, and
        a method without a budget axis is that one point."""
        cells = []
        for dataset in self.curve_datasets:
            hidden = self._quality_setting(dataset).hidden
            for m in self.method_names:
                seen = [self.fit_params(Cell(m, dataset, hidden))]
                for factor in self.budget_factors if METHODS[m].budget_param else ():
                    cell = Cell(m, dataset, hidden, budget=budget_label(factor))
                    params = self.fit_params(cell)
                    if params not in seen:
                        seen.append(params)
                        cells += [dataclasses.replace(cell, seed=s) for s in self.seeds]
        return cells

    def _quality_setting(self, dataset: str) -> QualitySetting:
        for q in self.quality:
            if q.dataset == dataset:
                return q
        raise ValueError(f"curve dataset {dataset!r} is not a quality dataset of profile "
                         f"{self.name!r} ({[q.dataset for q in self.quality]})")

    # -- estimator settings ---------------------------------------------------------------
    def fit_params(self, cell: Cell) -> dict:
        """Keywords for ``make_method(cell.method, ...)`` to fit ``cell``.

        Synthetic cells use the method's ``sweep`` settings (full-batch, fixed step counts, so
        fit cost is ``steps * n * P``); the quality datasets its ``quality`` settings. A cell's
        ``num_samples`` is the draws made at fit for methods that have them; a predict cell's
        estimator is fitted with the largest S of the grid so that every S can be served. A
        curve cell's ``budget`` scales the quality settings (``cls.scale_budget``).
        """
        cls = METHODS[cell.method]
        params = {"hidden_sizes": parse_hidden(cell.hidden),
                  "random_state": SEED if cell.seed is None else cell.seed}
        quality = {q.dataset: q for q in self.quality}
        if cell.dataset in quality:
            params["activation"] = quality[cell.dataset].activation
            params.update(cls.settings_for("quality", self.name))
            if cell.budget is not None:
                params = cls.scale_budget(params, budget_factor(cell.budget))
            return params
        params["activation"] = self.activation
        params.update(cls.settings_for("sweep", self.name))
        if cls.fit_draws_param and cell.num_samples is not None:
            params[cls.fit_draws_param] = (cell.num_samples if cell.n_test is None
                                           else max(self.num_samples_grid))
        return params


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke", n_train_grid=(100, 300, 1000), num_samples_grid=(1, 10, 100),
        fit_draws_grid=(10, 20, 40), n_test_grid=(100, 1000), fit_rounds=5,
        predict_rounds=7, quality_rounds=3, base_n_train=200, base_n_test=200,
        quality=(QualitySetting("iris", "20x50x20"),),
        budget_factors=(0.5, 1.0), curve_datasets=("iris",),
        peer_predict_samples=100, peer_steps=30, peer_nuts_iters=6, calibration_rounds=5,
        hidden_grid=("4x4", "8x8", "16x16"),  # the CI gate: 3 sizes, small, ~10 s in all
    ),
    "fast": Profile(
        name="fast", n_train_grid=(100, 300, 1000, 3000, 10000),
        num_samples_grid=(1, 10, 100, 1000), fit_draws_grid=(25, 50, 100, 200, 400),
        n_test_grid=(100, 1000, 10000), fit_rounds=3, predict_rounds=5, quality_rounds=1,
        quality=(QualitySetting("iris", "20x50x20"), QualitySetting("digits", "50"),
                 QualitySetting("moons", "16x16")),
        budget_factors=(0.25, 0.5, 1.0, 2.0), curve_datasets=("iris", "moons"),
        peer_nuts_iters=30, n_seeds=3,
    ),
    "full": Profile(
        name="full", n_train_grid=(100, 300, 1000, 3000, 10000, 30000, 100000),
        num_samples_grid=(1, 10, 100, 1000, 10000),
        fit_draws_grid=(25, 50, 100, 200, 400, 800), n_test_grid=(100, 1000, 10000),
        fit_rounds=3, predict_rounds=7, quality_rounds=1,
        quality=(QualitySetting("iris", "20x50x20"), QualitySetting("digits", "50"),
                 QualitySetting("moons", "16x16")),
        budget_factors=(0.125, 0.25, 0.5, 1.0, 2.0, 4.0), curve_datasets=("iris", "moons"),
        peer_steps=500, peer_nuts_iters=50, n_seeds=5,
        hidden_grid=("8x8", "32x32", "64x64", "128x128", "256x256"),
    ),
}


def quality_setting_for(dataset: str, first: Profile | None = None) -> QualitySetting:
    """The quality setting a profile states for ``dataset`` (``first``, then ``fast``, then
    the others), else :data:`DEFAULT_QUALITY_HIDDEN` with relu."""
    for profile in (first, PROFILES["fast"], *PROFILES.values()):
        for q in profile.quality if profile is not None else ():
            if q.dataset == dataset:
                return q
    return QualitySetting(dataset, DEFAULT_QUALITY_HIDDEN)


def _user_setting(item, hidden: str | None, label_column: str | None,
                  profile: Profile) -> QualitySetting:
    """The quality setting of one ``--dataset`` item: a name or a file path."""
    from bnncompare.data import DATASETS, find_loader
    from bnncompare.data.files import is_path

    name, _ = find_loader(item)
    if not is_path(item):
        base = quality_setting_for(name, profile)
        return QualitySetting(name, hidden or base.hidden, base.activation)
    if name.lower().replace("_", "-") in DATASETS:
        raise ValueError(f"{item}: the file's stem {name!r} is a built-in dataset's name; "
                         "rename the file")
    column = label_column if str(item).lower().endswith(".csv") else None
    setting = QualitySetting(name, hidden or DEFAULT_QUALITY_HIDDEN,
                             source=os.path.abspath(item), label_column=column)
    # read the file here, by the path as given (the message names it so), so that a bad file
    # is refused before a folder or a benchmark process is made
    dataclasses.replace(setting, source=str(item)).load()
    return setting


def default_profile_name() -> str:
    """``BNNCOMPARE_PROFILE`` if set (kept as a fallback for scripts), else ``fast``."""
    return os.environ.get("BNNCOMPARE_PROFILE", "fast")


def get_profile(name: str, methods: str | None = None, seeds: int | None = None) -> Profile:
    """The profile called ``name`` restricted to ``methods`` (comma-separated; None: all),
    with ``seeds`` method seeds per quality cell (None: the profile's own ``n_seeds``).

    Raises
    ------
    ValueError
        Naming the valid profiles (or the unknown methods).
    """
    try:
        profile = PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}") from None
    return profile.with_methods(methods).with_seeds(seeds)
