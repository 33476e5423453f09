"""The instruction gate's verdict: per kernel, HEAD's count against BASE's, each within its limit.

An instruction count is deterministic to a fraction of a percent where a wall-clock median on
a shared VM moves by a factor of e^0.3, so a kernel fails on its own: HEAD's count above
BASE's by more than the kernel's limit (:data:`DEFAULT_LIMIT`, wider where :data:`LIMITS`
says so, from repeated A/A counts). A count is not a time: a kernel that does the same
instructions slower (a cache-hostile layout, a lock) passes here and is the wall-clock gate's
to find; one faster kernel never offsets a slower one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DEFAULT_LIMIT", "LIMITS", "Row", "compare_counts", "exit_code", "limit_for",
           "render"]

#: a kernel fails when HEAD counts more than (1 + limit) times BASE's instructions
DEFAULT_LIMIT = 0.03
#: kernels whose A/A counts move more than the default allows, and their (measured) limits.
#: A kernel's limit is at least 3x the largest |log ratio| of its counts between identical
#: commits (16 counts, 120 pairs, on the 2-core development VM): every kernel but one moved
#: at most 0.54 %; the batched NUTS gradient (20 short calls: the least work per count)
#: moved up to 1.37 %, hence 5 %.
LIMITS: dict[str, float] = {"grad/nuts-batched": 0.05}


def limit_for(name: str, default: float = DEFAULT_LIMIT) -> float:
    """The growth limit of kernel ``name``."""
    return LIMITS.get(name, default)


@dataclass(frozen=True)
class Row:
    """One kernel's comparison; ``status`` is ``ok``, ``SLOWER``, ``workload changed``,
    ``new`` (HEAD only) or ``gone`` (BASE only)."""

    name: str
    base: int | None
    head: int | None
    limit: float
    status: str

    @property
    def ratio(self) -> float:
        """HEAD / BASE (NaN where one side is missing)."""
        return self.head / self.base if self.base and self.head else math.nan


def compare_counts(base: dict[str, dict], head: dict[str, dict],
                   default: float = DEFAULT_LIMIT) -> list[Row]:
    """Compare two count files' kernels (``{name: {"workload", "instructions"}}``)."""
    rows = []
    for name in [*head, *(n for n in base if n not in head)]:
        b, h = base.get(name), head.get(name)
        limit = limit_for(name, default)
        if b is None or h is None:
            rows.append(Row(name, b and b["instructions"], h and h["instructions"], limit,
                            "new" if b is None else "gone"))
            continue
        if b["workload"] != h["workload"]:
            status = "workload changed"
        else:
            status = "SLOWER" if h["instructions"] > (1 + limit) * b["instructions"] else "ok"
        rows.append(Row(name, b["instructions"], h["instructions"], limit, status))
    return rows


def exit_code(rows: list[Row]) -> int:
    """1 if a kernel is slower, 2 if no kernel was comparable, else 0."""
    if any(r.status == "SLOWER" for r in rows):
        return 1
    return 0 if any(r.status == "ok" for r in rows) else 2


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def render(rows: list[Row]) -> list[str]:
    """One line per kernel, then the verdict line; every line says "instructions"."""
    width = max((len(r.name) for r in rows), default=0)
    lines = []
    for r in rows:
        ratio = "" if math.isnan(r.ratio) else f" ratio {r.ratio:.4f}"
        lines.append(f"instructions: {r.name:<{width}}  base {_count(r.base):>14}  "
                     f"head {_count(r.head):>14}{ratio}  {r.status} "
                     f"(limit +{100 * r.limit:g} %)")
    slower = [r for r in rows if r.status == "SLOWER"]
    code = exit_code(rows)
    if code == 1:
        named = ", ".join(f"{r.name} (+{100 * (r.ratio - 1):.1f} %)" for r in slower)
        lines.append(f"instructions: FAIL: {len(slower)} kernel(s) grew past their limit: "
                     f"{named}")
    elif code == 2:
        lines.append("instructions: unusable: no kernel has the same workload on both sides")
    else:
        n_ok = sum(r.status == "ok" for r in rows)
        lines.append(f"instructions: PASS ({n_ok} kernels within their limits)")
    return lines
