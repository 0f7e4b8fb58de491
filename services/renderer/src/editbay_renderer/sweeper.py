"""The lease sweeper: finds jobs whose worker died (lease expired) and fails that attempt, which
re-queues the job or, after the last attempt, fails it and dead-letters its message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from editbay_common.db import Database
from editbay_renderer import jobs

log = logging.getLogger(__name__)


async def sweep_once(db: Database) -> dict[str, str]:
    """One pass; {job id: "requeued" | "failed"}."""
    return await db.run_in_transaction(jobs.sweep_expired_leases)


async def run_sweeper(
    db: Database, *, interval_s: float, wake_relay: Callable[[], None] = lambda: None
) -> None:
    """Sweep every ``interval_s`` until cancelled; database errors are logged, not raised."""
    while True:
        try:
            swept = await sweep_once(db)
        except Exception:
            log.exception("lease sweep failed; retrying")
        else:
            if swept:
                wake_relay()
                log.warning("expired render leases: %s", swept)
        await asyncio.sleep(interval_s)
