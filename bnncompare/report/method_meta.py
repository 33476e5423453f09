"""What the report knows about a method: read from its class in the registry, never by name.

A benchmark JSON may hold a method that is not installed here; it still gets a label (its
name), a colour (the next free one of matplotlib's ``tab10``) and a place in the order
(after the registered methods, alphabetically).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import matplotlib
import pandas as pd

__all__ = ["MethodStyle", "label_of", "method_order", "method_styles", "reference_method",
           "registry"]

#: the fallback palette for methods whose class sets no colour or that are not installed
PALETTE = tuple(matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["tab10"].colors)
OTHER_COLOR = "#555555"


@dataclass(frozen=True)
class MethodStyle:
    """Display metadata of one method: ``label``, ``color`` and ``point_estimate``."""

    label: str
    color: str
    point_estimate: bool


def registry() -> dict:
    """The installed methods (name -> estimator class), read at call time so that methods
    registered by entry points after import are seen."""
    from bnncompare import methods

    return dict(methods.METHODS)


def _present(names: Iterable[object]) -> list[str]:
    return sorted({str(n) for n in names if n is not None and not pd.isna(n)})


def method_order(names: Iterable[object]) -> list[str]:
    """``names`` (deduplicated) in registry order, then the unknown ones alphabetically."""
    present = set(_present(names))
    known = [n for n in registry() if n in present]
    return known + sorted(present - set(known))


def method_styles(names: Iterable[object]) -> dict[str, MethodStyle]:
    """Label, colour and point-estimate flag for each of ``names``, in :func:`method_order`.

    Colours come from the class (``color``); a class without one, or a method that is not
    installed, takes the next ``tab10`` colour that no registered class and no earlier
    method uses, so colours stay distinct and the same data always gets the same colours.
    """
    reg = registry()
    used = {c for c in (getattr(cls, "color", None) for cls in reg.values()) if c}
    free = [c for c in PALETTE if c not in used]
    styles = {}
    for name in method_order(names):
        cls = reg.get(name)
        color = getattr(cls, "color", None) if cls is not None else None
        if not color:
            color = free.pop(0) if free else OTHER_COLOR
        label = cls.method_label() if cls is not None else name
        point = bool(getattr(cls, "point_estimate", False)) if cls is not None else False
        styles[name] = MethodStyle(label=label, color=color, point_estimate=point)
    return styles


def reference_method(names: Iterable[object]) -> str | None:
    """The first registered point estimate among ``names`` (the baseline of comparisons),
    or None when none is present."""
    for name, style in method_styles(names).items():
        if style.point_estimate:
            return name
    return None


def label_of(name: object, styles: dict[str, MethodStyle] | None = None) -> str:
    """Display label of ``name`` (from ``styles`` when given, else from the registry)."""
    styles = styles if styles is not None else method_styles([name])
    style = styles.get(str(name))
    return style.label if style is not None else str(name)
