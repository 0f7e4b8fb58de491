"""What a generator produces: a plan draft, one choice per scene, before it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CandidateDraft:
    """How one candidate take scored."""

    take: str  # take resource name
    score: float  # 0..1
    penalties: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChoiceDraft:
    """The take chosen for one scene and the span of it to use."""

    scene_number: int
    take: str
    take_storage_key: str
    in_s: float
    out_s: float
    confidence: float  # 0..1
    rationale: str
    candidates: tuple[CandidateDraft, ...] = ()  # best first

    @property
    def duration_s(self) -> float:
        return max(0.0, self.out_s - self.in_s)


@dataclass(frozen=True)
class PlanDraft:
    """A generated plan: choices in scene order."""

    choices: tuple[ChoiceDraft, ...] = field(default_factory=tuple)

    @property
    def total_duration_s(self) -> float:
        return sum(choice.duration_s for choice in self.choices)
