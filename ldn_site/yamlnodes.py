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
    one, so that ``null`` and ``"null"`` can be told apart. ``line`` and ``col`` are 1-based:
    where the node's first character (a quote, bracket or "- " included) is."""

    __slots__ = ("kind", "line", "col", "value", "plain", "items")

    def __init__(self, kind: str, line: int, value=None, plain: bool = False, col: int = 0):
        self.kind = kind
        self.line = line
        self.col = col
        self.value = value
        self.plain = plain
        self.items: list = []

    def __repr__(self) -> str:
        return (f"Node({self.kind}, line={self.line}, col={self.col}, value={self.value!r}, "
                f"items={self.items!r})")


def _mark_line(mark) -> int:
    return mark.line + 1 if mark is not None else 0


def _mark_col(mark) -> int:
    return mark.column + 1 if mark is not None else 0


_SCALAR_EVENT = yaml.ScalarEvent
_START_EVENTS = {yaml.SequenceStartEvent: SEQUENCE, yaml.MappingStartEvent: MAPPING}
_END_EVENTS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _too_deep(path: str, line: int, col: int = 0) -> Diagnostic:
    return error(path, line, "yaml-too-deep",
                 f"nesting deeper than {MAX_DEPTH} levels is not allowed", col)


def parse_yaml(text: str, path: str) -> tuple[Node | None, list[Diagnostic]]:
    """Parse one YAML document into a Node tree, or return diagnostics explaining why not."""
    diags: list[Diagnostic] = []
    # Parents being filled, each with the key node waiting for its value (mappings only).
    stack: list[list] = []
    root: Node | None = None
    documents = 0
    last_scalar = None  # the latest scalar event, to place an unclosed quote (see below)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            cls = event.__class__
            kind = _START_EVENTS.get(cls)
            if cls is _SCALAR_EVENT or kind is not None:
                if cls is _SCALAR_EVENT:
                    last_scalar = event
                node = _start_node(event, kind, len(stack), path, diags)
                if node is None:
                    return None, diags
                if not stack:
                    root = node
                else:
                    _attach(stack[-1], node)
                if kind is not None:
                    stack.append([node, None])
            elif cls in _END_EVENTS:
                node = stack.pop()[0]
                if node.kind == MAPPING:
                    diags.extend(_duplicate_keys(node, path))
            elif cls is yaml.AliasEvent:
                diags.append(error(path, _mark_line(event.start_mark), "yaml-alias",
                                   "YAML aliases (*name) are not allowed; write the value out",
                                   _mark_col(event.start_mark)))
                return None, diags
            elif cls is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    diags.append(error(path, _mark_line(event.start_mark),
                                       "yaml-multiple-documents",
                                       "a file must hold exactly one YAML document",
                                       _mark_col(event.start_mark)))
                    return None, diags
    except yaml.MarkedYAMLError as exc:
        diags.append(_syntax_error(exc, path, last_scalar))
        return None, diags
    except yaml.YAMLError as exc:  # reader errors such as control characters
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "mark", None)
        diags.append(error(path, _mark_line(mark), "yaml-syntax",
                           f"YAML syntax error: {str(exc).splitlines()[0]}", _mark_col(mark)))
        return None, diags
    if root is None:
        diags.append(error(path, 1, "yaml-empty", "the file holds no YAML document"))
    if diags:
        return None, diags
    return root, diags


def _start_node(event, kind: str | None, depth: int, path: str, diags: list) -> Node | None:
    """The node a scalar or collection-start event opens, or None with an error when the
    event is refused (an anchor, a tag, too deep)."""
    line, col = _mark_line(event.start_mark), _mark_col(event.start_mark)
    if event.anchor is not None:
        diags.append(error(path, line, "yaml-anchor", f"YAML anchors (&{event.anchor}) are not "
                           "allowed; write the value out", col))
        return None
    # "!" is the non-specific tag libyaml reports for some quoted scalars; any real tag asks
    # for typed construction, which this reader never does.
    if event.tag is not None and event.tag != "!":
        # The parser expands the !! shorthand; quote the tag as the author wrote it.
        tag = event.tag.replace("tag:yaml.org,2002:", "!!", 1)
        diags.append(error(path, line, "yaml-tag", f"YAML tags ({tag}) are not allowed",
                           col))
        return None
    if kind is None:
        # libyaml reports plain scalars with style "", the Python parser with None.
        return Node(SCALAR, line, event.value, not event.style, col)
    if depth >= MAX_DEPTH:
        diags.append(_too_deep(path, line, col))
        return None
    return Node(kind, line, col=col)


def _attach(top: list, node: Node) -> None:
    """Add ``node`` to the collection being filled: an item, a key, or a key's value."""
    parent = top[0]
    if parent.kind == SEQUENCE:
        parent.items.append(node)
    elif top[1] is None:
        top[1] = node
    else:
        parent.items.append((top[1], node))
        top[1] = None


def _syntax_error(exc: yaml.MarkedYAMLError, path: str, last_scalar) -> Diagnostic:
    """A located error for what PyYAML could not parse.

    An unclosed quote is reported where the quote opens, since that is where the fix goes;
    PyYAML places the problem where it gave up, often at the end of the file. Either the quote
    runs to the end of the file (PyYAML's context says so and its context mark is the quote),
    or it swallows the following lines up to the next quote character, and the error comes
    right where that swallowed text ends: then the quoted value spans several lines and ends
    exactly at the error."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if "maximum nesting depth" in problem:
        # PyYAML 6.0.4's libyaml refuses deep flow nesting while scanning, before the events
        # reach MAX_DEPTH here; it is the same defect, so it gets the same report.
        return _too_deep(path, _mark_line(mark), _mark_col(mark))
    if exc.context == "while scanning a quoted scalar" and exc.context_mark is not None:
        opening = exc.context_mark
        ending = ("it runs to the end of the file" if "end of stream" in problem
                  else f"{problem} at line {_mark_line(mark)}")
        return error(path, _mark_line(opening), "yaml-syntax",
                     f"YAML syntax error: the quote that opens here is never closed ({ending})",
                     _mark_col(opening))
    if (last_scalar is not None and last_scalar.style in ("'", '"') and mark is not None
            and last_scalar.end_mark.line > last_scalar.start_mark.line
            and (last_scalar.end_mark.line, last_scalar.end_mark.column)
            == (mark.line, mark.column)):
        opening = last_scalar.start_mark
        return error(path, _mark_line(opening), "yaml-syntax",
                     f"YAML syntax error: the quoted value that starts here runs on to line "
                     f"{_mark_line(mark)}, column {_mark_col(mark)}, and the file cannot be "
                     f"read from there ({problem}); is its closing quote missing?",
                     _mark_col(opening))
    return error(path, _mark_line(mark), "yaml-syntax", f"YAML syntax error: {problem}",
                 _mark_col(mark))


def _duplicate_keys(node: Node, path: str) -> list[Diagnostic]:
    seen: dict[str, int] = {}
    diags = []
    for key, _ in node.items:
        if key.kind != SCALAR:
            diags.append(error(path, key.line, "yaml-complex-key",
                               "mapping keys must be plain text", key.col))
            continue
        if key.value in seen:
            diags.append(error(path, key.line, "duplicate-key",
                               f"duplicate key '{key.value}' (first defined on line "
                               f"{seen[key.value]})", key.col))
        else:
            seen[key.value] = key.line
    return diags
