"""Generate the Python code for editbay's protos, check it is current, and lint the protos.

Policy: the generated code is committed under libs/api/src/editbay and CI checks that it matches
what the protos generate (`check`). Regenerate after changing a proto:

    uv run python scripts/protos.py gen
    uv run python scripts/protos.py check   # fails when the committed code is stale
    uv run python scripts/protos.py lint    # buf lint (needs `npx` and the @bufbuild/buf package)

google.api, google.rpc and google.protobuf come from googleapis-common-protos and grpcio-tools;
they are never generated again here.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import grpc_tools
from google.api import annotations_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "libs" / "api" / "src"
GOOGLEAPIS = Path(annotations_pb2.__file__).resolve().parent.parent.parent  # site-packages
WELL_KNOWN = Path(grpc_tools.__file__).resolve().parent / "_proto"


def proto_files() -> list[Path]:
    return sorted(PROTOS.rglob("*.proto"))


def generate(out: Path) -> None:
    files = [str(p.relative_to(PROTOS)) for p in proto_files()]
    args = [
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"-I{GOOGLEAPIS}",
        f"-I{WELL_KNOWN}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    # Packages for every generated folder (editbay/ stays a plain package too).
    for folder in {p.parent for p in out.rglob("*_pb2.py")}:
        while folder != out:
            (folder / "__init__.py").touch()
            folder = folder.parent


def gen() -> None:
    target = OUT / "editbay"
    if target.exists():
        shutil.rmtree(target)
    generate(OUT)
    print(f"generated {len(list(target.rglob('*_pb2.py')))} modules")


def check() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh, committed = Path(tmp) / "editbay", OUT / "editbay"
        stale = _differences(fresh, committed)
    if stale:
        sys.exit(
            "generated code is stale; run `uv run python scripts/protos.py gen`:\n  "
            + "\n  ".join(stale)
        )
    print("generated code is current")


def _differences(fresh: Path, committed: Path) -> list[str]:
    names = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
    names |= {
        p.relative_to(committed)
        for p in committed.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    stale = []
    for name in sorted(names):
        a, b = fresh / name, committed / name
        if not (a.exists() and b.exists() and filecmp.cmp(a, b, shallow=False)):
            stale.append(str(name))
    return stale


def lint() -> None:
    """Run `buf lint` with the google protos copied from the installed packages."""
    with tempfile.TemporaryDirectory() as tmp:
        deps = Path(tmp) / "deps"
        for sub in ("google/api", "google/rpc"):
            shutil.copytree(GOOGLEAPIS / sub, deps / sub, ignore=shutil.ignore_patterns("*.py*"))
        shutil.copytree(WELL_KNOWN / "google/protobuf", deps / "google/protobuf")
        work = Path(tmp) / "work"
        shutil.copytree(PROTOS, work / "protos")
        shutil.copytree(deps, work / "deps")
        shutil.copy(ROOT / "buf.yaml", work / "buf.yaml")
        buf = shutil.which("buf") or str(ROOT / "node_modules" / ".bin" / "buf")
        result = subprocess.run([buf, "lint"], cwd=work)
    if result.returncode != 0:
        sys.exit("buf lint failed")
    print("buf lint passed")


if __name__ == "__main__":
    commands = {"gen": gen, "check": check, "lint": lint}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: protos.py {{{','.join(commands)}}}")
    commands[sys.argv[1]]()
