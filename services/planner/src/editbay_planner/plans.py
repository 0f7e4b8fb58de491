"""Edit plans through their life: generate (in the background), review, watch.

``PlanService.generate`` reads the episode from the catalog, checks every scene has a READY
take, stores version N+1 in state GENERATING and returns it at once; a background task owned by
the service runs the generator and moves the plan to PROPOSED (or FAILED with the reason).

Who works on a GENERATING plan is recorded as a lease (``lease_owner``, ``lease_until``) renewed
by a heartbeat. A graceful shutdown cancels the tasks and marks their plans FAILED with
``INTERRUPTED_REASON``; a process that died cannot, so ``fail_abandoned`` (run at start-up and
then periodically) marks every GENERATING plan whose lease ran out the same way. The plan is not
generated again by itself: the reason tells the user to generate again, which makes a new version.

Approve and reject change a PROPOSED plan in one transaction (approve also adds ``plan.approved``
to the outbox); the row's ``revision`` is its optimistic lock, so two reviewers racing get one
success and one FAILED_PRECONDITION (or ABORTED when they sent an etag).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import grpc
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from editbay.events.v1 import events_pb2
from editbay_common.db import Database
from editbay_common.errors import (
    ServiceError,
    aborted,
    failed_precondition,
    invalid_argument,
    not_found,
)
from editbay_common.ids import new_id, utc_now
from editbay_common.outbox import add_to_outbox
from editbay_common.protoconv import to_payload
from editbay_planner.catalog import CatalogReader
from editbay_planner.facts import EpisodeFacts, SceneFacts, StyleHints, TakeFacts
from editbay_planner.generator import GenerationFailed, Generator
from editbay_planner.models import AnsweredRequest, EditPlan, outbox
from editbay_planner.resources import (
    APPROVED,
    DOMAIN,
    FAILED,
    GENERATING,
    PROPOSED,
    REJECTED,
    choices_to_json,
    etag,
    parse_episode,
    parse_plan,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

INTERRUPTED_REASON = "interrupted; generate again"
PLAN_APPROVED_KEY = "plan.approved"
MAX_REQUEST_ID = 128
MAX_FEEDBACK = 10_000
WATCH_POLL_S = 0.2
CONFLICT_RETRIES = 3


@dataclass(frozen=True)
class EpisodeMaterial:
    """What a generator works on, read from the catalog when generation is requested."""

    episode: EpisodeFacts
    scenes: tuple[SceneFacts, ...]
    takes: tuple[TakeFacts, ...]
    style: StyleHints | None = None


class Changes:
    """Wakes watchers in this process when a plan changes (they also poll, for other replicas)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def token(self) -> asyncio.Event:
        """Take before reading; ``wait(token)`` then returns at once if a change came since."""
        return self._event

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, token: asyncio.Event, timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await token.wait()


def scenes_to_plan(scenes: Sequence[SceneFacts], takes: Sequence[TakeFacts]) -> list[SceneFacts]:
    """The scenes a plan covers: the script's, or (no script) the scene numbers on the takes."""
    if scenes:
        return sorted(scenes, key=lambda s: s.number)
    return [SceneFacts(number) for number in sorted({t.scene_number for t in takes})]


def check_ready(scenes: Sequence[SceneFacts], takes: Sequence[TakeFacts], episode: str) -> None:
    """FAILED_PRECONDITION (NO_READY_TAKES) unless every scene has a READY take."""
    covered = {t.scene_number for t in takes}
    missing = [s.number for s in scenes if s.number not in covered]
    if not takes or missing:
        listed = ",".join(str(n) for n in (missing or [s.number for s in scenes]))
        detail = f"scenes {listed} have" if listed else "the episode has"
        raise failed_precondition(
            "NO_READY_TAKES",
            f"{detail} no READY take; upload takes and wait for their analysis",
            domain=DOMAIN,
            episode=episode,
            scenes=listed,
        )


def check_request_id(request_id: str) -> None:
    if len(request_id) > MAX_REQUEST_ID:
        raise invalid_argument(
            "request_id", f"must be at most {MAX_REQUEST_ID} characters", domain=DOMAIN
        )


class PlanService:
    """The planner's domain operations over its database, the catalog and a generator."""

    def __init__(
        self,
        db: Database,
        catalog: CatalogReader,
        generators: dict[str, Generator],
        *,
        on_outbox: Callable[[], None] = lambda: None,
        lease_s: float = 15.0,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.generators = generators
        self.changes = Changes()
        self.lease_s = lease_s
        self.owner = new_id()  # this process, as a lease owner
        self._on_outbox = on_outbox
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- reading -----------------------------------------------------------------------------

    async def get(self, name: str, *, field: str = "name") -> EditPlan:
        show, episode, plan_id = parse_plan(name, field=field)
        async with self.db.transaction() as session:
            return await _load(session, show, episode, plan_id, name)

    async def list(
        self,
        parent: str,
        *,
        offset: int,
        limit: int,
        state: str | None,
        descending: bool,
    ) -> tuple[list[EditPlan], bool]:
        """A page of the episode's plans and whether more follow."""
        show, episode = parse_episode(parent)
        query = select(EditPlan).where(EditPlan.show_id == show, EditPlan.episode_id == episode)
        if state is not None:
            query = query.where(EditPlan.state == state)
        order = EditPlan.version.desc() if descending else EditPlan.version.asc()
        query = query.order_by(order).offset(offset).limit(limit + 1)
        async with self.db.transaction() as session:
            rows = list((await session.scalars(query)).all())
        return rows[:limit], len(rows) > limit

    async def watch(self, name: str) -> AsyncIterator[EditPlan]:
        """The plan now, then each time it changes, until it is no longer GENERATING."""
        token = self.changes.token()
        plan = await self.get(name)
        yield plan
        while plan.state == GENERATING:
            await self.changes.wait(token, WATCH_POLL_S)
            token = self.changes.token()
            fresh = await self.get(name)
            if fresh.revision != plan.revision:
                yield fresh
            plan = fresh

    # ---- generating --------------------------------------------------------------------------

    async def generate(self, parent: str, generator: str, request_id: str) -> EditPlan:
        show, episode = parse_episode(parent)
        check_request_id(request_id)
        if generator not in self.generators:
            raise invalid_argument(
                "generator", f"{generator} is not available on this server", domain=DOMAIN
            )
        if request_id:
            earlier = await self._answered("generate", request_id, parent)
            if earlier is not None:
                return earlier
        material = await self._read_episode(parent)

        async def create(session: AsyncSession) -> tuple[EditPlan, bool]:
            if request_id:
                earlier = await _answered_in(session, "generate", request_id, parent)
                if earlier is not None:
                    return earlier, False
            latest = await session.scalar(
                select(func.max(EditPlan.version)).where(
                    EditPlan.show_id == show, EditPlan.episode_id == episode
                )
            )
            now = utc_now()
            plan = EditPlan(
                id=new_id(),
                show_id=show,
                episode_id=episode,
                version=(latest or 0) + 1,
                state=GENERATING,
                generator=generator,
                progress_percent=0,
                choices=[],
                total_duration_s=0.0,
                failure_reason="",
                feedback="",
                lease_owner=self.owner,
                lease_until=now + timedelta(seconds=self.lease_s),
                create_time=now,
                update_time=now,
            )
            session.add(plan)
            if request_id:
                session.add(_answer("generate", request_id, plan.id, parent, now))
            return plan, True

        plan, created = await self._with_conflict_retries(create)
        if created:
            self._start(plan.id, self.generators[generator], material)
            self.changes.notify()
        return plan

    async def _read_episode(self, parent: str) -> EpisodeMaterial:
        episode = await self.catalog.get_episode(parent)
        scenes = await self.catalog.list_scenes(parent)
        takes = await self.catalog.list_ready_takes(parent)
        planned = scenes_to_plan(scenes, takes)
        check_ready(planned, takes, parent)
        wanted = {s.number for s in planned}
        return EpisodeMaterial(
            episode, tuple(planned), tuple(t for t in takes if t.scene_number in wanted)
        )

    def _start(self, plan_id: str, generator: Generator, material: EpisodeMaterial) -> None:
        task = asyncio.create_task(self._run(plan_id, generator, material), name=f"plan-{plan_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, plan_id: str, generator: Generator, material: EpisodeMaterial) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(plan_id))
        try:
            outcome = await self._generate(plan_id, generator, material)
            await self._finish(plan_id, **outcome)
        except asyncio.CancelledError:
            # Shutdown: say so now rather than waiting for the lease to run out.
            with contextlib.suppress(Exception):
                await self._finish(plan_id, state=FAILED, failure_reason=INTERRUPTED_REASON)
            raise
        except Exception:
            # The database is gone: the lease runs out and fail_abandoned reports the plan.
            log.exception("could not record the outcome of plan %s", plan_id)
        finally:
            heartbeat.cancel()

    async def _generate(
        self, plan_id: str, generator: Generator, material: EpisodeMaterial
    ) -> dict[str, object]:
        """Run the generator; the plan's final values (PROPOSED with choices, or FAILED)."""
        try:
            draft = await generator.generate(
                material.episode,
                material.scenes,
                material.takes,
                material.style,
                on_progress=lambda percent: self._progress(plan_id, percent),
            )
        except GenerationFailed as error:
            return {"state": FAILED, "failure_reason": str(error)}
        except Exception:
            log.exception("generator failed on plan %s", plan_id)
            return {"state": FAILED, "failure_reason": "the generator failed; see the planner log"}
        return {
            "state": PROPOSED,
            "progress_percent": 100,
            "choices": choices_to_json(draft),
            "total_duration_s": round(draft.total_duration_s, 3),
        }

    async def _heartbeat(self, plan_id: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                async with self.db.transaction() as session:
                    await session.execute(
                        update(EditPlan)
                        .where(*self._mine(plan_id))
                        .values(lease_until=utc_now() + timedelta(seconds=self.lease_s))
                    )
            except Exception:
                log.warning("could not renew the lease of plan %s", plan_id, exc_info=True)

    def _mine(self, plan_id: str) -> tuple[object, ...]:
        return (
            EditPlan.id == plan_id,
            EditPlan.state == GENERATING,
            EditPlan.lease_owner == self.owner,
        )

    async def _progress(self, plan_id: str, percent: int) -> None:
        percent = max(0, min(99, int(percent)))  # 100 comes with PROPOSED
        await self._change(plan_id, progress_percent=percent)

    async def _finish(self, plan_id: str, **values: object) -> None:
        await self._change(plan_id, lease_owner=None, lease_until=None, **values)

    async def _change(self, plan_id: str, **values: object) -> None:
        """Update a plan this process is generating (no-op if it lost the lease)."""

        async def change(session: AsyncSession) -> None:
            await session.execute(
                update(EditPlan)
                .where(*self._mine(plan_id))
                .values(revision=EditPlan.revision + 1, update_time=utc_now(), **values)
                .execution_options(synchronize_session=False)
            )

        await self.db.run_in_transaction(change)
        self.changes.notify()

    async def fail_abandoned(self) -> int:
        """Mark FAILED every GENERATING plan whose lease ran out (its process died)."""
        now = utc_now()
        async with self.db.transaction() as session:
            result = await session.execute(
                update(EditPlan)
                .where(EditPlan.state == GENERATING)
                .where((EditPlan.lease_until.is_(None)) | (EditPlan.lease_until < now))
                .values(
                    state=FAILED,
                    failure_reason=INTERRUPTED_REASON,
                    lease_owner=None,
                    lease_until=None,
                    revision=EditPlan.revision + 1,
                    update_time=now,
                )
                .execution_options(synchronize_session=False)
            )
        count = int(result.rowcount or 0)
        if count:
            log.warning("marked %d abandoned plan(s) FAILED", count)
            self.changes.notify()
        return count

    async def reap_forever(self) -> None:
        """Unit task: ``fail_abandoned`` every lease period (plans of replicas that died)."""
        while True:
            await asyncio.sleep(self.lease_s)
            try:
                await self.fail_abandoned()
            except Exception:
                log.warning("could not check for abandoned plans", exc_info=True)

    async def stop(self) -> None:
        """Cancel the generations running in this process (their plans become FAILED)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # ---- reviewing ---------------------------------------------------------------------------

    async def approve(self, name: str, etag_value: str, request_id: str) -> EditPlan:
        def change(plan: EditPlan) -> None:
            plan.state = APPROVED

        plan, changed = await self._review("approve", name, etag_value, request_id, change)
        if changed:
            self._on_outbox()
        return plan

    async def reject(self, name: str, feedback: str, etag_value: str, request_id: str) -> EditPlan:
        feedback = feedback.strip()
        if not feedback:
            raise invalid_argument(
                "feedback", "say what is wrong with the plan", domain=DOMAIN, reason="REQUIRED"
            )
        if len(feedback) > MAX_FEEDBACK:
            raise invalid_argument(
                "feedback", f"must be at most {MAX_FEEDBACK} characters", domain=DOMAIN
            )

        def change(plan: EditPlan) -> None:
            plan.state = REJECTED
            plan.feedback = feedback

        plan, _ = await self._review("reject", name, etag_value, request_id, change)
        return plan

    async def _review(
        self,
        method: str,
        name: str,
        etag_value: str,
        request_id: str,
        change: Callable[[EditPlan], None],
    ) -> tuple[EditPlan, bool]:
        show, episode, plan_id = parse_plan(name)
        check_request_id(request_id)

        async def review(session: AsyncSession) -> tuple[EditPlan, bool]:
            if request_id:
                earlier = await _answered_in(session, method, request_id, name)
                if earlier is not None:
                    return earlier, False
            plan = await _load(session, show, episode, plan_id, name)
            if etag_value and etag_value != etag(plan):
                raise aborted(
                    "ETAG_MISMATCH",
                    "the plan changed since it was read; read it again",
                    domain=DOMAIN,
                    name=name,
                    etag=etag(plan),
                )
            if plan.state != PROPOSED:
                raise failed_precondition(
                    "PLAN_NOT_PROPOSED",
                    f"the plan is {plan.state}; only a PROPOSED plan can be {method}d",
                    domain=DOMAIN,
                    name=name,
                    state=plan.state,
                )
            now = utc_now()
            change(plan)
            plan.review_time = now
            plan.update_time = now
            if method == "approve":
                event = events_pb2.PlanApproved(edit_plan=name, version=plan.version)
                add_to_outbox(
                    session,
                    outbox,
                    kind="event",
                    target=PLAN_APPROVED_KEY,
                    payload=to_payload(event),
                )
            if request_id:
                session.add(_answer(method, request_id, plan.id, name, now))
            await session.flush()  # the revision check happens here (StaleDataError)
            return plan, True

        plan, changed = await self._with_conflict_retries(review)
        if changed:
            self.changes.notify()
        return plan, changed

    # ---- helpers -----------------------------------------------------------------------------

    async def _answered(self, method: str, request_id: str, target: str) -> EditPlan | None:
        async with self.db.transaction() as session:
            return await _answered_in(session, method, request_id, target)

    async def _with_conflict_retries(self, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run a unit of work; when a concurrent writer won (same version number, same request
        id, or the row changed under us), run it again: it then sees the winner's result."""
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                return await self.db.run_in_transaction(fn)
            except (IntegrityError, StaleDataError):
                if attempt == CONFLICT_RETRIES:
                    break
                await asyncio.sleep(0.01 * (attempt + 1))
        raise ServiceError(
            grpc.StatusCode.ABORTED,
            "CONCURRENT_UPDATE",
            "the plan was changed concurrently; try again",
            domain=DOMAIN,
        )


async def _load(
    session: AsyncSession, show: str, episode: str, plan_id: str, name: str
) -> EditPlan:
    plan = await session.get(EditPlan, plan_id)
    if plan is None or plan.show_id != show or plan.episode_id != episode:
        raise not_found("edit_plan", name, domain=DOMAIN)
    return plan


async def _answered_in(
    session: AsyncSession, method: str, request_id: str, target: str
) -> EditPlan | None:
    answered = await session.get(AnsweredRequest, (method, request_id))
    if answered is None:
        return None
    if answered.target != target:
        raise invalid_argument(
            "request_id",
            f"was already used for {answered.target}; use a new id for a new request",
            domain=DOMAIN,
        )
    return await session.get(EditPlan, answered.plan_id)


def _answer(
    method: str, request_id: str, plan_id: str, target: str, now: object
) -> AnsweredRequest:
    return AnsweredRequest(
        method=method, request_id=request_id, plan_id=plan_id, target=target, create_time=now
    )
