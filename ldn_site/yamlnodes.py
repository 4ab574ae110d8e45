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

from dataclasses import dataclass, field

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


@dataclass(eq=False)
class Node:
    """A YAML node. ``value`` is text for scalars, a list of nodes for sequences and a list of
    (key node, value node) pairs for mappings. ``plain`` tells an unquoted scalar from a quoted
    one, so that ``null`` and ``"null"`` can be told apart. ``line`` is 1-based."""

    kind: str
    line: int
    value: object = None
    plain: bool = False
    items: list = field(default_factory=list)


def _mark_line(mark) -> int:
    return mark.line + 1 if mark is not None else 0


def parse_yaml(text: str, path: str) -> tuple[Node | None, list[Diagnostic]]:
    """Parse one YAML document into a Node tree, or return diagnostics explaining why not."""
    diags: list[Diagnostic] = []
    stack: list[Node] = []
    pending_keys: list[Node | None] = []
    root: Node | None = None
    documents = 0

    def attach(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        parent = stack[-1]
        if parent.kind == SEQUENCE:
            parent.items.append(node)
        elif pending_keys[-1] is None:
            pending_keys[-1] = node
        else:
            parent.items.append((pending_keys[-1], node))
            pending_keys[-1] = None

    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = _mark_line(event.start_mark)
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    diags.append(error(path, line, "yaml-multiple-documents",
                                       "a file must hold exactly one YAML document"))
                    return None, diags
                continue
            if isinstance(event, yaml.AliasEvent):
                diags.append(error(path, line, "yaml-alias",
                                   "YAML aliases (*name) are not allowed; write the value out"))
                return None, diags
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                diags.append(error(path, line, "yaml-anchor",
                                   f"YAML anchors (&{anchor}) are not allowed; write the value out"))
                return None, diags
            tag = getattr(event, "tag", None)
            # "!" is the non-specific tag libyaml reports for some quoted scalars; any real tag
            # asks for typed construction, which this reader never does.
            if tag not in (None, "!"):
                diags.append(error(path, line, "yaml-tag", f"YAML tags ({tag}) are not allowed"))
                return None, diags
            if isinstance(event, yaml.ScalarEvent):
                # libyaml reports plain scalars with style "" and the pure-Python parser with None.
                attach(Node(SCALAR, line, event.value, plain=not event.style))
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    diags.append(error(path, line, "yaml-too-deep",
                                       f"nesting deeper than {MAX_DEPTH} levels is not allowed"))
                    return None, diags
                node = Node(SEQUENCE if isinstance(event, yaml.SequenceStartEvent) else MAPPING,
                            line)
                attach(node)
                stack.append(node)
                pending_keys.append(None)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                node = stack.pop()
                pending_keys.pop()
                if node.kind == MAPPING:
                    diags.extend(_duplicate_keys(node, path))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
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
