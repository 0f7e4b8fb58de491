"""AMQP topic matching: ``*`` stands for exactly one word, ``#`` for zero or more words."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1024)
def topic_matches(pattern: str, routing_key: str) -> bool:
    """Whether a binding ``pattern`` matches ``routing_key`` (words separated by dots)."""
    return _match(tuple(pattern.split(".")), tuple(routing_key.split(".")))


def _match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        # '#' swallows zero words, or one word and stays in place for more.
        return _match(rest, words) or (bool(words) and _match(pattern, words[1:]))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])
