"""The one reader of pytest-benchmark JSON, shared by the gate, the report, the sweep and CI.

It owns four rules that every consumer must apply the same way:

* **reading**: the gate and the report read a run with :func:`read_run`; code that only
  counts, merges or passes on its entries (the sweep, the shards' merge, the Dask driver, the
  CI scripts) uses :func:`read_doc`, :func:`entries`, :func:`count_entries` and
  :func:`write_doc`, so a 0-byte or malformed file gets the same clear error wherever it
  turns up;
* **validation**: what makes a file usable (every problem is a :class:`BenchJSONError` whose
  message starts with the file name, so a command line prints one line and exits 2);
* **identity**: a benchmark is its group, test function, ``params`` and
  ``extra_info["workload"]`` (everything else that changes the work), not its pytest node id;
* **normalisation**: a time is divided by the median of the same run's calibration medians
  of the benchmark's kind (``dispatch``, small-tensor work, unless the benchmark names
  ``gemm``, batched matrix products; see :mod:`bnncompare.peers.calibration` and
  :func:`calibration_kind`). In a run merged from shards (``bnncompare run --workers``),
  "the same run" is the benchmark's own shard (``extra_info["shard"]``): each shard was one
  process on one worker that calibrated itself, so a slow worker's cells are divided by that
  worker's calibration, never by a fast worker's (:func:`shard_scales`).

The schema is ``docs/benchmark-json.md``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CALIBRATION_GROUP",
    "DEFAULT_KIND",
    "GROUPS",
    "BenchJSONError",
    "BenchRun",
    "calibration_kind",
    "calibration_scales",
    "count_entries",
    "cpu_model",
    "entries",
    "identity",
    "read_doc",
    "read_run",
    "run_device",
    "run_profile",
    "scale_for",
    "shard_of",
    "shard_scales",
    "write_doc",
]

CALIBRATION_GROUP = "calibration"
GROUPS = ("fit", "predict", "peers", CALIBRATION_GROUP)
#: calibration kind of entries that name none (every run before per-kind calibration)
DEFAULT_KIND = "dispatch"
#: the ``extra_info`` key naming the shard (one pytest process) a merged benchmark ran in
SHARD_KEY = "shard"


class BenchJSONError(ValueError):
    """A benchmark JSON that cannot be used; the message is ``"<file>: <problem>"``."""


@dataclass(frozen=True)
class BenchRun:
    """One validated ``--benchmark-json`` file.

    Attributes
    ----------
    path : str
        The file it came from (used in messages).
    machine_info, commit_info : dict
        The file's ``machine_info`` and ``commit_info`` (``{}`` when absent).
    datetime : str or None
    benchmarks : list of dict
        The ``benchmarks`` entries, each with ``group`` in :data:`GROUPS`, a positive
        ``stats.median``, ``stats.data`` a non-empty list of positive round times (the median
        alone when the file has no round data), and ``params``/``extra_info`` dicts.
    scales : dict of str to float
        :func:`calibration_scales` of the entries: the normalisation unit per kind, pooled
        over the whole file.
    shard_scales : dict of str to dict
        :func:`shard_scales` of the entries: per shard of a merged run, its own units
        (``{}`` for a run that was not sharded).
    """

    path: str
    machine_info: dict
    commit_info: dict
    datetime: str | None
    benchmarks: list
    scales: dict
    shard_scales: dict = field(default_factory=dict)

    def scale(self, entry: dict) -> float:
        """The calibration time ``entry`` is divided by (NaN without calibration): its
        shard's calibration when the shard calibrated itself, else the file's."""
        return self.scale_of(calibration_kind(entry), shard_of(entry))

    def scale_of(self, kind: str, shard: str | None = None) -> float:
        """The calibration time of ``kind`` (else ``dispatch``, else NaN) in ``shard``'s own
        calibration when that shard calibrated itself, else in the file's."""
        scales = self.shard_scales.get(None if shard is None else str(shard), self.scales)
        return _kind_scale(kind, scales)


def read_run(path) -> BenchRun:
    """Read and validate one pytest-benchmark JSON.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    BenchRun

    Raises
    ------
    BenchJSONError
        Missing or unreadable file, empty file (``/dev/null`` included), not JSON, not
        pytest-benchmark output, no benchmarks, or a malformed entry.
    """
    path = Path(path)
    doc = _load(path)
    checked = [_entry(e, i, path) for i, e in enumerate(doc["benchmarks"])]
    return BenchRun(str(path), doc["machine_info"], _dict(doc.get("commit_info")),
                    doc.get("datetime"), checked, calibration_scales(checked),
                    shard_scales(checked))


def read_doc(path, *, allow_empty: bool = False) -> dict | None:
    """Read one pytest-benchmark JSON as it is, its entries unchecked: for code that counts,
    merges or passes on a run's entries rather than comparing them (:func:`read_run`).

    Parameters
    ----------
    path : str or os.PathLike
    allow_empty : bool, default False
        Read a missing or blank file as None instead of raising: what pytest-benchmark
        leaves when no benchmark ran (it creates the file at start-up and writes it at the
        end, only if something was timed), which a sweep counts as "nothing ran".

    Returns
    -------
    dict or None
        The document: an object whose ``benchmarks`` is a list, maybe empty.

    Raises
    ------
    BenchJSONError
        Missing, unreadable or empty file (unless ``allow_empty``), not JSON, or not an
        object with a ``benchmarks`` list.
    """
    path = Path(path)
    raw = _read_bytes(path, allow_empty)
    return None if raw is None else _parse(raw, path, (("benchmarks", list),))


def entries(doc: dict | None) -> list:
    """The benchmark entries of a document from :func:`read_doc` (the list itself, so a
    merge can annotate them in place); ``[]`` for None (nothing ran)."""
    return [] if doc is None else doc["benchmarks"]


def count_entries(doc: dict | None) -> int:
    """How many benchmark entries a document from :func:`read_doc` holds (0 for None)."""
    return len(entries(doc))


def write_doc(path, doc: dict) -> None:
    """Write a benchmark document (a merged run) as pytest-benchmark's JSON.

    The file is replaced whole (written beside it, then renamed), so a reader, or a run
    interrupted mid-write, never sees half a file.

    Parameters
    ----------
    path : str or os.PathLike
    doc : dict
        An object with a ``benchmarks`` list, as pytest-benchmark writes.

    Raises
    ------
    BenchJSONError
        ``doc`` has no ``benchmarks`` list (it could not be read back).
    """
    path = Path(path)
    if not isinstance(doc.get("benchmarks"), list):
        raise BenchJSONError(f"{path}: refusing to write a document without a 'benchmarks' list")
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(doc, indent=1))
    part.replace(path)


def _load(path: Path) -> dict:
    doc = _parse(_read_bytes(path), path, (("machine_info", dict), ("benchmarks", list)))
    if not doc["benchmarks"]:
        raise BenchJSONError(f"{path}: contains no benchmarks")
    return doc


def _read_bytes(path: Path, allow_empty: bool = False) -> bytes | None:
    """The file's bytes; None for a missing or blank file when ``allow_empty``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if allow_empty:
            return None
        raise BenchJSONError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BenchJSONError(f"{path}: is a directory, not a JSON file") from None
    except OSError as exc:
        raise BenchJSONError(f"{path}: cannot read ({exc.strerror})") from None
    if not raw.strip():
        if allow_empty:
            return None
        raise BenchJSONError(
            f"{path}: file is empty (0 bytes); pytest-benchmark writes an empty file when no "
            "benchmark ran (all skipped or disabled, or run under xdist)")
    return raw


def _parse(raw: bytes, path: Path, required: tuple) -> dict:
    """The JSON object in ``raw``, with each ``(key, type)`` of ``required``."""
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BenchJSONError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise BenchJSONError(
            f"{path}: not pytest-benchmark output (top level is {type(doc).__name__}, "
            "expected an object with 'machine_info' and 'benchmarks')")
    for key, kind in required:
        if not isinstance(doc.get(key), kind):
            raise BenchJSONError(
                f"{path}: not pytest-benchmark output (no '{key}' {kind.__name__})")
    return doc


def _entry(entry: Any, i: int, path: Path) -> dict:
    where = f"{path}: benchmark #{i}"
    if not isinstance(entry, dict):
        raise BenchJSONError(f"{where} is not an object")
    where = f"{where} ({entry.get('name', '?')})"
    if entry.get("group") not in GROUPS:
        raise BenchJSONError(
            f"{where} has group {entry.get('group')!r}; expected one of {', '.join(GROUPS)}")
    stats = entry.get("stats")
    if not isinstance(stats, dict) or not _positive(stats.get("median")):
        raise BenchJSONError(f"{where} has no numeric stats.median")
    data = stats.get("data")
    data = [stats["median"]] if data is None else data
    if not (isinstance(data, list) and data and all(_positive(t) for t in data)):
        raise BenchJSONError(f"{where}: stats.data is not a list of positive round times")
    params, extra = entry.get("params") or {}, entry.get("extra_info") or {}
    if not isinstance(params, dict) or not isinstance(extra, dict):
        raise BenchJSONError(f"{where}: params and extra_info must be objects")
    name = entry.get("name") or str(entry.get("fullname", "")).split("::")[-1]
    return {**entry, "name": name, "fullname": entry.get("fullname") or name,
            "params": params, "extra_info": extra,
            "stats": {**stats, "data": [float(t) for t in data]}}


def _positive(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


# --------------------------------------------------------------------------- identity


def identity(entry: dict) -> tuple[str, str]:
    """``(name, workload)`` of a benchmark entry.

    ``name`` is ``group:function{params}`` (params as sorted JSON): what a user calls the
    benchmark. ``workload`` is ``extra_info["workload"]`` as sorted JSON, or ``""`` for a
    file written before workloads were recorded (then params alone identify it). Two entries
    are the same benchmark when both parts are equal; equal names with different workloads
    are the same question asked of different work, which must not be compared.
    """
    function = entry["name"].split("[", 1)[0]
    params = json.dumps(entry.get("params") or {}, sort_keys=True, default=str)
    workload = entry.get("extra_info", {}).get("workload")
    work = "" if workload is None else json.dumps(workload, sort_keys=True, default=str)
    return f"{entry['group']}:{function}{params}", work


def run_profile(run: BenchRun) -> str | None:
    """The profile a run was made with: ``machine_info["profile"]``, else the entries'."""
    profile = run.machine_info.get("profile")
    if profile:
        return str(profile)
    named = {b["extra_info"].get("profile") for b in run.benchmarks} - {None}
    return str(named.pop()) if len(named) == 1 else None


def run_device(machine_info: dict) -> str:
    """Where a run's estimators ran: ``machine_info["device"]`` (``bnncompare run --device``),
    ``"cpu"`` when absent (every run before ``--device`` existed ran on the CPU)."""
    return str(machine_info.get("device") or "cpu")


def cpu_model(run: BenchRun) -> str | None:
    """The CPU brand string pytest-benchmark recorded (``machine_info.cpu.brand_raw``)."""
    cpu = run.machine_info.get("cpu")
    brand = cpu.get("brand_raw") if isinstance(cpu, dict) else None
    return str(brand).strip() if brand else None


# --------------------------------------------------------------------------- normalisation


def calibration_kind(entry: dict) -> str:
    """The calibration kind that suits a benchmark (or that a calibration entry measures).

    A calibration entry's kind is its ``params["kind"]``; any other entry's is its
    ``extra_info["calibration_kind"]``; ``dispatch`` when absent.

    Why ``dispatch`` by default, predict cells included (measured on the smoke
    runs of an Intel Xeon and an AMD EPYC, with the raw batched-matmul floor peer standing in
    for the gemm calibration those runs predate): dispatch-only calibration left the
    AMD/Intel ratios of 39 benchmarks at 0.55-2.59 (sd of log ratio 0.34, 6 above 1.5);
    normalising every predict cell by gemm made it worse (0.30-1.38, sd 0.45: small predict
    cells are dispatch-bound too); the best size rule found afterwards on the same data (gemm
    for Bayesian predict cells with S x rows >= 1e4) reached only 0.54-1.63, sd 0.27. No rule
    makes ratios hold across CPU models within the gate's 1.5, so the gate never compares
    across CPU models, and a benchmark opts into ``gemm`` explicitly.
    """
    if entry["group"] == CALIBRATION_GROUP:
        return str(entry.get("params", {}).get("kind") or DEFAULT_KIND)
    return str(entry.get("extra_info", {}).get("calibration_kind") or DEFAULT_KIND)


def calibration_scales(entries: list) -> dict:
    """The normalisation unit of one run: per calibration kind, the median of its medians.

    A run times each calibration workload at its start, middle and end; the median of the
    three ignores one disturbed reading (a neighbour's burst) where a mean would not.
    """
    medians: dict[str, list[float]] = {}
    for entry in entries:
        if entry["group"] == CALIBRATION_GROUP:
            medians.setdefault(calibration_kind(entry), []).append(entry["stats"]["median"])
    return {kind: float(np.median(values)) for kind, values in medians.items()}


def scale_for(entry: dict, scales: dict) -> float:
    """The calibration time ``entry`` is divided by: its kind's, else ``dispatch``'s, else NaN.

    Runs recorded before the ``gemm`` calibration existed have only ``dispatch``; every
    benchmark of such a run is normalised by it, as it always was.
    """
    return _kind_scale(calibration_kind(entry), scales)


def _kind_scale(kind: str, scales: dict) -> float:
    return float(scales.get(kind, scales.get(DEFAULT_KIND, math.nan)))


def shard_of(entry: dict) -> str | None:
    """The shard (one pytest process of a merged run) ``entry`` ran in, or None."""
    shard = entry.get("extra_info", {}).get(SHARD_KEY)
    return None if shard is None else str(shard)


def shard_scales(entries: list) -> dict:
    """Per shard of a merged run, :func:`calibration_scales` of that shard's own calibration
    entries; ``{}`` when no calibration entry names a shard (a run made in one process).

    A benchmark whose shard has no calibration (none should: every shard calibrates first)
    falls back to the pooled scales in :meth:`BenchRun.scale`.
    """
    by_shard: dict[str, list] = {}
    for entry in entries:
        shard = shard_of(entry)
        if entry["group"] == CALIBRATION_GROUP and shard is not None:
            by_shard.setdefault(shard, []).append(entry)
    return {shard: calibration_scales(group) for shard, group in by_shard.items()}
