"""A method from outside the package, registered by an entry point, runs everywhere.

The test builds a real wheel of a tiny plugin distribution (one module, one entry point in the
group ``bnncompare.methods``), installs it with pip into a temporary folder, and runs — in
subprocesses that see that folder — the registry, the sweep (``bnncompare run --methods``), the
report, and the estimator contract tests. The plugin subclasses ``BaseMLPClassifier``,
implements ``_fit`` and ``_draws`` and sets nothing else: every harness runs on defaults.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NAME = "jitter"

PLUGIN_SOURCE = '''
"""MAP weights plus Gaussian jitter: a deliberately naive 'posterior' from outside bnncompare."""
import torch

from bnncompare import net
from bnncompare.methods.base import BaseMLPClassifier


class JitterClassifier(BaseMLPClassifier):
    def _fit(self, x, y):
        gen = torch.Generator().manual_seed(self.seed_)
        theta = net.init_theta(self.spec_, gen).to(x.device).requires_grad_()
        optimiser = torch.optim.Adam([theta], lr=0.05)
        for _ in range(60):
            loss = (net.nll_sum(net.logits(self.spec_, theta, x), y)
                    + 0.5 * theta.pow(2).sum()) / len(y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        self.theta_ = theta.detach()
        self.n_grad_evals_ = 60

    def _draws(self, num):
        noise = torch.randn(num, self.n_params_, generator=self._generator(1),
                            device=self.device_)
        return self.theta_ + 0.05 * noise
'''


def _record_line(name: str, payload: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(payload).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(payload)}"


def _build_wheel(folder: Path) -> Path:
    """A minimal valid wheel: the module plus dist-info with the entry point."""
    info = "bnnjitter-0.1.dist-info"
    files = {
        "bnnjitter.py": PLUGIN_SOURCE.encode(),
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: bnnjitter\nVersion: 0.1\n",
        f"{info}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: bnncompare-tests\n"
                          b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        f"{info}/entry_points.txt": (
            f"[bnncompare.methods]\n{NAME} = bnnjitter:JitterClassifier\n").encode(),
    }
    record = [_record_line(name, payload) for name, payload in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    wheel = folder / "bnnjitter-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, payload in files.items():
            archive.writestr(name, payload)
    return wheel


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    """Environment of a subprocess that has the plugin installed (pip, into a temp target)."""
    tmp = tmp_path_factory.mktemp("plugin")
    wheel = _build_wheel(tmp)
    target = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
                    "--no-deps", "--target", str(target), str(wheel)], check=True)
    path = os.pathsep.join([str(target), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "PYTHONHASHSEED": "0"}


def _python(env, *args, timeout=300) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def test_plugin_joins_the_registry(plugin_env):
    out = _python(plugin_env, "-c", "import bnncompare as bc, json; print(json.dumps("
                  "[list(bc.METHODS), bc.METHODS['jitter'].method_label()]))").stdout
    names, label = json.loads(out.splitlines()[-1])
    assert names == ["nn", "svi", "nuts", NAME] or names[-1] == NAME
    assert label == "Jitter"  # class name minus "Classifier": nothing set by the plugin


def test_plugin_without_install_is_absent():
    import bnncompare as bc

    assert NAME not in bc.METHODS


@pytest.mark.slow
def test_plugin_runs_in_sweep_and_report(plugin_env, tmp_path):
    keyword = f"calibration or {NAME} or (nn and n300)"
    _python(plugin_env, "-m", "bnncompare.cli", "run", "--profile", "smoke", "--methods",
            f"nn,{NAME}", "--out", str(tmp_path), "-k", keyword)
    run = json.loads((tmp_path / "raw" / "smoke.json").read_text())
    assert run["machine_info"]["methods"] == ["nn", NAME]
    cells = [b for b in run["benchmarks"] if b["params"].get("method") == NAME]
    kinds = {(b["group"], b["extra_info"]["axis"]) for b in cells}
    # every sweep a built-in method gets, the model-size axis included
    assert kinds == {("fit", "n_train"), ("fit", "none"), ("fit", "n_params"),
                     ("predict", "num_samples"), ("predict", "n_test"), ("predict", "n_params")}
    assert {b["params"]["method"] for b in run["benchmarks"] if b["group"] == "fit"} == {
        "nn", NAME}
    for entry in cells:  # defaults everywhere: quality, cost and a sensible fit
        assert entry["extra_info"]["n_grad_evals"] == 60
        assert entry["extra_info"]["accuracy"] > 0.5
    quality = pd.read_csv(tmp_path / "tables" / "quality.csv")
    assert NAME in set(quality["method"]) | set(quality.get("label", []))


@pytest.mark.slow
def test_plugin_passes_the_contract_tests(plugin_env):
    proc = _python(plugin_env, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   str(ROOT / "tests" / "methods" / "test_contract.py"), "-k", NAME,
                   "-m", "not slow", "-n", "0")  # one process: this test already has a core
    summary = proc.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary, summary
    assert int(summary.split(" passed")[0].split()[-1]) >= 40, summary
