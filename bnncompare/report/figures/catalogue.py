"""Every report figure, by output name, and :func:`write_figures`, which renders those whose
data is present under one matplotlib style. Nothing here reads a file: what the figures draw
beyond the benchmark frame (reference posteriors, training splits) is passed in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib
import pandas as pd

from bnncompare.report.figures.entropy_maps import entropy_map, map_datasets, reference_panel
from bnncompare.report.figures.pareto import quality_vs_compute
from bnncompare.report.figures.peers import peer_ratios
from bnncompare.report.figures.quality import quality_vs_num_samples
from bnncompare.report.figures.sweeps import (
    fit_vs_n_params,
    fit_vs_n_train,
    fit_vs_num_samples,
    predict_vs_n_params,
    predict_vs_n_test,
    predict_vs_num_samples,
)
from bnncompare.report.figures.uncertainty import i_dont_know

__all__ = ["FIGURES", "STYLE", "write_figures"]

STYLE = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8,
         "axes.grid": True, "grid.alpha": 0.3, "savefig.dpi": 110}

FigureFn = Callable[..., Path | None]
#: the figures drawn once per report, by file name (without ``.png``); the per-dataset ones
#: (``i_dont_know_<dataset>``, ``entropy_map_<dataset>``) are added by :func:`write_figures`
FIGURES: dict[str, FigureFn] = {
    "fit_vs_n_train": fit_vs_n_train,
    "predict_vs_num_samples": predict_vs_num_samples,
    "predict_vs_n_test": predict_vs_n_test,
    "fit_vs_num_samples": fit_vs_num_samples,
    "fit_vs_n_params": fit_vs_n_params,
    "predict_vs_n_params": predict_vs_n_params,
    "quality_vs_num_samples": quality_vs_num_samples,
    "quality_vs_compute": quality_vs_compute,
    "peer_ratios": peer_ratios,
}


def write_figures(df: pd.DataFrame, exps: pd.DataFrame, out_dir: Path, *,
                  normalise: bool = False, references: Mapping[str, object] | None = None,
                  datasets: Mapping[str, object] | None = None) -> list[Path]:
    """Write every figure whose data is present into ``out_dir``; return the paths written.

    Parameters
    ----------
    df, exps : DataFrame
        The tidy frame and its exponent table.
    out_dir : Path
        Receives ``<name>.png`` for each figure drawn.
    normalise : bool, default=False
        Plot times divided by each run's calibration time.
    references : mapping, optional
        Dataset name -> its loaded reference posterior (``bnncompare.reference.Reference``,
        or None), drawn beside that dataset's entropy map; absent names get none.
    datasets : mapping, optional
        Dataset name -> its training split (a ``bnncompare.data.Dataset``: ``x_train``,
        ``y_train``), drawn as dots on that dataset's entropy map; absent names get none.
        :func:`~bnncompare.report.figures.entropy_maps.map_datasets` names the datasets and
        seeds the maps need.
    """
    references, datasets = references or {}, datasets or {}
    written = []
    with matplotlib.rc_context(STYLE):
        for name, fn in FIGURES.items():
            written.append(fn(df, exps, out_dir / f"{name}.png", normalise=normalise))
        for dataset in sorted(df.loc[df["phase"] == "fit", "dataset"].dropna().unique()):
            written.append(i_dont_know(df, exps, out_dir / f"i_dont_know_{dataset}.png",
                                       dataset=dataset, normalise=normalise))
        for dataset in map_datasets(df):
            split = datasets.get(dataset)
            written.append(entropy_map(
                df, exps, out_dir / f"entropy_map_{dataset}.png", dataset=dataset,
                reference=reference_panel(references.get(dataset)),
                train=None if split is None else (split.x_train, split.y_train)))
    return [p for p in written if p is not None]
