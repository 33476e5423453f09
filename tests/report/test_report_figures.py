"""The figures are pure renderers: no figure module imports a loader, and the entropy map
draws exactly the reference posterior and training split it is handed (small in-memory
ones here); the report's caller loads them once, from the seed the map was made with."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection

from bnncompare import METHODS
from bnncompare.data import Dataset, load_dataset
from bnncompare.reference import Reference
from bnncompare.report import load_runs
from bnncompare.report.build import _figure_inputs
from bnncompare.report.figures import catalogue as figures_catalogue
from bnncompare.report.figures import (
    entropy_map,
    entropy_map_figure,
    map_datasets,
    reference_panel,
    write_figures,
)

FIGURES_DIR = Path(figures_catalogue.__file__).parent
#: modules that read files (benchmark JSON, datasets, stored references)
LOADERS = ("bnncompare.data", "bnncompare.reference", "bnncompare.report.load")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


@pytest.mark.parametrize("path", sorted(FIGURES_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_figure_module_imports_a_loader(path):
    loaders = {m for m in imported_modules(path)
               if any(m == lo or m.startswith(lo + ".") for lo in LOADERS)}
    assert loaders == set(), f"{path.name} imports {sorted(loaders)}"


# -- small in-memory inputs ---------------------------------------------------------------

X_AXIS, Y_AXIS = np.linspace(-1.0, 1.0, 4), np.linspace(-0.5, 0.5, 3)


def tiny_reference(p_chains=(0.1, 0.3)) -> Reference:
    """A reference over the 3 x 4 grid: each chain's p(class 0) rises along the flattened grid
    from its own start, so the map's orientation and the mean over chains are both seen."""
    n = len(X_AXIS) * len(Y_AXIS)
    chains = []
    for p0 in p_chains:
        p = np.linspace(p0, p0 + 0.5, n)
        chains.append(np.stack([p, 1 - p], axis=-1)[None])    # (blocks=1, n, C)
    return Reference("moons", {"settings": {"chains": len(p_chains)}},
                     {"grid": np.stack(chains)}, np.array([1]), (X_AXIS, Y_AXIS))


def expected_entropy(p_chains=(0.1, 0.3)) -> np.ndarray:
    n = len(X_AXIS) * len(Y_AXIS)
    p = np.mean([np.linspace(p0, p0 + 0.5, n) for p0 in p_chains], axis=0)
    return (-(p * np.log(p) + (1 - p) * np.log(1 - p))).reshape(len(Y_AXIS), len(X_AXIS))


def tiny_split(n: int = 6) -> Dataset:
    x = np.column_stack([np.linspace(-1, 1, n), np.linspace(0.4, -0.4, n)]).astype(np.float32)
    y = np.arange(n) % 2
    return Dataset("moons", x, y, x[:2], y[:2], 2)


def map_bench(method: str, seed: object, value: float) -> dict:
    grid = {"grid_x": X_AXIS.tolist(), "grid_y": Y_AXIS.tolist(),
            "grid_entropy": np.full((len(Y_AXIS), len(X_AXIS)), value).tolist()}
    return {"group": "fit", "name": f"test_quality[moons-{method}-16x16]",
            "params": {"method": method, "dataset": "moons", "hidden": "16x16"},
            "stats": {"median": 0.1},
            "extra_info": {"axis": "none", "nll": 0.69, "seed": seed,
                           "entropy_bins": [0.0, float(np.log(2))], **grid}}


@pytest.fixture()
def map_frame(tmp_path):
    """Two methods' entropy maps of moons, fitted on the split of seed 7."""
    methods = list(METHODS)[:2]
    doc = {"machine_info": {"node": "m"}, "benchmarks": [
        {"group": "calibration", "name": "test_calibration[start]", "params": {},
         "stats": {"median": 1.0}, "extra_info": {}},
        *(map_bench(m, 7, 0.2 * (i + 1)) for i, m in enumerate(methods))]}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return load_runs([path])


def titled_axes(fig):
    return [ax for ax in fig.axes if ax.get_title()]


# -- the renderer -------------------------------------------------------------------------

def test_reference_panel_is_the_entropy_of_the_chains_mean_with_y_down_the_rows():
    x, y, h, title = reference_panel(tiny_reference())
    np.testing.assert_array_equal(x, X_AXIS)
    np.testing.assert_array_equal(y, Y_AXIS)
    np.testing.assert_allclose(h, expected_entropy(), rtol=1e-12)
    assert title == "reference posterior (2 chains)"


def test_no_reference_or_one_without_a_grid_gives_no_panel():
    assert reference_panel(None) is None
    no_grid = tiny_reference()
    no_grid.blocks = {}
    assert reference_panel(no_grid) is None


def test_the_map_draws_the_reference_first_and_the_given_training_points(map_frame):
    split = tiny_split()
    fig = entropy_map_figure(map_frame, "moons", reference_panel(tiny_reference()),
                             train=(split.x_train, split.y_train))
    axes = titled_axes(fig)
    assert [ax.get_title() for ax in axes] == [
        "reference posterior (2 chains)", *(METHODS[m].method_label()
                                            for m in list(METHODS)[:2])]
    np.testing.assert_allclose(np.asarray(axes[0].collections[0].get_array()).ravel(),
                               expected_entropy().ravel(), rtol=1e-12)
    for ax in axes:  # every panel: its map, then the training points handed in
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(dots) == 1
        np.testing.assert_array_equal(dots[0].get_offsets(), split.x_train)
        np.testing.assert_array_equal(dots[0].get_array(), split.y_train)
    assert "(dots: training points)" in fig._suptitle.get_text()


def test_without_inputs_the_map_shows_the_methods_only_and_no_dots(map_frame):
    fig = entropy_map_figure(map_frame, "moons")
    axes = titled_axes(fig)
    assert len(axes) == 2
    assert not any(isinstance(c, PathCollection) for ax in axes for c in ax.collections)
    assert "dots" not in fig._suptitle.get_text()
    assert entropy_map_figure(map_frame, "iris") is None


def test_map_datasets_names_each_map_with_the_seed_of_its_split(map_frame):
    assert map_datasets(map_frame) == {"moons": 7}
    no_seed = map_frame.assign(seed=np.nan)
    assert map_datasets(no_seed) == {"moons": 0}
    assert map_datasets(map_frame.assign(grid_entropy=None)) == {}


def written_map(df, out: Path, **inputs) -> bytes:
    written = {p.name: p for p in write_figures(df, None, out, **inputs)}
    return written["entropy_map_moons.png"].read_bytes()


def test_write_figures_hands_each_map_its_own_reference_and_split(map_frame, tmp_path):
    """The written map is byte for byte the one drawn from the inputs directly; without them
    (or with another dataset's only) it is a different picture."""
    ref, split = tiny_reference(), tiny_split()
    given = written_map(map_frame, tmp_path / "given", references={"moons": ref},
                        datasets={"moons": split})
    with matplotlib.rc_context(figures_catalogue.STYLE):
        direct = entropy_map(map_frame, None, tmp_path / "direct.png", dataset="moons",
                             reference=reference_panel(ref),
                             train=(split.x_train, split.y_train))
    assert given == direct.read_bytes()
    bare = written_map(map_frame, tmp_path / "bare")
    elsewhere = written_map(map_frame, tmp_path / "elsewhere", references={"iris": ref},
                            datasets={"iris": split})
    assert bare == elsewhere != given


# -- the caller ---------------------------------------------------------------------------

def test_the_report_loads_the_reference_and_the_split_the_map_was_made_on(map_frame):
    inputs = _figure_inputs(map_frame)
    assert set(inputs) == {"references", "datasets"}
    ref = inputs["references"]["moons"]
    assert ref is not None and reference_panel(ref) is not None  # the committed one
    np.testing.assert_array_equal(inputs["datasets"]["moons"].x_train,
                                  load_dataset("moons", seed=7).x_train)


def test_a_map_of_an_unknown_dataset_gets_no_reference_and_no_split(map_frame):
    unknown = map_frame.assign(dataset="not-a-dataset")
    assert _figure_inputs(unknown) == {"references": {"not-a-dataset": None}, "datasets": {}}
