"""Report figures (PNG, Agg, no pyplot state): one module per figure family.

Each figure function takes the tidy frame (and the exponent table where it draws fits), writes
one PNG and returns its path, or returns ``None`` without writing when its data is absent. A
method's label and colour come from its class (:mod:`bnncompare.report.method_meta`), the
same in every figure; no method is named here. Log axes over a measured design (sizes,
draws) are ticked at exactly the measured values. PNGs carry no timestamp or software tag,
so the same input renders the same bytes on the same matplotlib. Figures read no file: the
caller loads what they draw beyond the frame (reference posteriors, training splits) and
passes it to :func:`write_figures`.

- :mod:`~bnncompare.report.figures.sweeps`: time vs training rows, test rows, draws S,
  parameters P
- :mod:`~bnncompare.report.figures.quality`: test NLL and ECE vs draws S
- :mod:`~bnncompare.report.figures.pareto`: quality vs compute, with the Pareto front
- :mod:`~bnncompare.report.figures.entropy_maps`: predictive entropy over a 2-D plane
- :mod:`~bnncompare.report.figures.peers`: peer implementations vs bnncompare
- :mod:`~bnncompare.report.figures.uncertainty`: "I don't know": test vs OOD entropy
- :mod:`~bnncompare.report.figures.catalogue`: every figure, and :func:`write_figures`
"""

from __future__ import annotations

# not public, but importable from here as before: bnncompare.report.devices draws its
# figure with the shared helpers, and tests read the entropy map's rows
from bnncompare.report.figures._common import AXIS_LABEL as AXIS_LABEL
from bnncompare.report.figures._common import _measured_ticks as _measured_ticks
from bnncompare.report.figures._common import _new_figure as _new_figure
from bnncompare.report.figures._common import _plain_log as _plain_log
from bnncompare.report.figures._common import _save as _save
from bnncompare.report.figures._common import _style as _style
from bnncompare.report.figures._common import styles_of
from bnncompare.report.figures.catalogue import FIGURES, write_figures
from bnncompare.report.figures.entropy_maps import _map_rows as _map_rows
from bnncompare.report.figures.entropy_maps import (
    entropy_map,
    entropy_map_figure,
    map_datasets,
    reference_panel,
)
from bnncompare.report.figures.pareto import curve_figure, quality_vs_compute
from bnncompare.report.figures.peers import PEER_COLOR, peer_ratios
from bnncompare.report.figures.quality import quality_vs_num_samples
from bnncompare.report.figures.sweeps import (
    fit_vs_n_params,
    fit_vs_n_train,
    fit_vs_num_samples,
    predict_vs_n_params,
    predict_vs_n_test,
    predict_vs_num_samples,
    sweep_figure,
)
from bnncompare.report.figures.uncertainty import i_dont_know

__all__ = [
    "FIGURES",
    "PEER_COLOR",
    "curve_figure",
    "entropy_map",
    "entropy_map_figure",
    "fit_vs_n_params",
    "fit_vs_n_train",
    "fit_vs_num_samples",
    "i_dont_know",
    "map_datasets",
    "peer_ratios",
    "predict_vs_n_params",
    "predict_vs_n_test",
    "predict_vs_num_samples",
    "quality_vs_compute",
    "quality_vs_num_samples",
    "reference_panel",
    "styles_of",
    "sweep_figure",
    "write_figures",
]
