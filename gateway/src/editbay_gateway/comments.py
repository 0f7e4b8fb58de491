"""RPC comments from the .proto sources, for the OpenAPI summaries.

The generated descriptors carry no source info, so the comments are read from the ``protos/``
folder when it is present (a source checkout, or an image that copies it); otherwise the
summaries fall back to the method names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from google.protobuf.descriptor import ServiceDescriptor

_RPC = re.compile(r"^\s*rpc\s+(\w+)\s*\(")


def find_proto_root(start: Iterable[Path] = ()) -> Path | None:
    """The nearest ``protos/`` folder above the given places, this file and the working dir."""
    places = [*start, Path(__file__).resolve(), Path.cwd()]
    for place in places:
        for folder in [place, *place.parents]:
            candidate = folder / "protos"
            if (candidate / "editbay").is_dir():
                return candidate
    return None


def rpc_comments(services: Iterable[ServiceDescriptor], root: Path | None) -> dict[str, str]:
    """Method full name -> its leading comment, for every RPC whose proto file is found."""
    comments: dict[str, str] = {}
    if root is None:
        return comments
    for service in services:
        source = root / service.file.name
        if not source.is_file():
            continue
        for name, text in _leading_comments(source.read_text(encoding="utf-8")).items():
            comments[f"{service.full_name}.{name}"] = text
    return comments


def _leading_comments(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    pending: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("//"):
            pending.append(stripped[2:].strip())
            continue
        match = _RPC.match(line)
        if match and pending:
            found[match.group(1)] = "\n".join(pending).strip()
        pending = []
    return found
