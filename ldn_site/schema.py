"""Schema: typed conversion of YAML nodes into the content model, and its JSON Schema export.

Owns the per-file rules that the model's field metadata declares: required and unknown keys,
types, allowed values, patterns, minimum list sizes. It records on an object what could be
seen of what could not be read (the fields an unknown key was probably meant to be, the ids
of list items left out), so that ``validation`` does not report those mistakes again as
something missing or dangling. Types come from the schema, never from YAML's guessing, so
``no`` in a text field stays the text "no" and ``1.10`` stays "1.10".
Everything that spans files (ids, references, grading reasons) belongs to ``validation``.
Pure: takes nodes and returns values with diagnostics; never reads files, never raises on bad
content.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
import re
import types
import typing

from ldn_site.diagnostics import Diagnostic, closest, error
from ldn_site.model import PATTERN_HELP, Text
from ldn_site.yamlnodes import MAPPING, SCALAR, SEQUENCE, Node

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_KIND_NAMES = {SCALAR: "a single value", SEQUENCE: "a list", MAPPING: "a mapping"}


@functools.lru_cache(maxsize=None)
def fields_of(cls) -> tuple[tuple[str, object, dict, bool], ...]:
    """(name, type, metadata, required) for each public field of a model class."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out.append((f.name, hints[f.name], dict(f.metadata), required))
    return tuple(out)


def _unwrap_optional(tp):
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def _describe(node: Node) -> str:
    if node.kind == SCALAR:
        return f"'{node.value}'"
    return _KIND_NAMES[node.kind]


def convert(node: Node, cls, path: str) -> tuple[object | None, list[Diagnostic]]:
    """Convert a mapping node into an instance of the model class ``cls``."""
    diags: list[Diagnostic] = []
    value = _convert_object(node, cls, path, "", diags)
    return value, diags


def _convert_object(node: Node, cls, path: str, where: str, diags: list) -> object | None:
    name = where or "the file"
    if node.kind != MAPPING:
        diags.append(error(path, node.line, "wrong-type",
                           f"{name} must be a mapping of fields, not {_describe(node)}", node.col))
        return None
    fields = fields_of(cls)
    given, meant = _known_keys(node, {f[0] for f in fields}, path, where, diags)
    kwargs = {}
    internal = cls.__dataclass_fields__
    if "misspelt_fields" in internal:
        kwargs["misspelt_fields"] = tuple(sorted(meant))
    ok = True
    for fname, tp, meta, required in fields:
        label = _join(where, fname)
        if fname not in given or _is_null(given[fname]):
            if required:
                # A mistyped key already says which field it was meant to be.
                if fname not in meant:
                    diags.append(error(path, node.line, "missing-field",
                                       f"missing required field '{label}'", node.col))
                ok = False
            continue
        before = len(diags)
        unread: list[str] = []
        val = _convert_value(given[fname], tp, meta, path, label, diags, unread)
        if unread and f"unread_{fname}" in internal:
            kwargs[f"unread_{fname}"] = tuple(unread)
        if len(diags) > before and val is None:
            ok = ok and not required
            continue
        kwargs[fname] = val
    if not ok:
        return None
    obj = cls(**kwargs)
    if "line" in cls.__dataclass_fields__:
        obj.line = node.line
        obj.col = node.col
    return obj


def _known_keys(node: Node, known: set[str], path: str, where: str,
                diags: list) -> tuple[dict[str, Node], set[str]]:
    """The value node of each known key (the first one, as duplicates are reported by the
    reader), and the fields that unknown keys were probably meant to be. An unknown key is
    reported with the field most likely meant, as git does for a mistyped command, or, when
    none is close, with every allowed field."""
    given: dict[str, Node] = {}
    meant: set[str] = set()
    for key, val in node.items:
        if key.value in known:
            given.setdefault(key.value, val)
            continue
        close = closest(key.value, known)
        if close:
            meant.add(close)
            hint = f" (did you mean '{close}'?)"
        else:
            hint = f" (allowed: {', '.join(sorted(known))})"
        diags.append(error(path, key.line, "unknown-field",
                           f"unknown field '{_join(where, key.value)}'{hint}", key.col))
    return given, meant


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _is_null(node: Node) -> bool:
    return node.kind == SCALAR and node.plain and node.value in _NULLS


@functools.lru_cache(maxsize=None)
def _shape(tp) -> tuple[str, object]:
    """("list", item type), ("object", class) or ("scalar", type) for a field's type hint;
    worked out once per hint, because conversion asks for every value of every file."""
    tp, _ = _unwrap_optional(tp)
    if typing.get_origin(tp) is list:
        return "list", typing.get_args(tp)[0]
    if dataclasses.is_dataclass(tp):
        return "object", tp
    return "scalar", tp


def _convert_value(node: Node, tp, meta: dict, path: str, label: str, diags: list,
                   unread: list | None = None):
    """The value of one field. For a list, ``unread`` receives what could be seen of each
    item that could not be read (see ``_item_id``), or one "" when the list itself could not."""
    shape, tp = _shape(tp)
    if shape == "list":
        item_tp = tp
        if node.kind != SEQUENCE:
            diags.append(error(path, node.line, "wrong-type",
                               f"'{label}' must be a list, not {_describe(node)}", node.col))
            if unread is not None:
                unread.append("")
            return None
        items = []
        for i, child in enumerate(node.items):
            item = _convert_value(child, item_tp, meta, path, f"{label}[{i + 1}]", diags)
            if item is not None:
                items.append(item)
            elif unread is not None:
                unread.append(_item_id(child))
        if len(node.items) < meta.get("min_items", 0):
            diags.append(error(path, node.line, "too-few-items",
                               f"'{label}' needs at least {meta['min_items']} item(s)", node.col))
        return items
    if shape == "object":
        return _convert_object(node, tp, path, label, diags)
    if node.kind != SCALAR:
        diags.append(error(path, node.line, "wrong-type",
                           f"'{label}' must be a single value, not {_describe(node)}", node.col))
        return None
    return _convert_scalar(node, tp, meta, path, label, diags)


def _item_id(node: Node) -> str:
    """What a list item that could not be read was meant to be called: a scalar's text (an
    excerpt link), a mapping's ``id`` (an excerpt), or "" when that cannot be seen."""
    if node.kind == SCALAR:
        return str(node.value)
    if node.kind == MAPPING:
        for key, value in node.items:
            if key.value == "id" and value.kind == SCALAR:
                return str(value.value)
    return ""


def _convert_scalar(node: Node, tp, meta: dict, path: str, label: str, diags: list):
    raw = node.value
    if tp is bool:
        if node.plain and raw in ("true", "false"):
            return raw == "true"
        diags.append(error(path, node.line, "wrong-type",
                           f"'{label}' must be true or false, not '{raw}'", node.col))
        return None
    if tp is int:
        value = None
        if node.plain and _INT.match(raw):
            try:
                value = int(raw)
            except ValueError:  # over Python's 4300-digit limit: a crash before this guard
                pass
        if value is None:
            diags.append(error(path, node.line, "wrong-type",
                               f"'{label}' must be a whole number, not '{raw}'", node.col))
            return None
        return _check_minimum(value, meta, node, path, label, diags)
    if tp is float:
        # float() turns an overlong number such as 1e999 into infinity; no effect is infinite.
        if node.plain and (_INT.match(raw) or _FLOAT.match(raw)) and math.isfinite(float(raw)):
            value = float(raw)
        else:
            diags.append(error(path, node.line, "wrong-type",
                               f"'{label}' must be a number, not '{raw}'", node.col))
            return None
        return _check_minimum(value, meta, node, path, label, diags)
    # Text: the literal characters as written, whatever YAML 1.1 would have guessed.
    text = Text(raw, node.line, node.col)
    if not text.strip():
        diags.append(error(path, node.line, "empty-value", f"'{label}' must not be empty",
                           node.col))
        return None
    choices = meta.get("choices")
    if choices and text not in choices:
        diags.append(error(path, node.line, "invalid-value",
                           f"'{label}' must be one of {', '.join(choices)}; got '{text}'",
                           node.col))
        return None
    pattern = meta.get("pattern")
    if pattern and not re.match(pattern, text):
        diags.append(error(path, node.line, "invalid-format",
                           f"'{label}' value '{text}' is not in the required form: "
                           f"{PATTERN_HELP.get(pattern, pattern)}", node.col))
        return None
    if meta.get("date"):
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            diags.append(error(path, node.line, "invalid-date",
                               f"'{label}' value '{text}' is not a real date (YYYY-MM-DD)",
                               node.col))
            return None
    return text


def _check_minimum(value, meta, node, path, label, diags):
    minimum = meta.get("minimum")
    if minimum is not None and value < minimum:
        diags.append(error(path, node.line, "invalid-value",
                           f"'{label}' must be at least {minimum}; got {value}", node.col))
        return None
    return value


# --- JSON Schema export --------------------------------------------------------------------

def json_schema(cls, title: str) -> dict:
    """A JSON Schema (draft 2020-12) for files of the model class ``cls``."""
    defs: dict[str, dict] = {}
    root = _object_schema(cls, defs)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title}
    schema.update(root)
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


def _object_schema(cls, defs: dict) -> dict:
    props = {}
    required = []
    for name, tp, meta, req in fields_of(cls):
        props[name] = _value_schema(tp, meta, defs)
        if req:
            required.append(name)
    out = {"type": "object", "additionalProperties": False, "properties": props}
    if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
        out["description"] = " ".join(cls.__doc__.split())
    if required:
        out["required"] = required
    return out


def _value_schema(tp, meta: dict, defs: dict) -> dict:
    tp, nullable = _unwrap_optional(tp)
    origin = typing.get_origin(tp)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        item_meta = dict(meta, doc="")
        out = {"type": "array", "items": _value_schema(item_tp, item_meta, defs)}
        if meta.get("min_items"):
            out["minItems"] = meta["min_items"]
    elif dataclasses.is_dataclass(tp):
        if tp.__name__ not in defs:
            defs[tp.__name__] = {}  # placeholder breaks recursion
            defs[tp.__name__] = _object_schema(tp, defs)
        out = {"$ref": f"#/$defs/{tp.__name__}"}
    elif tp is bool:
        out = {"type": "boolean"}
    elif tp is int:
        out = {"type": "integer"}
    elif tp is float:
        out = {"type": "number"}
    else:
        # A text field takes the literal characters of any scalar (``n: 12`` in a text field
        # is the text "12"; see _convert_scalar), so an editor must not underline a number or
        # true/false there. minLength and pattern apply to strings only, as JSON Schema says.
        out = {"type": ["string", "number", "boolean"], "minLength": 1}
        if meta.get("choices"):
            out = {"enum": list(meta["choices"])}
        elif meta.get("pattern"):
            out["pattern"] = meta["pattern"]
        if meta.get("date"):
            out["format"] = "date"
    if meta.get("minimum") is not None:
        out["minimum"] = meta["minimum"]
    if meta.get("doc"):
        out = {"description": meta["doc"], **out} if "$ref" not in out else \
            {"description": meta["doc"], "allOf": [out]}
    if nullable:
        pass  # optional fields are simply left out; null is accepted by the loader as "absent"
    return out
