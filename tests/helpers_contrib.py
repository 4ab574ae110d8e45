"""Helpers for the contributor-workflow tests (new, serve, schema, diff, check formats,
repository furniture): copies of the minimal sample site, the real CLI in a subprocess, and
filling in a skeleton's placeholders the way a contributor would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
MINIMAL = TESTS / "sites" / "minimal"
TEMPLATES = REPO / "templates"
# 2026-02-01T00:00:00Z, as in conftest: after the minimal site's review (2026-01-15).
FIXED_EPOCH = "1769904000"
_IGNORE = shutil.ignore_patterns(".ldn-site-cache", "_site", ".*.staging-*", ".*.replaced-*",
                                 "__pycache__")


def copy_minimal(dest: Path, templates: bool = True) -> Path:
    """A fresh copy of tests/sites/minimal (plus the repository's templates) at ``dest``."""
    shutil.copytree(MINIMAL, dest, ignore=_IGNORE)
    if templates:
        shutil.copytree(TEMPLATES, dest / "templates", ignore=_IGNORE)
    return dest


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, SOURCE_DATE_EPOCH=FIXED_EPOCH, PYTHONUNBUFFERED="1", NO_COLOR="1")
    env.update(extra)
    return env


def ldn_site(*args, cwd: Path | str | None = None, env: dict | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real ``ldn-site`` command (this interpreter's package) in a subprocess."""
    return subprocess.run([sys.executable, "-m", "ldn_site", *map(str, args)], cwd=cwd,
                          env=env or cli_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


_PLACEHOLDER = re.compile(r'^(?P<lead>\s*(?:- )?)(?P<key>[a-z_]+): (?P<value>""|\[""\])'
                          r'(?P<rest>.*)$')
_LIST_ITEM = re.compile(r'^(?P<lead>\s*)- ""(?P<rest>.*)$')


def fill_placeholders(text: str, values: dict[str, str], list_items: list[str] = ()) -> str:
    """Replace every ``key: ""`` (and ``key: [""]``) placeholder with ``values[key]``, and each
    bare ``- ""`` list item with the next of ``list_items``; a placeholder without a value is
    an error, so a new placeholder in a skeleton makes the tests say which one."""
    items = list(list_items)
    out = []
    for line in text.splitlines():
        m = _PLACEHOLDER.match(line)
        if m:
            key = m["key"]
            if key not in values:
                raise KeyError(f"no value for placeholder '{key}' in line: {line}")
            value = values[key]
            if m["value"] == '[""]' and not value.startswith("["):
                value = f"[{value}]"
            line = f"{m['lead']}{key}: {value}{m['rest']}"
        else:
            m = _LIST_ITEM.match(line)
            if m:
                line = f"{m['lead']}- {items.pop(0)}{m['rest']}"
        out.append(line)
    left = [line for line in out if _PLACEHOLDER.match(line) or _LIST_ITEM.match(line)]
    assert not left, f"placeholders left unfilled: {left}"
    return "\n".join(out) + "\n"


# What a contributor would write into the claim skeleton for the minimal site.
CLAIM_VALUES = {
    "title": "The drug reduces pain in one small trial",
    "statement": "The drug reduces pain compared with placebo.",
    "topic": "efficacy",
    "verdict": "supported",
    "source": "trial2020",
    "finding": "In 40 adults, pain fell more with the drug than with placebo.",
    "direction": "supports",
    "excerpts": "[trial2020#abstract]",
    "rating": "not-serious",
    "summary": "One small trial found less pain with the drug.",
    "reviewer": "A. Reviewer",
}


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML with YAML 1.2 core-schema typing, as editors' yaml-language-server reads files:
    dates stay text, and only true/false are booleans (``no`` stays "no")."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                                    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                    list("tTfF"))


def load_yaml12(text: str):
    return yaml.load(text, Loader=_Yaml12Loader)  # a SafeLoader subclass
