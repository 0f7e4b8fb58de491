"""Plan generators: one interface, the offline heuristic as its implementation.

A generator gets the facts read from the catalog (already checked: every scene has at least one
READY take) and returns a draft with one choice per scene, in scene order. It may report progress
(0..100) through ``on_progress``; it must not touch the database or the network of other
services itself, so it can run again safely.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from editbay_planner.drafts import PlanDraft
from editbay_planner.facts import EpisodeFacts, SceneFacts, StyleHints, TakeFacts
from editbay_planner.scoring import choose_take

ProgressFn = Callable[[int], Awaitable[None]]


class GenerationFailed(Exception):
    """The generator could not make a plan; the message is the plan's failure reason."""


class Generator(Protocol):
    async def generate(
        self,
        episode: EpisodeFacts,
        scenes: Sequence[SceneFacts],
        takes: Sequence[TakeFacts],
        style: StyleHints | None,
        *,
        on_progress: ProgressFn | None = None,
    ) -> PlanDraft: ...


class HeuristicGenerator:
    """Scores every take from its analysis (see ``editbay_planner.scoring``); no key, no network."""

    async def generate(
        self,
        episode: EpisodeFacts,
        scenes: Sequence[SceneFacts],
        takes: Sequence[TakeFacts],
        style: StyleHints | None,
        *,
        on_progress: ProgressFn | None = None,
    ) -> PlanDraft:
        ordered = sorted(scenes, key=lambda s: s.number)
        choices = []
        for index, scene in enumerate(ordered, start=1):
            scene_takes = [t for t in takes if t.scene_number == scene.number]
            if not scene_takes:
                raise GenerationFailed(f"scene {scene.number} has no READY take")
            choices.append(choose_take(scene, scene_takes, style))
            if on_progress is not None:
                await on_progress(int(100 * index / len(ordered)))
            await asyncio.sleep(0)  # long scripts: let other requests run between scenes
        return PlanDraft(tuple(choices))
