"""Reference chains on Dask (``bnncompare reference ... --dask --workers N | --scheduler A``):
the same result as in-process, bit for bit, on real 2-worker LocalClusters on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import numpy as np
import pytest

from bnncompare import reference as ref
from bnncompare.cli import main
from bnncompare.reference.chains import run_chain, run_chains_dask
from bnncompare.reference.run import _job

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                       reason="dask.distributed not installed (pip install -e '.[distributed]')"),
    pytest.mark.slow,
]

# a tiny reference: 2 chains of 10 + 10 iterations at tree depth 3 on the 2-D toy
TINY = ["--chains", "2", "--warmup", "10", "--draws", "10", "--depth", "3", "--no-progress"]


@pytest.fixture(scope="module")
def cluster():
    """Two one-thread worker processes that never rerun a failed task themselves (the one
    retry under test is the driver's)."""
    import dask
    import distributed

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def tasks():
    job = _job("moons", "moons", ref.RunSettings(chains=2, warmup=10, draws=10, depth=3),
               seed=0, hidden=None, label_column=None)
    return job.tasks("torch")


def test_chains_on_dask_equal_in_process_chains_bit_for_bit(cluster, tasks):
    import distributed

    with distributed.Client(cluster) as client:
        done = {r.chain: r for r in run_chains_dask(tasks, client)}
    assert sorted(done) == [0, 1]
    for task in tasks:
        here = run_chain(task)
        np.testing.assert_array_equal(done[task.chain].draws, here.draws)
        for name, proba in here.proba.items():
            np.testing.assert_array_equal(done[task.chain].proba[name], proba)
        assert done[task.chain].stats["n_grad_evals"] == here.stats["n_grad_evals"]


def test_a_chain_that_fails_is_retried_once_then_named(cluster, tasks):
    import distributed

    broken = dataclasses.replace(tasks[1], backend="nope")  # fails on every worker
    logs: list[str] = []
    with distributed.Client(cluster) as client, \
            pytest.raises(ValueError, match=r"reference moons chain 1 \(seed \d+\) failed on "
                                            r"Dask twice \(ValueError: unknown backend"):
        list(run_chains_dask([tasks[0], broken], client, log=logs.append))
    assert len(logs) == 1 and "moons chain 1" in logs[0] and "retrying once" in logs[0]


def _stored(folder):
    meta = json.loads((folder / "moons" / "reference.json").read_text())
    with np.load(folder / "moons" / "predictive.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    chains = [{k: v for k, v in c.items() if k != "wall_s"} for c in meta["chains"]]
    return arrays, chains, meta


def test_cli_on_a_local_cluster_and_on_a_scheduler_equals_in_process(tmp_path, cluster, capsys):
    assert main(["reference", "moons", *TINY, "--out", str(tmp_path / "here")]) == 0
    assert main(["reference", "moons", *TINY, "--dask", "--workers", "2",
                 "--out", str(tmp_path / "local")]) == 0
    assert main(["reference", "moons", *TINY, "--scheduler", cluster.scheduler_address,
                 "--out", str(tmp_path / "remote")]) == 0
    here_arrays, here_chains, here_meta = _stored(tmp_path / "here")
    for run in ("local", "remote"):
        arrays, chains, meta = _stored(tmp_path / run)
        assert arrays.keys() == here_arrays.keys()
        for name, array in arrays.items():
            np.testing.assert_array_equal(array, here_arrays[name])
        assert chains == here_chains and meta["diagnostics"] == here_meta["diagnostics"]
    assert _stored(tmp_path / "local")[2]["provenance"]["engine"] == "dask LocalCluster of 2"
    assert _stored(tmp_path / "remote")[2]["provenance"]["engine"].startswith(
        "dask scheduler tcp://127.0.0.1:")


def test_cli_scheduler_with_workers_exits_2_with_one_line(tmp_path, capsys):
    argv = ["reference", "moons", *TINY, "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2",
            "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give --scheduler alone" in err
