"""Background generation in PlanService: progress seen by watchers, failures, shutdown, leases.

A generator held at a gate makes the in-between states observable without timing guesses.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from editbay_common.db import Database
from editbay_common.errors import not_found
from editbay_common.ids import utc_now
from editbay_planner.app import MIGRATIONS
from editbay_planner.drafts import PlanDraft
from editbay_planner.facts import EpisodeFacts, Interval, SceneFacts, StyleHints, TakeFacts
from editbay_planner.generator import GenerationFailed, HeuristicGenerator, ProgressFn
from editbay_planner.models import EditPlan
from editbay_planner.plans import INTERRUPTED_REASON, PlanService
from editbay_planner.resources import DOMAIN, FAILED, GENERATING, PROPOSED, plan_name

EPISODE = "shows/studio/episodes/pilot"

pytestmark = pytest.mark.timeout(60)


class OneEpisode:
    """A CatalogReader over one episode with one scene and one take, as plain data."""

    async def get_episode(self, name: str) -> EpisodeFacts:
        if name != EPISODE:
            raise not_found("episode", name, domain=DOMAIN)
        return EpisodeFacts(EPISODE)

    async def list_scenes(self, episode: str) -> list[SceneFacts]:
        return [SceneFacts(1, "Hello and welcome to the pilot.")]

    async def list_ready_takes(self, episode: str) -> list[TakeFacts]:
        return [
            TakeFacts(
                name=f"{EPISODE}/takes/t1",
                scene_number=1,
                take_number=1,
                storage_key="takes/t1.mp4",
                duration_s=4.0,
                speech=(Interval(0.5, 2.8),),
                integrated_lufs=-20.0,
            )
        ]

    async def close(self) -> None:
        return None


class GatedGenerator:
    """Reports 50 %, then waits for ``gate`` before doing the heuristic's work (or failing)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.gate = asyncio.Event()
        self.error = error

    async def generate(
        self,
        episode: EpisodeFacts,
        scenes: Sequence[SceneFacts],
        takes: Sequence[TakeFacts],
        style: StyleHints | None,
        *,
        on_progress: ProgressFn | None = None,
    ) -> PlanDraft:
        if on_progress is not None:
            await on_progress(50)
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return await HeuristicGenerator().generate(episode, scenes, takes, style)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'planner.db'}", schema="planner")
    await database.migrate(MIGRATIONS)
    try:
        yield database
    finally:
        await database.dispose()


def service(db: Database, generator: object, **kwargs: object) -> PlanService:
    return PlanService(db, OneEpisode(), {"HEURISTIC": generator}, **kwargs)  # type: ignore[arg-type]


async def test_watch_streams_progress_then_the_proposal(db: Database) -> None:
    gated = GatedGenerator()
    plans = service(db, gated)
    plan = await plans.generate(EPISODE, "HEURISTIC", "")
    name = plan_name(plan)
    seen: list[tuple[str, int]] = []
    async with asyncio.timeout(30):
        async for seen_plan in plans.watch(name):
            seen.append((seen_plan.state, seen_plan.progress_percent))
            if seen_plan.progress_percent == 50:
                gated.gate.set()
    assert seen[-1] == (PROPOSED, 100)
    assert (GENERATING, 50) in seen
    states = [s for s, _ in seen]
    assert states == sorted(states, key=lambda s: s == PROPOSED)  # GENERATING..., PROPOSED
    final = await plans.get(name)
    assert len(final.choices) == 1
    assert final.lease_owner is None


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (GenerationFailed("scene 1 has nothing usable"), "scene 1 has nothing usable"),
        (RuntimeError("bug"), "the generator failed; see the planner log"),
    ],
)
async def test_generator_failure_marks_the_plan_failed(
    db: Database, error: Exception, reason: str
) -> None:
    gated = GatedGenerator(error)
    gated.gate.set()
    plans = service(db, gated)
    plan = await plans.generate(EPISODE, "HEURISTIC", "")
    async with asyncio.timeout(30):
        async for seen_plan in plans.watch(plan_name(plan)):
            final = seen_plan
    assert final.state == FAILED
    assert final.failure_reason == reason


async def test_shutdown_interrupts_generation_and_says_so(db: Database) -> None:
    gated = GatedGenerator()
    plans = service(db, gated)
    plan = await plans.generate(EPISODE, "HEURISTIC", "")
    async with asyncio.timeout(30):
        async for seen_plan in plans.watch(plan_name(plan)):
            if seen_plan.progress_percent == 50:
                break
    await plans.stop()
    stopped = await plans.get(plan_name(plan))
    assert stopped.state == FAILED
    assert stopped.failure_reason == INTERRUPTED_REASON


async def test_lapsed_lease_is_failed_and_a_live_one_is_kept(db: Database) -> None:
    gated = GatedGenerator()
    live = service(db, gated, lease_s=30.0)
    running = await live.generate(EPISODE, "HEURISTIC", "")
    dead = await live.generate(EPISODE, "HEURISTIC", "")
    async with db.transaction() as session:  # as if its process died a while ago
        await session.execute(
            update(EditPlan)
            .where(EditPlan.id == dead.id)
            .values(lease_until=utc_now() - timedelta(seconds=1))
        )
    other_replica = service(db, GatedGenerator())
    assert await other_replica.fail_abandoned() == 1
    assert (await live.get(plan_name(dead))).state == FAILED
    assert (await live.get(plan_name(running))).state == GENERATING
    gated.gate.set()
    async with asyncio.timeout(30):
        async for seen_plan in live.watch(plan_name(running)):
            final = seen_plan
    assert final.state == PROPOSED
    # The dead plan's task finished too, but its result was not written over the FAILED state.
    await live.stop()
    assert (await live.get(plan_name(dead))).failure_reason == INTERRUPTED_REASON
