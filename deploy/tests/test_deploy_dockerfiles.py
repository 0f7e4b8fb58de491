"""The Dockerfiles, parsed with BuildKit's own parser (the `dockerfile` package): stages, what
they copy (files that exist and that .dockerignore lets through), the non-root user, the
entrypoint of each service, and agreement with the Kubernetes manifests."""

from __future__ import annotations

import glob
import re
import shlex
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dockerfile
import pytest

REPO = Path(__file__).resolve().parents[2]
BASE_IMAGE = "python:3.11-slim-bookworm"
DOCKERFILES = {
    "catalog": "services/catalog/Dockerfile",
    "planner": "services/planner/Dockerfile",
    "renderer": "services/renderer/Dockerfile",
    "training": "services/training/Dockerfile",
    "gateway": "gateway/Dockerfile",
}
# The services that run FFmpeg/ffprobe and draw text need them in the image.
MEDIA = {"catalog", "renderer", "training"}
PORTS = {"gateway": 8080}
DEFAULT_PORT = 50051

Render = Callable[[str], list[dict[str, Any]]]


def parse(target: str) -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(REPO / DOCKERFILES[target])))


def stages(commands: list[dockerfile.Command]) -> list[list[dockerfile.Command]]:
    """The commands of each stage, split at FROM (each list starts with its FROM)."""
    found: list[list[dockerfile.Command]] = []
    for command in commands:
        if command.cmd == "FROM":
            found.append([])
        assert found, "the Dockerfile starts with FROM"
        found[-1].append(command)
    return found


def run_lines(stage: list[dockerfile.Command]) -> list[str]:
    return [" ".join(command.value) for command in stage if command.cmd == "RUN"]


def env_of(stage: list[dockerfile.Command]) -> dict[str, str]:
    env: dict[str, str] = {}
    for command in stage:
        if command.cmd == "ENV":
            values = list(command.value)
            env.update(zip(values[::2], values[1::2], strict=True))
    return env


def dockerignore_excludes(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context: the last pattern that
    matches the path or one of its parents decides (Docker's rule), ``!`` re-includes."""
    excluded = False
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = re.compile(_pattern_regex(line.lstrip("!").strip("/")))
        parts = path.strip("/").split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def _pattern_regex(pattern: str) -> str:
    out = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out += "(?:.*/)?"
            index += 3
        elif pattern.startswith("**", index):
            out += ".*"
            index += 2
        elif pattern[index] == "*":
            out += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            out += "[^/]"
            index += 1
        elif pattern[index] == "[":
            end = pattern.index("]", index)
            out += pattern[index : end + 1]
            index = end + 1
        else:
            out += re.escape(pattern[index])
            index += 1
    return out


def workspace_members() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    members: list[str] = []
    for pattern in config["tool"]["uv"]["workspace"]["members"]:
        for folder in sorted(glob.glob(pattern, root_dir=REPO)):
            if (REPO / folder / "pyproject.toml").is_file():
                members.append(folder)
    return members


def test_deploy_dockerignore_matching() -> None:
    """The matcher the other tests rely on, on paths whose fate is known."""
    assert not dockerignore_excludes("uv.lock")
    assert not dockerignore_excludes("services/catalog/src/editbay_catalog/app.py")
    assert dockerignore_excludes("services/catalog/tests/test_catalog_uploads.py")
    assert dockerignore_excludes(".git/HEAD")
    assert dockerignore_excludes("deploy/k8s/base/catalog.yaml")
    assert dockerignore_excludes("libs/common/src/editbay_common/__pycache__/x.pyc")


@pytest.mark.parametrize("target", DOCKERFILES)
def test_deploy_dockerfile_stages(target: str) -> None:
    builder, runtime = stages(parse(target))
    assert builder[0].value == (BASE_IMAGE, "AS", "builder")
    assert runtime[0].value[0] == BASE_IMAGE
    # The builder: uv from pip, bytecode compiled, locked and without dev dependencies.
    runs = run_lines(builder)
    assert any(re.search(r"pip install .*\buv\b", line) for line in runs)
    assert env_of(builder)["UV_COMPILE_BYTECODE"] == "1"
    syncs = [shlex.split(line) for line in runs if line.startswith("uv sync")]
    assert len(syncs) == 2, "dependencies first, then the workspace"
    for sync in syncs:
        assert {"--frozen", "--no-dev"} <= set(sync)
        assert sync[sync.index("--package") + 1] == "editbay-cli"
    # The runtime image takes the virtual environment, and only that, from the builder.
    copies = [c for c in runtime if c.cmd == "COPY"]
    assert [(c.flags, c.value) for c in copies] == [
        (("--from=builder",), ("/app/.venv", "/app/.venv"))
    ]
    env = env_of(runtime)
    assert env["PATH"].startswith("/app/.venv/bin:")
    assert env["EDITBAY_DATA_DIR"] == "/scratch"
    assert [c.value for c in runtime if c.cmd == "WORKDIR"] == [("/app",)]


@pytest.mark.parametrize("target", DOCKERFILES)
def test_deploy_dockerfile_copies_exist_and_reach_the_context(target: str) -> None:
    builder, _ = stages(parse(target))
    sources = [
        source
        for command in builder
        if command.cmd in ("COPY", "ADD") and not command.flags
        for source in command.value[:-1]
    ]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), f"{DOCKERFILES[target]} copies missing {source}"
        assert not dockerignore_excludes(source), f".dockerignore drops {source}"
    # Every workspace member's pyproject is there for the first (dependencies only) sync.
    for member in workspace_members():
        assert f"{member}/pyproject.toml" in sources, member
        assert any(
            member == s.rstrip("/") or member.startswith(s.rstrip("/") + "/") for s in sources
        )
        packages = [
            folder
            for folder in (REPO / member / "src").iterdir()
            if folder.name.startswith("editbay") and folder.suffix != ".egg-info"
        ]
        assert packages, member
        for package in packages:
            assert not dockerignore_excludes(str(package.relative_to(REPO))), member


@pytest.mark.parametrize("target", DOCKERFILES)
def test_deploy_dockerfile_runs_the_service_as_non_root(target: str) -> None:
    from editbay_cli.main import SERVE_TARGETS

    _, runtime = stages(parse(target))
    users = [c.value[0] for c in runtime if c.cmd == "USER"]
    assert users, "the runtime stage sets a user"
    uid = users[-1].split(":")[0]
    assert uid == "10001", "numeric, so Kubernetes can check runAsNonRoot"
    # Nothing runs as root after the switch.
    after = runtime[[c.cmd for c in runtime].index("USER") :]
    assert not [c for c in after if c.cmd == "RUN"]
    (entrypoint,) = [c for c in runtime if c.cmd == "ENTRYPOINT"]
    assert entrypoint.json and entrypoint.value == ("editbay", "serve", target)
    assert target in SERVE_TARGETS
    (expose,) = [c for c in runtime if c.cmd == "EXPOSE"]
    assert expose.value == (str(PORTS.get(target, DEFAULT_PORT)),)


@pytest.mark.parametrize("target", DOCKERFILES)
def test_deploy_dockerfile_media_tools(target: str) -> None:
    _, runtime = stages(parse(target))
    installs = [line for line in run_lines(runtime) if "apt-get install" in line]
    if target in MEDIA:
        (install,) = installs
        words = shlex.split(install)
        assert {"--no-install-recommends", "ffmpeg", "fonts-dejavu-core"} <= set(words)
        if target == "renderer":  # the fallback font of emoji in titles
            assert "fonts-symbola" in words
        assert "rm -rf /var/lib/apt/lists/*" in install
    else:
        assert not installs


def test_deploy_images_match_the_manifests(deploy_render: Render) -> None:
    """Each editbay container runs an image one of the Dockerfiles builds, on the port it
    exposes, as the user it sets."""
    for workload in deploy_render("base"):
        if workload["kind"] != "Deployment":
            continue
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        image = container["image"].rsplit(":", 1)[0]
        target = image.removeprefix("editbay-")
        assert target in DOCKERFILES, image
        _, runtime = stages(parse(target))
        (expose,) = [c for c in runtime if c.cmd == "EXPOSE"]
        assert [str(p["containerPort"]) for p in container["ports"]] == list(expose.value)
        pod = workload["spec"]["template"]["spec"]
        user = [c.value[0] for c in runtime if c.cmd == "USER"][-1]
        assert (
            user == f"{pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}"
        )
