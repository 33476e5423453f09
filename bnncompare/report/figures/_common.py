"""What every report figure shares: the method styles, the blank Agg figure, the PNG save
settings and the axis helpers (plain-number log ticks, ticks at the measured values)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from bnncompare.report.method_meta import OTHER_COLOR, MethodStyle, method_styles

__all__ = [
    "AXIS_LABEL",
    "SAVE",
    "_measured_ticks",
    "_new_figure",
    "_plain_log",
    "_save",
    "_short_machine",
    "_style",
    "_time_label",
    "styles_of",
]

# no timestamp or software tag, so the same input renders the same bytes
SAVE = {"dpi": 110, "metadata": {"Software": None}, "bbox_inches": None}
AXIS_LABEL = {"n_train": "training rows n", "n_test": "test rows", "num_samples":
              "posterior draws S", "n_params": "parameters P (weights and biases)"}


def styles_of(df: pd.DataFrame) -> dict[str, MethodStyle]:
    """Label and colour of every method in the fit and predict benchmarks of ``df`` (peers
    and calibration name implementations, not methods, and take no colour)."""
    return method_styles(df.loc[df["phase"].isin(["fit", "predict"]), "method"])


def _style(styles: dict[str, MethodStyle], method: object) -> MethodStyle:
    found = styles.get(str(method))
    return found or MethodStyle(label=str(method), color=OTHER_COLOR, point_estimate=False)


def _new_figure(width: float = 6.4, height: float = 4.4) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", **SAVE)
    return path


def _short_machine(machine: str) -> str:
    return str(machine).split(" (")[0]


def _plain_log(axis) -> None:
    """Log scale labelled 1, 2, 5, 10, 20, ... in plain numbers (no 6x10^1 minor labels)."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _measured_ticks(ax, values) -> None:
    """Tick the x axis at every measured value, labelled in plain numbers, and nowhere else
    (a log axis otherwise labels only powers of ten, leaving e.g. 25 and 400 unnamed)."""
    ticks = sorted({float(v) for v in values if pd.notna(v)})
    ax.set_xticks(ticks, labels=[f"{v:g}" for v in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    if len(ticks) > 7:
        ax.tick_params(axis="x", labelrotation=45)


def _time_label(normalise: bool) -> str:
    return "time / calibration time" if normalise else "time (s)"
