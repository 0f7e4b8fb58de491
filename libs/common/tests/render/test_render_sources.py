"""The renderer probes a source once for as long as the file is unchanged (``ProbeCache``)."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from editbay_common.media.limits import MediaLimits, MediaRejected
from editbay_common.media.render import sources
from editbay_common.media.render.sources import PROBED, ProbeCache, source_info

from .conftest import make_take


@pytest.fixture
def probes(monkeypatch) -> list[Path]:
    """Every real probe of a source, in order; the cache starts empty and keeps files at once."""
    seen: list[Path] = []
    real = sources._probe_source

    async def counted(path, limits, packets_until_s):
        seen.append(Path(path))
        return await real(path, limits, packets_until_s)

    monkeypatch.setattr(sources, "_probe_source", counted)
    monkeypatch.setattr(PROBED, "settle_s", 0.0)
    PROBED.clear()
    yield seen
    PROBED.clear()


def backdate(path: Path) -> None:
    old = os.stat(path).st_mtime - 60
    os.utime(path, (old, old))


async def test_an_unchanged_file_is_probed_once(tmp_path, probes):
    take = make_take(tmp_path / "a.mp4", seconds=2.0)
    first = await source_info(take)
    assert await source_info(take) == first
    assert probes == [take]
    # Asked for otherwise (its packets, other limits), it is probed for that.
    with_packets = await source_info(take, packets_until_s=1.0)
    assert with_packets.packets and not first.packets
    await source_info(take, MediaLimits(max_streams=8))
    assert probes == [take] * 3


async def test_a_replaced_or_rewritten_file_is_probed_again(tmp_path, probes):
    take = make_take(tmp_path / "a.mp4", seconds=2.0)
    longer = make_take(tmp_path / "b.mp4", seconds=4.0)
    assert (await source_info(take)).duration_s == pytest.approx(2.0, abs=0.05)
    shutil.copyfile(longer, take)  # rewritten in place: the same inode
    assert (await source_info(take)).duration_s == pytest.approx(4.0, abs=0.05)
    os.replace(make_take(tmp_path / "c.mp4", seconds=3.0), take)  # replaced: another inode
    assert (await source_info(take)).duration_s == pytest.approx(3.0, abs=0.05)
    backdate(take)  # only its times changed: validated again all the same
    await source_info(take)
    assert probes == [take] * 4


async def test_a_refused_file_is_never_kept(tmp_path, probes):
    take = tmp_path / "a.mp4"
    take.write_bytes(random.Random(4096).randbytes(4096))  # seeded: never sniffed as media
    for _ in range(2):
        with pytest.raises(MediaRejected):
            await source_info(take)
    shutil.copyfile(make_take(tmp_path / "b.mp4", seconds=2.0), take)
    assert (await source_info(take)).has_video
    assert probes == [take] * 3
    missing = tmp_path / "gone.mp4"
    with pytest.raises(MediaRejected):
        await source_info(missing)


async def test_a_file_changed_just_before_its_probe_is_not_kept(tmp_path, probes, monkeypatch):
    monkeypatch.setattr(PROBED, "settle_s", 3600.0)
    take = make_take(tmp_path / "a.mp4", seconds=2.0)
    await source_info(take)
    await source_info(take)
    assert probes == [take] * 2


def test_the_least_recently_used_entries_go_first(tmp_path):
    cache = ProbeCache(entries=2)
    info = sources.SourceInfo(duration_s=1.0, has_audio=False)
    cache.put(("a",), info)
    cache.put(("b",), info)
    assert cache.get(("a",)) is info  # now the most recently used
    cache.put(("c",), info)
    assert cache.get(("b",)) is None
    assert cache.get(("a",)) is info and cache.get(("c",)) is info


def test_listed_packets_are_kept_within_their_budget():
    cache = ProbeCache(packets=10)
    layout = sources.SourceInfo(duration_s=1.0, has_audio=False, packets=((0.0, True),) * 6)
    cache.put(("a",), layout)
    cache.put(("b",), layout)  # 12 listed: the older goes
    assert cache.get(("a",)) is None and cache.get(("b",)) is layout
    big = sources.SourceInfo(duration_s=1.0, has_audio=False, packets=((0.0, True),) * 20)
    cache.put(("c",), big)  # over the budget alone: kept, as the only entry
    assert cache.get(("b",)) is None and cache.get(("c",)) is big
