"""Splitting a script's text into scenes.

A scene starts at a heading line: ``SCENE 2: The kitchen``, ``Scene 2 - Kitchen``,
``scene 2. Kitchen``, ``## Scene 2`` (case-insensitive; Markdown ``#`` prefixes allowed).
Text before the first heading belongs to scene 1: it is the whole of scene 1 when the script has
no heading at all, it is put in front of scene 1's text when the first heading is scene 1, and
it becomes a scene 1 of its own when the first heading has a higher number. Scene numbers must
increase strictly from heading to heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Heading: optional "#"s, "scene", a number, then the end of the line or a separator (: . - or a
# dash) and a title. "Scene 2 was great" is prose, not a heading.
_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?scene\s+(\d{1,4})\s*(?:[:.\u2013\u2014-]\s*(.*?))?\s*$",
    re.IGNORECASE,
)
MAX_SCRIPT_CHARS = 1_000_000


@dataclass(frozen=True)
class ParsedScene:
    number: int
    heading: str
    text: str


class ScriptError(ValueError):
    """The script text cannot be split into scenes; ``line`` is 1-based."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


def parse_heading(line: str) -> tuple[int, str] | None:
    """``(number, title)`` if ``line`` is a scene heading, else None."""
    match = _HEADING.match(line)
    if not match:
        return None
    return int(match.group(1)), (match.group(2) or "").strip()


def parse_script(text: str) -> list[ParsedScene]:
    """The scenes of ``text`` in order; raises ``ScriptError`` naming the offending line."""
    preamble: list[str] = []
    scenes: list[tuple[int, str, list[str]]] = []
    for index, line in enumerate(text.splitlines(), start=1):
        heading = parse_heading(line)
        if heading is None:
            (scenes[-1][2] if scenes else preamble).append(line)
            continue
        number, title = heading
        if number < 1:
            raise ScriptError(index, "scene numbers start at 1")
        if scenes and number <= scenes[-1][0]:
            previous = scenes[-1][0]
            problem = "repeats" if number == previous else "comes after"
            raise ScriptError(index, f"scene {number} {problem} scene {previous}")
        scenes.append((number, title, []))
    intro = _block(preamble)
    if not scenes:
        return [ParsedScene(1, "", intro)] if intro else []
    result = [ParsedScene(n, title, _block(lines)) for n, title, lines in scenes]
    if intro:
        first = result[0]
        if first.number == 1:
            joined = f"{intro}\n\n{first.text}" if first.text else intro
            result[0] = ParsedScene(1, first.heading, joined)
        else:
            result.insert(0, ParsedScene(1, "", intro))
    return result


def _block(lines: list[str]) -> str:
    """Lines joined, without leading or trailing blank lines or trailing spaces."""
    return "\n".join(line.rstrip() for line in lines).strip("\n")
