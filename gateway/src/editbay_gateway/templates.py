"""Path templates of ``google.api.http`` rules, matched against request paths.

Grammar (from google/api/http.proto)::

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    Verb     = ":" LITERAL ;

``/v1/{name=shows/*/episodes/*/editPlans/*}:approve`` matches
``/v1/shows/a/episodes/b/editPlans/c:approve`` and binds ``name`` to
``shows/a/episodes/b/editPlans/c``.
A ``*`` never matches a ``:``, so ``…/editPlans/c:watch`` is not mistaken for a plan named
``c:watch`` (resource ids never hold a colon).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SEGMENT = "[^/:]+"
_SEGMENTS = "[^:]+"


class TemplateError(ValueError):
    """A path template that does not follow the grammar."""


@dataclass(frozen=True)
class PathParam:
    """A path parameter as OpenAPI shows it: one ``*`` of a variable, named after its collection."""

    name: str
    field_path: str


@dataclass(frozen=True)
class PathTemplate:
    template: str
    regex: re.Pattern[str]
    # Regex group name -> request field path (``show.name``).
    variables: dict[str, str]
    verb: str
    # The template with every wildcard spelled as an OpenAPI parameter: /v1/shows/{show}:undelete
    display_path: str
    display_params: tuple[PathParam, ...] = field(default=())

    @property
    def field_paths(self) -> list[str]:
        return list(self.variables.values())

    def match(self, path: str) -> dict[str, str] | None:
        """The field values bound by ``path``, or None when it does not match."""
        found = self.regex.fullmatch(path)
        if found is None:
            return None
        return {self.variables[group]: value for group, value in found.groupdict().items()}


def parse_template(template: str) -> PathTemplate:
    if not template.startswith("/"):
        raise TemplateError(f"template must start with '/': {template!r}")
    body, verb = _split_verb(template)
    regex_parts: list[str] = []
    display_parts: list[str] = []
    variables: dict[str, str] = {}
    params: list[PathParam] = []
    for token in _split_top_level(body[1:]):
        if token.startswith("{"):
            if not token.endswith("}"):
                raise TemplateError(f"unclosed variable in {template!r}")
            field_path, _, inner = token[1:-1].partition("=")
            if not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*", field_path):
                raise TemplateError(f"bad field path {field_path!r} in {template!r}")
            group = f"v{len(variables)}"
            variables[group] = field_path
            inner_regex, inner_display = _segments(inner or "*", field_path, params)
            regex_parts.append(f"(?P<{group}>{inner_regex})")
            display_parts.append(inner_display)
        else:
            regex, display = _segments(token, "", params)
            regex_parts.append(regex)
            display_parts.append(display)
    suffix = f":{verb}" if verb else ""
    return PathTemplate(
        template=template,
        regex=re.compile("/" + "/".join(regex_parts) + re.escape(suffix)),
        variables=variables,
        verb=verb,
        display_path="/" + "/".join(display_parts) + suffix,
        display_params=tuple(params),
    )


def _split_verb(template: str) -> tuple[str, str]:
    depth = 0
    verb_at = -1
    for i, char in enumerate(template):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == ":" and depth == 0:
            verb_at = i
    if depth != 0:
        raise TemplateError(f"unbalanced braces in {template!r}")
    if verb_at < 0:
        return template, ""
    verb = template[verb_at + 1 :]
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", verb):
        raise TemplateError(f"bad verb {verb!r} in {template!r}")
    return template[:verb_at], verb


def _split_top_level(text: str) -> list[str]:
    """Split on '/' outside braces."""
    tokens: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if char == "/" and depth == 0:
            tokens.append(current)
            current = ""
        else:
            current += char
    tokens.append(current)
    if any(token == "" for token in tokens):
        raise TemplateError(f"empty segment in {text!r}")
    return tokens


def _segments(text: str, field_path: str, params: list[PathParam]) -> tuple[str, str]:
    """Regex and display form of literal / wildcard segments (inside a variable or not)."""
    regex: list[str] = []
    display: list[str] = []
    previous_literal = ""
    for segment in text.split("/"):
        if segment in ("*", "**"):
            regex.append(_SEGMENT if segment == "*" else _SEGMENTS)
            name = _param_name(previous_literal, field_path, params)
            params.append(PathParam(name, field_path))
            display.append("{" + name + "}")
        elif re.fullmatch(r"[A-Za-z0-9_.~-]+", segment):
            regex.append(re.escape(segment))
            display.append(segment)
            previous_literal = segment
        else:
            raise TemplateError(f"bad segment {segment!r}")
    return "/".join(regex), "/".join(display)


def _param_name(collection: str, field_path: str, params: list[PathParam]) -> str:
    """``shows`` -> ``show``; a variable without a pattern is named after its field."""
    base = collection[:-1] if collection.endswith("s") else collection
    base = base or field_path.replace(".", "_") or "path"
    taken = {p.name for p in params}
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    return name
