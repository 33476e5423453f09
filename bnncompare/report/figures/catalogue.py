"""Every report figure, by output name, and :func:`write_figures`, which renders those whose
data is present under one matplotlib style."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib
import pandas as pd

from bnncompare.report.figures.entropy_maps import entropy_map, map_datasets, reference_entropy_map
from bnncompare.report.figures.pareto import quality_vs_compute
from bnncompare.report.figures.peers import peer_ratios
from bnncompare.report.figures.quality import quality_vs_num_samples
from bnncompare.report.figures.sweeps import (
    fit_vs_n_train,
    fit_vs_num_samples,
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
    "quality_vs_num_samples": quality_vs_num_samples,
    "quality_vs_compute": quality_vs_compute,
    "peer_ratios": peer_ratios,
}


def write_figures(df: pd.DataFrame, exps: pd.DataFrame, out_dir: Path, *,
                  normalise: bool = False) -> list[Path]:
    """Write every figure whose data is present into ``out_dir``; return the paths written."""
    written = []
    with matplotlib.rc_context(STYLE):
        for name, fn in FIGURES.items():
            written.append(fn(df, exps, out_dir / f"{name}.png", normalise=normalise))
        for dataset in sorted(df.loc[df["phase"] == "fit", "dataset"].dropna().unique()):
            written.append(i_dont_know(df, exps, out_dir / f"i_dont_know_{dataset}.png",
                                       dataset=dataset, normalise=normalise))
        for dataset in sorted(map_datasets(df)):
            written.append(entropy_map(df, exps, out_dir / f"entropy_map_{dataset}.png",
                                       dataset=dataset, reference=reference_entropy_map(dataset)))
    return [p for p in written if p is not None]
