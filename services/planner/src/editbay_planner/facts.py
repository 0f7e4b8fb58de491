"""Plain data the planner works on: what it learns about an episode from the catalog, and the
style hints a generator may follow. No gRPC, no database: generators and tests use these alone."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Interval:
    """A span of a take, in seconds from its start."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_s - self.start_s)


@dataclass(frozen=True)
class EpisodeFacts:
    """The episode being planned."""

    name: str  # shows/{show}/episodes/{episode}
    display_name: str = ""


@dataclass(frozen=True)
class SceneFacts:
    """One scene of the script (or, without a script, a scene number found on the takes)."""

    number: int
    text: str = ""  # spoken lines and directions; empty when there is no script
    heading: str = ""


@dataclass(frozen=True)
class TakeFacts:
    """One READY take and the catalog's analysis of it."""

    name: str  # shows/{show}/episodes/{episode}/takes/{take}
    scene_number: int
    take_number: int
    storage_key: str
    duration_s: float
    speech: tuple[Interval, ...] = ()
    pauses: tuple[Interval, ...] = ()
    integrated_lufs: float | None = None  # None: not measured
    true_peak_dbtp: float | None = None
    clipped: bool = False


@dataclass(frozen=True)
class StyleHints:
    """What a show's style profile tells a generator (from the training service, later).

    Every field is optional; a generator uses its own defaults for what is not set.
    """

    max_pause_s: float | None = None  # longest internal pause the show tolerates
    words_per_second: float | None = None  # the show's speaking pace
    extra: dict[str, float] = field(default_factory=dict)
