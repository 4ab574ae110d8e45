"""A strict, located YAML reader: text in, a tree of ``Node`` values out.

Owns turning YAML text into nodes that keep their line numbers. It builds the tree itself from
PyYAML's event stream instead of using PyYAML's constructors, because those constructors are
where PyYAML's traps live: duplicate keys silently overwrite, YAML 1.1 implicit typing turns
``no`` into False and ``1.10`` into 1.1, and the recursive composer crashes on deep nesting.
Here scalars stay text (the schema decides their type), duplicate keys, anchors, aliases and
tags are refused, and nesting deeper than ``MAX_DEPTH`` is refused with a located error.

It does no file I/O and never raises for bad input: it returns diagnostics.
"""

from __future__ import annotations

import yaml

from ldn_site.diagnostics import Diagnostic, error

try:  # libyaml's event parser is iterative and several times faster than the pure-Python one
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

MAX_DEPTH = 32

SCALAR = "scalar"
SEQUENCE = "sequence"
MAPPING = "mapping"


class Node:
    """A YAML node. ``value`` is text for scalars; ``items`` holds child nodes for sequences and
    (key node, value node) pairs for mappings. ``plain`` tells an unquoted scalar from a quoted
    one, so that ``null`` and ``"null"`` can be told apart. ``line`` is 1-based."""

    __slots__ = ("kind", "line", "value", "plain", "items")

    def __init__(self, kind: str, line: int, value=None, plain: bool = False):
        self.kind = kind
        self.line = line
        self.value = value
        self.plain = plain
        self.items: list = []

    def __repr__(self) -> str:
        return f"Node({self.kind}, line={self.line}, value={self.value!r}, items={self.items!r})"


def _mark_line(mark) -> int:
    return mark.line + 1 if mark is not None else 0


_SCALAR_EVENT = yaml.ScalarEvent
_START_EVENTS = {yaml.SequenceStartEvent: SEQUENCE, yaml.MappingStartEvent: MAPPING}
_END_EVENTS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _too_deep(path: str, line: int) -> Diagnostic:
    return error(path, line, "yaml-too-deep", f"nesting deeper than {MAX_DEPTH} levels is not allowed")


def parse_yaml(text: str, path: str) -> tuple[Node | None, list[Diagnostic]]:
    """Parse one YAML document into a Node tree, or return diagnostics explaining why not."""
    diags: list[Diagnostic] = []
    # Parents being filled, each with the key node waiting for its value (mappings only).
    stack: list[list] = []
    root: Node | None = None
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            cls = event.__class__
            kind = _START_EVENTS.get(cls)
            if cls is _SCALAR_EVENT or kind is not None:
                line = event.start_mark.line + 1
                if event.anchor is not None:
                    diags.append(error(path, line, "yaml-anchor", f"YAML anchors "
                                       f"(&{event.anchor}) are not allowed; write the value out"))
                    return None, diags
                # "!" is the non-specific tag libyaml reports for some quoted scalars; any real
                # tag asks for typed construction, which this reader never does.
                if event.tag is not None and event.tag != "!":
                    diags.append(error(path, line, "yaml-tag",
                                       f"YAML tags ({event.tag}) are not allowed"))
                    return None, diags
                if kind is None:
                    # libyaml reports plain scalars with style "", the Python parser with None.
                    node = Node(SCALAR, line, event.value, not event.style)
                else:
                    if len(stack) >= MAX_DEPTH:
                        diags.append(_too_deep(path, line))
                        return None, diags
                    node = Node(kind, line)
                if not stack:
                    root = node
                else:
                    top = stack[-1]
                    parent = top[0]
                    if parent.kind == SEQUENCE:
                        parent.items.append(node)
                    elif top[1] is None:
                        top[1] = node
                    else:
                        parent.items.append((top[1], node))
                        top[1] = None
                if kind is not None:
                    stack.append([node, None])
            elif cls in _END_EVENTS:
                node = stack.pop()[0]
                if node.kind == MAPPING:
                    diags.extend(_duplicate_keys(node, path))
            elif cls is yaml.AliasEvent:
                diags.append(error(path, _mark_line(event.start_mark), "yaml-alias",
                                   "YAML aliases (*name) are not allowed; write the value out"))
                return None, diags
            elif cls is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    diags.append(error(path, _mark_line(event.start_mark),
                                       "yaml-multiple-documents",
                                       "a file must hold exactly one YAML document"))
                    return None, diags
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "maximum nesting depth" in problem:
            # PyYAML 6.0.4's libyaml refuses deep flow nesting while scanning, before the
            # events reach MAX_DEPTH here; it is the same defect, so it gets the same report.
            diags.append(_too_deep(path, _mark_line(mark)))
            return None, diags
        diags.append(error(path, _mark_line(mark), "yaml-syntax", f"YAML syntax error: {problem}"))
        return None, diags
    except yaml.YAMLError as exc:  # reader errors such as control characters
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "mark", None)
        diags.append(error(path, _mark_line(mark), "yaml-syntax",
                           f"YAML syntax error: {str(exc).splitlines()[0]}"))
        return None, diags
    if root is None:
        diags.append(error(path, 1, "yaml-empty", "the file holds no YAML document"))
    if diags:
        return None, diags
    return root, diags


def _duplicate_keys(node: Node, path: str) -> list[Diagnostic]:
    seen: dict[str, int] = {}
    diags = []
    for key, _ in node.items:
        if key.kind != SCALAR:
            diags.append(error(path, key.line, "yaml-complex-key", "mapping keys must be plain text"))
            continue
        if key.value in seen:
            diags.append(error(path, key.line, "duplicate-key",
                               f"duplicate key '{key.value}' (first defined on line {seen[key.value]})"))
        else:
            seen[key.value] = key.line
    return diags
