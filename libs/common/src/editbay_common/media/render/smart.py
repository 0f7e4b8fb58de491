"""The smart path (placeholder until implemented)."""

from __future__ import annotations


def eligible(timeline, preset, infos) -> bool:
    return False


async def render_smart(*args, **kwargs) -> None:
    raise NotImplementedError
