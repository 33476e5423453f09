"""A user's own dataset: files read, split and standardised; bad files refused in one line
with nothing written; loaders from other packages; the profile, the pytest command line and
the reference take them; one real run end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import bnncompare as bc
from bnncompare import data
from bnncompare.cli import main
from bnncompare.evaluate import evaluate
from bnncompare.profiles import Cell, get_profile
from bnncompare.reference import reference_scores
from bnncompare.sweep import benchmark_args

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("alpha", "beta", "gamma")


def write_csv(path: Path, n: int = 150, d: int = 5, seed: int = 0, labels=CLASSES,
              label_name: str = "kind") -> Path:
    """n rows, d features, the label (one of ``labels``, balanced) last."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % len(labels)
    x = rng.normal(size=(n, d)) + 1.5 * y[:, None]
    lines = [",".join([*(f"f{j + 1}" for j in range(d)), label_name])]
    lines += [",".join([*(f"{v:.5f}" for v in row), str(labels[k])])
              for row, k in zip(x, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def flowers(tmp_path) -> Path:
    return write_csv(tmp_path / "flowers.csv")


# --------------------------------------------------------------------------- reading


def test_csv_is_named_split_stratified_and_standardised(flowers):
    ds = bc.load_dataset(str(flowers), seed=3)
    assert ds.name == "flowers" and ds.n_classes == 3 and ds.n_features == 5
    assert ds.class_names == CLASSES
    assert ds.n_test == 45 and ds.n_train == 105  # 30 % test
    assert np.bincount(ds.y_test).tolist() == [15, 15, 15]  # stratified
    np.testing.assert_allclose(ds.x_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(0), 1, atol=1e-4)
    again, other = bc.load_dataset(flowers, seed=3), bc.load_dataset(flowers, seed=4)
    np.testing.assert_array_equal(again.x_test, ds.x_test)  # the split is the seed's
    assert not np.array_equal(other.x_test, ds.x_test)


def test_integer_labels_a_label_column_and_npz_agree(tmp_path):
    path = write_csv(tmp_path / "ints.csv", labels=(7, 3, 5))
    ds = bc.load_dataset(path)
    assert ds.class_names == (3, 5, 7) and ds.y_train.dtype == np.int64
    # the label moved to the front: --label-column finds it, the features are the same
    rows = [line.split(",") for line in path.read_text().splitlines()]
    moved = tmp_path / "moved.csv"
    moved.write_text("\n".join(",".join([r[-1], *r[:-1]]) for r in rows) + "\n")
    same = bc.load_dataset(moved, label_column="kind")
    np.testing.assert_array_equal(same.x_test, ds.x_test)
    table = np.array(rows[1:], dtype=float)
    npz = tmp_path / "ints.npz"
    np.savez(npz, x=table[:, :-1], y=table[:, -1].astype(int))
    from_npz = bc.load_dataset(npz)
    assert from_npz.name == "ints"
    np.testing.assert_array_equal(from_npz.x_test, ds.x_test)
    np.testing.assert_array_equal(from_npz.y_test, ds.y_test)


def test_a_file_flows_through_the_ood_sets(flowers):
    ds = bc.load_dataset(flowers)
    assert data.default_ood_kind(ds) == "uniform"
    assert data.make_ood(ds, "uniform", 10).shape == (10, 5)
    assert data.far_shell(ds, 10).shape == (10, 5)


# --------------------------------------------------------------------------- bad files


def _csv(text: str):
    return lambda folder: (folder / "bad.csv", text)


def _npz(**arrays):
    return lambda folder: (folder / "bad.npz", arrays)


_ROWS = "f1,f2,kind\n1,2,a\n2,3,b\n3,4,a\n4,5,b\n5,6,a\n6,7,b\n"
#: (what is wrong, the file, extra CLI arguments, the message after "<file>: ")
BAD_FILES = [
    ("non-numeric feature column", _csv("f1,colour,kind\n1,red,a\n2,blue,b\n"), [],
     "feature column 'colour' is not numeric (data row 1: 'red')"),
    ("empty feature cell", _csv("f1,f2,kind\n1,2,a\n2,,b\n"), [],
     "feature column 'f2' has an empty cell in data row 2"),
    ("NaN", _csv(_ROWS.replace("3,4,a", "3,nan,a")), [],
     "feature column 'f2', data row 3 is NaN or inf (nan)"),
    ("inf", _csv(_ROWS.replace("4,5,b", "-inf,5,b")), [],
     "feature column 'f1', data row 4 is NaN or inf (-inf)"),
    ("one class", _csv("f1,kind\n1,a\n2,a\n3,a\n"), [],
     "only one class ('a'); a classifier needs at least 2"),
    ("a class with one row", _csv(_ROWS + "7,8,c\n"), [],
     "class 'c' has 1 row; every class needs at least 2 (one for each split)"),
    ("missing file", lambda folder: (folder / "absent.csv", None), [], "file not found"),
    ("empty file", _csv(""), [], "the file is empty"),
    ("header only", _csv("f1,f2,kind\n"), [], "no data rows below the header"),
    ("--label-column not there", _csv(_ROWS), ["--label-column", "species"],
     "label column 'species' is not in the header (columns: f1, f2, kind)"),
    ("ragged row", _csv("f1,f2,kind\n1,2,a\n2,b\n"), [],
     "data row 2 has 2 fields, the header 3"),
    ("npz without y", _npz(x=np.zeros((4, 2))), [],
     "no array 'y' (arrays: x); an .npz dataset holds 'x' (rows, features) and 'y' (rows,)"),
    ("npz with NaN", _npz(x=np.array([[0, 1], [1, np.nan], [2, 3], [3, 4]]),
                          y=np.array([0, 1, 0, 1])), [], "x[1, 1] is NaN or inf (nan)"),
    ("not .csv or .npz", lambda folder: (folder / "bad.txt", "a,b\n1,2\n"), [],
     "not a .csv or .npz file"),
]


def _write(folder: Path, make) -> Path:
    path, content = make(folder)
    if isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, dict):
        np.savez(path, **content)
    return path


@pytest.mark.parametrize(("make", "argv", "message"), [row[1:] for row in BAD_FILES],
                         ids=[row[0] for row in BAD_FILES])
def test_bad_file_run_exits_2_one_line_nothing_written(tmp_path, capsys, make, argv, message):
    path = _write(tmp_path, make)
    out = tmp_path / "out"
    code = main(["run", "--profile", "smoke", "--dataset", str(path), *argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [f"bnncompare run: error: {path}: {message}"]
    assert not out.exists()


@pytest.mark.parametrize(("make", "argv", "message"), [row[1:] for row in BAD_FILES],
                         ids=[row[0] for row in BAD_FILES])
def test_bad_file_is_a_value_error_in_the_api(tmp_path, make, argv, message):
    path = _write(tmp_path, make)
    kwargs = {"label_column": argv[1]} if argv else {}
    with pytest.raises(ValueError) as err:
        bc.load_dataset(path, **kwargs)
    assert str(err.value) == f"{path}: {message}"
    assert isinstance(err.value, data.DataFileError)


def test_bad_file_reference_exits_2_nothing_written(tmp_path, capsys):
    path = _write(tmp_path, BAD_FILES[0][1])
    out = tmp_path / "refs"
    assert main(["reference", str(path), "--out", str(out), "--no-progress"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"bnncompare reference: error: {path}: {BAD_FILES[0][3]}"]
    assert not out.exists()


def test_run_refuses_clashing_names_and_a_bad_hidden(tmp_path, capsys, flowers):
    iris = write_csv(tmp_path / "iris.csv")
    copy = tmp_path / "sub"
    copy.mkdir()
    for argv, needle in [
        (["--dataset", str(iris)], "the file's stem 'iris' is a built-in dataset's name"),
        (["--dataset", str(flowers), "--dataset", str(write_csv(copy / "flowers.csv"))],
         "a dataset name appears twice"),
        (["--dataset", str(flowers), "--hidden", "50xa"], "hidden must be layer widths"),
        (["--dataset", "iris", "--label-column", "kind"], "no CSV file is among"),
        (["--dataset", "nope"], "unknown dataset 'nope'"),
    ]:
        assert main(["run", "--profile", "smoke", *argv, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and needle in err[0], (argv, err)
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- plug-ins

PLUGIN = '''
import numpy as np
from bnncompare.data import dataset_from_arrays


def load_blobs(name, options, **kwargs):
    rng = np.random.default_rng(options.seed)
    y = np.arange(90) % 3
    return dataset_from_arrays(name, rng.normal(size=(90, 4)) + y[:, None], y, options)
'''


@pytest.fixture
def plugin_on_path(tmp_path, monkeypatch):
    """A distribution (module + dist-info with two entry points, one broken) on sys.path, as
    ``pip install`` would leave it; importlib.metadata finds it like any installed one."""
    site = tmp_path / "site"
    info = site / "bnnblobs-0.1.dist-info"
    info.mkdir(parents=True)
    (site / "bnnblobs.py").write_text(PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bnnblobs\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[bnncompare.datasets]\nblobs = bnnblobs:load_blobs\nbroken = bnnblobs:nothing\n"
        "iris = bnnblobs:load_blobs\n")
    monkeypatch.syspath_prepend(str(site))
    return site


@pytest.mark.filterwarnings("ignore:bnncompare dataset plugin:RuntimeWarning")
def test_plugin_dataset_is_found_by_name(plugin_on_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = data.available_datasets()
    assert names == (*data.DATASETS, "blobs", "broken")
    assert any("reuses the built-in name 'iris'" in str(w.message) for w in caught)
    ds = bc.load_dataset("Blobs", seed=1)
    assert ds.name == "blobs" and ds.n_train == 63 and ds.n_test == 27
    profile = get_profile("smoke", "nn").with_datasets(["blobs"])
    assert [c.dataset for c in profile.quality_cells()] == ["blobs"]
    with pytest.raises(ValueError, match=r"dataset plugin 'broken' .* failed to load"):
        bc.load_dataset("broken")
    assert bc.load_dataset("iris").n_features == 4  # the built-in wins


def test_plugin_absent_without_install():
    assert "blobs" not in data.available_datasets()
    with pytest.raises(ValueError, match=r"unknown dataset 'blobs'.*or a path to a \.csv"):
        bc.load_dataset("blobs")


# --------------------------------------------------------------------------- profile


def test_with_datasets_replaces_quality_and_curves_not_sweeps(flowers):
    base = get_profile("smoke", "nn,svi", seeds=2)
    profile = base.with_datasets([str(flowers), "iris"], hidden="8x8")
    assert [(q.dataset, q.hidden, q.source) for q in profile.quality] == [
        ("flowers", "8x8", str(flowers)), ("iris", "8x8", None)]
    assert profile.curve_datasets == ("flowers", "iris")
    assert {(c.dataset, c.seed) for c in profile.quality_cells()} == {
        (d, s) for d in ("flowers", "iris") for s in (0, 1)}
    assert profile.fit_cells() == base.fit_cells()
    assert profile.fit_params(Cell("nn", "flowers", "8x8", seed=1))["hidden_sizes"] == (8, 8)
    # without --hidden a file gets the estimators' default net, a built-in its profile's
    plain = base.with_datasets([flowers, "iris"])
    assert [q.hidden for q in plain.quality] == ["50", "20x50x20"]
    assert base.with_datasets(None, hidden="none").quality[0].hidden == "none"


def test_benchmark_args_carry_the_datasets(tmp_path, flowers, monkeypatch):
    monkeypatch.chdir(tmp_path)
    profile = get_profile("smoke").with_datasets(["flowers.csv"], hidden="50x50",
                                                 label_column="kind")
    args = benchmark_args("smoke", None, **dict(profile.quality_args))
    assert args[args.index("--dataset") + 1] == str(flowers)  # absolute: runs anywhere
    assert args[args.index("--hidden") + 1] == "50x50"
    assert args[args.index("--label-column") + 1] == "kind"
    assert "--dataset" not in benchmark_args("smoke", None)


# --------------------------------------------------------------------------- reference


def test_reference_of_a_file_gives_tv(tmp_path, flowers, capsys, monkeypatch):
    refs = tmp_path / "refs"
    assert main(["reference", str(flowers), "--hidden", "8", "--chains", "2", "--warmup", "15",
                 "--draws", "12", "--depth", "3", "--out", str(refs), "--no-progress"]) == 0
    assert f"reference flowers written to {refs / 'flowers'}/" in capsys.readouterr().out
    meta = json.loads((refs / "flowers" / "reference.json").read_text())
    assert meta["dataset"] == "flowers" and meta["model"]["hidden_sizes"] == [8]
    profile = get_profile("smoke", "nn").with_datasets([flowers], hidden="8")
    ds = profile.quality[0].load()
    est = bc.make_method("nn", **profile.fit_params(Cell("nn", "flowers", "8", seed=0)))
    scores = reference_scores(est.fit(ds.x_train, ds.y_train), ds, root=refs)
    assert 0 <= scores["tv_test"] <= 1 and 0 <= scores["tv_ood"] <= 1
    # the run's own record of the cell: evaluate finds the reference by the file's stem
    monkeypatch.setenv("BNNCOMPARE_REFERENCE_DIR", str(refs))
    assert evaluate(est, ds)["tv_test"] == pytest.approx(scores["tv_test"])


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_a_csv_end_to_end(tmp_path, flowers):
    """The README example: a CSV through quality cells, curves, both OOD sets and the report."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "bnncompare.cli", "run", "--profile", "smoke", "--dataset",
         str(flowers), "--methods", "nn,svi", "--seeds", "2", "-k", "quality or calibration",
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "raw" / "smoke.json").read_text())
    cells = [b for b in doc["benchmarks"] if b["group"] == "fit"]
    quality = [b for b in cells if "budget" not in b["params"]]
    assert {(b["params"]["dataset"], b["params"]["method"], b["params"]["seed"])
            for b in quality} == {("flowers", m, s) for m in ("nn", "svi") for s in (0, 1)}
    assert {b["params"]["dataset"] for b in cells} == {"flowers"}  # curves on it too
    assert any("budget" in b["params"] for b in cells)
    for b in quality:
        info = b["extra_info"]
        assert info["workload"]["n_train"] == 105 and info["workload"]["n_features"] == 5
        assert 0 <= info["ood_auroc"] <= 1 and 0 <= info["ood_auroc_far"] <= 1
    table = (out / "tables" / "quality.md").read_text()
    assert "flowers" in table
    assert "### flowers" in (out / "findings.md").read_text()
