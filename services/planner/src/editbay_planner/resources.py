"""Resource names, etags and the conversion of stored plans to ``editbay.planner.v1`` messages."""

from __future__ import annotations

import hashlib
from typing import Any

from editbay.planner.v1 import planner_service_pb2 as pb
from editbay_common.names import parse
from editbay_common.protoconv import timestamp
from editbay_planner.drafts import ChoiceDraft, PlanDraft
from editbay_planner.models import EditPlan

DOMAIN = "planner.editbay.dev"
EPISODE_PATTERN = "shows/{show}/episodes/{episode}"
PLAN_PATTERN = "shows/{show}/episodes/{episode}/editPlans/{edit_plan}"

GENERATING = pb.EditPlan.State.Name(pb.EditPlan.GENERATING)
PROPOSED = pb.EditPlan.State.Name(pb.EditPlan.PROPOSED)
APPROVED = pb.EditPlan.State.Name(pb.EditPlan.APPROVED)
REJECTED = pb.EditPlan.State.Name(pb.EditPlan.REJECTED)
FAILED = pb.EditPlan.State.Name(pb.EditPlan.FAILED)
STATES = frozenset({GENERATING, PROPOSED, APPROVED, REJECTED, FAILED})


def parse_episode(name: str, *, field: str = "parent") -> tuple[str, str]:
    """(show, episode) of ``shows/{show}/episodes/{episode}``; INVALID_ARGUMENT naming ``field``."""
    values = parse(name, EPISODE_PATTERN, field=field, domain=DOMAIN)
    return values["show"], values["episode"]


def parse_plan(name: str, *, field: str = "name") -> tuple[str, str, str]:
    """(show, episode, plan id) of an edit plan name."""
    values = parse(name, PLAN_PATTERN, field=field, domain=DOMAIN)
    return values["show"], values["episode"], values["edit_plan"]


def episode_name(show: str, episode: str) -> str:
    return f"shows/{show}/episodes/{episode}"


def plan_name(plan: EditPlan) -> str:
    return f"{episode_name(plan.show_id, plan.episode_id)}/editPlans/{plan.id}"


def etag(plan: EditPlan) -> str:
    """Changes whenever the plan does (its revision counts every change)."""
    digest = hashlib.blake2b(f"{plan.id}:{plan.revision}".encode(), digest_size=8).hexdigest()
    return f'W/"{digest}"'


def choices_to_json(draft: PlanDraft) -> list[dict[str, Any]]:
    return [_choice_to_json(choice) for choice in draft.choices]


def _choice_to_json(choice: ChoiceDraft) -> dict[str, Any]:
    return {
        "scene_number": choice.scene_number,
        "take": choice.take,
        "take_storage_key": choice.take_storage_key,
        "in_s": choice.in_s,
        "out_s": choice.out_s,
        "confidence": choice.confidence,
        "rationale": choice.rationale,
        "candidates": [
            {"take": c.take, "score": c.score, "penalties": list(c.penalties)}
            for c in choice.candidates
        ],
    }


def to_proto(plan: EditPlan) -> pb.EditPlan:
    """The API resource of a stored plan (choices in scene order)."""
    message = pb.EditPlan(
        name=plan_name(plan),
        version=plan.version,
        state=pb.EditPlan.State.Value(plan.state),
        generator=pb.Generator.Value(plan.generator),
        progress_percent=plan.progress_percent,
        total_duration_seconds=plan.total_duration_s,
        failure_reason=plan.failure_reason,
        feedback=plan.feedback,
        etag=etag(plan),
    )
    for choice in sorted(plan.choices or [], key=lambda c: c["scene_number"]):
        message.choices.append(
            pb.SceneChoice(
                scene_number=choice["scene_number"],
                take=choice["take"],
                take_storage_key=choice["take_storage_key"],
                in_seconds=choice["in_s"],
                out_seconds=choice["out_s"],
                confidence=choice["confidence"],
                rationale=choice["rationale"],
                candidates=[
                    pb.CandidateScore(take=c["take"], score=c["score"], penalties=c["penalties"])
                    for c in choice["candidates"]
                ],
            )
        )
    for field in ("create_time", "update_time", "review_time"):
        stamp = timestamp(getattr(plan, field))
        if stamp is not None:
            getattr(message, field).CopyFrom(stamp)
    return message
