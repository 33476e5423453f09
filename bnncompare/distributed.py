"""``bnncompare run --workers N | --scheduler ADDRESS``: the sweep's shards on Dask.

The driver collects the cells, packs them into shards (:mod:`bnncompare.shards`), submits one
task per shard and merges the shards' JSON into one run. Each task runs one
``pytest benchmarks ... <node ids>`` subprocess on its worker, calibration included, and sends
the JSON back (no shared file system needed; the workers need this checkout at the same path).

A shard that fails or whose worker dies is retried once with only its unfinished cells; cells
still unfinished after that are named missing. The merged run is rewritten after every shard,
so Ctrl-C (which cancels the remaining tasks) keeps every finished cell.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from bnncompare import benchjson, shards
from bnncompare.profiles import Profile
from bnncompare.sweep import SweepResult, _keep_results, benchmark_command, benchmarks_dir

__all__ = ["dask_client", "require_distributed", "run_distributed", "run_shard"]

#: the one retry of a shard's unfinished cells
RETRIES = 1


def require_distributed():
    """The ``distributed`` module, or a ValueError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise ValueError("--workers/--scheduler need Dask: pip install -e '.[distributed]'"
                         ) from None
    return distributed


def _die_with_parent() -> None:
    """Linux: SIGKILL the shard's pytest when the worker thread that started it dies, so a
    killed or closed worker leaves no benchmark running behind it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_shard(spec: dict) -> dict:
    """Run one shard on this Dask worker; its pytest-benchmark JSON (None if nothing ran),
    exit code and the last lines of its output. The shard's pytest finds its name in
    ``$BNNCOMPARE_SHARD`` (:data:`bnncompare.shards.SHARD_ENV`)."""
    from distributed import get_worker

    worker = get_worker()
    bench = Path(spec["bench"])
    if not (bench / "conftest.py").is_file():
        raise FileNotFoundError(f"worker {worker.name}: no bnncompare checkout at {bench}")
    with tempfile.TemporaryDirectory() as tmp:
        out, skipped = Path(tmp) / "shard.json", Path(tmp) / "skipped.txt"
        cmd = benchmark_command(spec["profile"], spec["methods"], out,
                                targets=spec["nodeids"], rootdir=bench.parent,
                                device=spec["device"], seeds=spec.get("seeds"),
                                extra=["-q", "-p", "bnncompare.shards"])
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               shards.SKIPPED_ENV: str(skipped), shards.SHARD_ENV: spec["shard"]}
        proc = subprocess.run(cmd, cwd=bench.parent, capture_output=True, text=True, env=env,
                              preexec_fn=_die_with_parent, check=False)
        doc = benchjson.read_doc(out, allow_empty=True)  # None: no benchmark ran
        skips = skipped.read_text().split() if skipped.is_file() else []
    return {"shard": spec["shard"], "worker": str(worker.name), "address": worker.address,
            "returncode": proc.returncode, "json": doc, "skipped": skips,
            "log": "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])}


def _client(distributed, workers: int | None, scheduler: str | None):
    """A client of a new LocalCluster (``workers``) or of a running scheduler."""
    if scheduler:
        try:
            return distributed.Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as err:
            raise ValueError(f"cannot reach the Dask scheduler at {scheduler} ({err})") from None
    import dask

    # the driver retries a shard itself (once); the scheduler must not silently rerun it
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                           processes=True, host="127.0.0.1",
                                           dashboard_address=None)
    client = distributed.Client(cluster)
    client.cluster_owned = cluster
    return client


def _close(client) -> None:
    cluster = getattr(client, "cluster_owned", None)
    client.close()
    if cluster is not None:
        cluster.close()


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None):
    """A Dask client, closed on exit (with the LocalCluster it started, if any).

    Exactly one of ``workers`` (a new LocalCluster on 127.0.0.1 of that many one-thread
    worker processes, which never rerun a failed task themselves: the caller retries) and
    ``scheduler`` (the address of a running Dask scheduler) is given.

    Raises
    ------
    ValueError
        Both or neither given, ``workers < 1``, Dask not installed, or the scheduler
        unreachable.
    """
    if (workers is None) == (scheduler is None):
        raise ValueError("give exactly one of --workers and --scheduler")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    client = _client(require_distributed(), workers, scheduler)
    try:
        yield client
    finally:
        _close(client)


def run_distributed(profile: Profile, out: Path, *, keyword: str | None = None,
                    workers: int | None = None, scheduler: str | None = None,
                    n_shards: int | None = None, device: str = "cpu",
                    log=print) -> SweepResult:
    """Run the sweep's shards on Dask into ``out/raw/<profile>.json`` (``.partial.json`` when
    cells are missing or the run was interrupted).

    Exactly one of ``workers`` (a LocalCluster on 127.0.0.1, one thread per worker) and
    ``scheduler`` (the address of a running Dask scheduler) is given. ``n_shards`` defaults
    to the number of workers.
    """
    if (workers is None) == (scheduler is None):
        raise ValueError("give exactly one of --workers and --scheduler")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    distributed = require_distributed()
    bench = benchmarks_dir()
    raw = Path(out) / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    client = _client(distributed, workers, scheduler)
    try:
        items = shards.collect_items(bench, profile, keyword=keyword, device=device)
        calibration = [i.nodeid for i in items if i.test == shards.CALIBRATION]
        measured = shards.measured_costs(raw / f"{profile.name}.json")
        n_workers = len(client.scheduler_info()["workers"]) or 1
        plan = shards.make_shards(profile, items, n_shards or workers or n_workers,
                                  measured=measured)
        log(f"running {sum(len(s.nodeids) for s in plan)} benchmark cells in {len(plan)} "
            f"shards on {n_workers} Dask workers")
        run = {"profile": profile.name, "methods": list(profile.method_names), "device": device,
               "seeds": profile.n_seeds}
        return _drive(client, distributed, plan, calibration, bench, run, raw, profile, log)
    finally:
        _close(client)


def _submit(client, shard: shards.Shard, calibration, bench, run: dict, attempt: int,
            owner: dict):
    """Submit one shard; ``run`` holds its pytest's ``profile``, ``methods`` and ``device``."""
    name = shard.name if attempt == 0 else f"{shard.name}.retry{attempt}"
    spec = {"shard": name, "nodeids": [*calibration, *shard.nodeids], "bench": str(bench),
            **run}
    # a key unique to this run: a scheduler may still hold an earlier run's task of that name
    future = client.submit(run_shard, spec, key=f"bnncompare-{name}-{uuid.uuid4().hex}",
                           pure=False, retries=0)
    owner[future.key] = (shard, attempt)
    return future


def _drive(client, distributed, plan, calibration, bench, run, raw, profile, log):
    """Submit, retry once, merge after every shard; Ctrl-C cancels what is left."""
    owner: dict = {}  # future key -> (shard, attempt)
    futures = [_submit(client, s, calibration, bench, run, 0, owner) for s in plan]
    pending = distributed.as_completed(futures)
    results, missing, interrupted = [], [], False
    tmp = raw / f".{profile.name}.json.tmp"
    tmp.unlink(missing_ok=True)  # an earlier run's leftover is not this run's result
    try:
        for future in pending:
            shard, attempt = owner[future.key]
            result = _result(future, shard, log)
            results.append(result)
            done = {b["fullname"] for b in benchjson.entries(result["json"])}
            done.update(result.get("skipped", []))  # skipped cells are done, not failed
            left = [n for n in shard.nodeids if n not in done]
            if left and attempt < RETRIES:
                retry = shards.Shard(shard.name, tuple(left), 0.0)
                log(f"shard {shard.name}: {len(left)} cell(s) unfinished; retrying them once")
                futures.append(_submit(client, retry, calibration, bench, run, attempt + 1,
                                       owner))
                pending.add(futures[-1])
            elif left:
                missing += left
            _write(tmp, results, missing)
    except KeyboardInterrupt:
        interrupted = True
        results += _salvage(futures, owner, {r["shard"] for r in results}, log)
        client.cancel(futures)
        _write(tmp, results, missing)
    code = pytest.ExitCode.INTERRUPTED if interrupted else pytest.ExitCode.OK
    if not tmp.is_file():
        raise ValueError("no shard finished; nothing written")
    result = _keep_results(tmp, raw, profile.name, code, len(missing))
    return SweepResult(result.json_path, result.n_benchmarks, result.interrupted,
                       result.failed, missing=tuple(sorted(missing)))


def _salvage(futures, owner, done: set, log, grace_s: float = 15.0) -> list[dict]:
    """After Ctrl-C: the shards in flight that come back within ``grace_s`` (a terminal's
    Ctrl-C also interrupts their pytest, which then writes the cells it finished). A second
    Ctrl-C stops the wait."""
    deadline, out = time.monotonic() + grace_s, []
    for future in futures:
        if future.key not in owner or future.status == "cancelled":
            continue
        try:
            result = future.result(timeout=max(0.1, deadline - time.monotonic()))
        except KeyboardInterrupt:
            break
        except Exception:  # timed out, failed, dead worker: nothing to keep
            continue
        if result["shard"] not in done and result.get("json"):
            log(f"shard {result['shard']}: kept {benchjson.count_entries(result['json'])} "
                "benchmarks it finished before the interrupt")
            out.append(result)
    return out


def _result(future, shard, log) -> dict:
    """The shard's result; a failed task (an error, a dead worker) as a result without JSON."""
    try:
        result = future.result()
    except Exception as err:  # a dead worker (KilledWorker), a missing checkout, ...
        log(f"shard {future.key}: failed on its worker ({type(err).__name__}: {err})")
        return {"shard": shard.name, "worker": None, "json": None, "returncode": None}
    ran = benchjson.count_entries(result["json"])
    log(f"shard {result['shard']} on worker {result['worker']}: {ran} benchmarks, "
        f"{len(result.get('skipped', []))} skipped (pytest exit {result['returncode']})")
    return result


def _write(tmp: Path, results: list[dict], missing: list[str]) -> None:
    merged = shards.merge_shards(results, missing)
    if merged:
        benchjson.write_doc(tmp, merged)
