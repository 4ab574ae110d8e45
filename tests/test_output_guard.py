"""A build never replaces or deletes a folder it did not create (issue: output_dir pointing at
a user's docs/, at claims/, at the repository itself, at / ...). Every case builds twice, as a
second build is the one that used to delete what the first moved aside, and then checks that
every user file is still there, byte for byte, and that nothing was left beside the target."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import read_tree, run_cli
from ldn_site import publishing


def set_output_dir(site: Path, value: str) -> int:
    """Append ``output_dir: value`` to site.yaml; returns its line number."""
    text = (site / "site.yaml").read_text("utf-8")
    lines = [ln for ln in text.rstrip("\n").split("\n") if not ln.startswith("output_dir:")]
    lines.append(f"output_dir: '{value}'")
    (site / "site.yaml").write_text("\n".join(lines) + "\n", "utf-8")
    return len(lines)


def everything(folder: Path) -> dict[str, bytes]:
    return read_tree(folder)


def build_twice(site: Path, *extra: str):
    results = [run_cli("build", "--root", site, "--no-search", *extra) for _ in range(2)]
    for result in results:
        assert "Traceback" not in result.output
    return results


def refused_at(result, where: str) -> str:
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.stdout.splitlines() if "[unsafe-output]" in ln]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"{where}:") and ": error: " in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("value, why", [
    ("claims", "inside the repository's claims/ folder"),
    ("templates", "inside the repository's templates/ folder"),
    ("sources", "inside the repository's sources/ folder"),
    ("_site/../sources", "inside the repository's sources/ folder"),
    ("claims/deeper", "inside the repository's claims/ folder"),
    (".", "is the repository itself or a folder that contains it"),
    ("..", "is the repository itself or a folder that contains it"),
    ("/", "is the repository itself or a folder that contains it"),
    ("../{repo}", "is the repository itself or a folder that contains it"),
])
def test_the_repository_and_its_content_are_refused(make_site, value, why):
    site = make_site("minimal")
    line = set_output_dir(site, value.format(repo=site.name))
    before = everything(site)
    for result in build_twice(site):
        message = refused_at(result, f"site.yaml:{line}")
        assert why in message
    after = everything(site)
    # site.yaml is unchanged too; only nothing new may appear (no staging or site folder).
    assert after == before
    assert [p.name for p in site.parent.iterdir() if p.name.startswith(".")] == []


def test_a_folder_of_user_files_is_refused_and_kept(make_site):
    site = make_site("minimal")
    docs = site / "docs"
    (docs / "guide").mkdir(parents=True)
    (docs / "index.md").write_text("my notes\n", "utf-8")
    (docs / "guide" / "a.txt").write_text("more\n", "utf-8")
    kept = everything(docs)
    line = set_output_dir(site, "docs")
    for result in build_twice(site):
        message = refused_at(result, f"site.yaml:{line}")
        assert "was not written by ldn-site" in message
    assert everything(docs) == kept
    assert sorted(p.name for p in site.iterdir() if p.name.startswith(".")) == []


def test_outside_the_repository_needs_a_flag_and_still_never_replaces_user_files(make_site,
                                                                                tmp_path):
    site = make_site("minimal")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "thesis.tex").write_text("years of work\n", "utf-8")
    line = set_output_dir(site, str(elsewhere))
    for result in build_twice(site):
        assert "is outside the repository" in refused_at(result, f"site.yaml:{line}")
    for result in build_twice(site, "--allow-outside"):
        assert "was not written by ldn-site" in refused_at(result, f"site.yaml:{line}")
    assert everything(elsewhere) == {"thesis.tex": b"years of work\n"}
    # A new folder outside the repository is fine with the flag, and rebuilt in place.
    fresh = tmp_path / "fresh"
    set_output_dir(site, str(fresh))
    for result in build_twice(site, "--allow-outside"):
        assert result.exit_code == 0, result.output
    assert (fresh / "index.html").is_file() and (fresh / publishing.MARKER).is_file()


def test_output_on_the_command_line_may_be_anywhere_but_never_over_user_files(make_site,
                                                                             tmp_path):
    site = make_site("minimal")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "photo.jpg").write_bytes(b"\xff\xd8 precious")
    for result in build_twice(site, "--output", mine):
        assert "was not written by ldn-site" in refused_at(result, "--output")
    assert everything(mine) == {"photo.jpg": b"\xff\xd8 precious"}
    for result in build_twice(site, "--output", site / "claims"):
        refused_at(result, "--output")


def test_an_empty_folder_a_new_folder_and_an_earlier_site_are_accepted(make_site, tmp_path):
    site = make_site("minimal")
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in (empty, tmp_path / "new" / "deeper"):
        for result in build_twice(site, "--output", target):
            assert result.exit_code == 0, result.output
        assert (target / "index.html").is_file()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_a_symbolic_link_or_a_file_as_output_is_refused(make_site, tmp_path):
    site = make_site("minimal")
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    assert "is a symbolic link" in refused_at(
        run_cli("build", "--root", site, "--no-search", "--output", link), "--output")
    afile = tmp_path / "afile"
    afile.write_text("x", "utf-8")
    # click refuses a file for --output itself; output_dir in site.yaml is checked here.
    assert run_cli("build", "--root", site, "--no-search", "--output", afile).exit_code == 2
    line = set_output_dir(site, str(afile))
    assert "is not a folder" in refused_at(
        run_cli("build", "--root", site, "--no-search", "--allow-outside"), f"site.yaml:{line}")
    assert afile.read_text("utf-8") == "x" and list(real.iterdir()) == []


def test_check_reports_an_unsafe_output_dir_like_build(make_site):
    site = make_site("minimal")
    line = set_output_dir(site, "claims")
    result = run_cli("check", "--root", site)
    assert "inside the repository's claims/ folder" in refused_at(result, f"site.yaml:{line}")


def test_leftovers_without_the_marker_are_not_ours_and_stay(make_site, tmp_path):
    site = make_site("minimal")
    out = tmp_path / "out"
    lookalike = tmp_path / ".out.replaced-1-1"
    lookalike.mkdir()
    (lookalike / "keep.txt").write_text("not a site\n", "utf-8")
    marked = tmp_path / ".out.staging-1-1"
    marked.mkdir()
    (marked / publishing.MARKER).write_text(publishing.MARKER_TEXT, "utf-8")
    # Killed between making its staging folder and marking it: empty, so removed too.
    unmarked_empty = tmp_path / ".out.staging-2-1"
    unmarked_empty.mkdir()
    unmarked_full = tmp_path / ".out.staging-3-1"
    unmarked_full.mkdir()
    (unmarked_full / "keep.txt").write_text("not a site\n", "utf-8")
    result = run_cli("build", "--root", site, "--no-search", "--output", out)
    assert result.exit_code == 0, result.output
    assert (lookalike / "keep.txt").read_text("utf-8") == "not a site\n"
    assert (unmarked_full / "keep.txt").read_text("utf-8") == "not a site\n"
    assert not marked.exists(), "a killed build's marked staging folder is removed"
    assert not unmarked_empty.exists(), "a killed build's empty staging folder is removed"


def test_a_site_written_before_the_marker_existed_is_recognised(make_site, tmp_path):
    site = make_site("minimal")
    old = tmp_path / "old"
    (old / "data").mkdir(parents=True)
    (old / "data" / "claims.json").write_text('{"format": "ldn-site open data, version 1"}',
                                              "utf-8")
    (old / "index.html").write_text("old site", "utf-8")
    result = run_cli("build", "--root", site, "--no-search", "--output", old)
    assert result.exit_code == 0, result.output
    assert (old / publishing.MARKER).is_file()


def test_the_fallback_without_an_atomic_exchange_publishes_the_same_site(make_site, tmp_path,
                                                                         monkeypatch):
    site = make_site("minimal")
    out = tmp_path / "out"
    assert run_cli("build", "--root", site, "--no-search", "--output", out).exit_code == 0
    first = read_tree(out)
    monkeypatch.setattr(publishing, "_exchange", lambda a, b: False)
    assert run_cli("build", "--root", site, "--no-search", "--output", out).exit_code == 0
    assert read_tree(out) == first
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert os.path.isfile(out / publishing.MARKER)


def test_an_unchanged_site_is_not_left_in_place_once_its_folder_is_refused(make_site,
                                                                          tmp_path):
    """The shortcut for an unchanged site must not skip the output check: a site built
    outside the repository with --allow-outside is refused by a plain build."""
    site = make_site("minimal")
    line = set_output_dir(site, str(tmp_path / "outside"))
    assert run_cli("build", "--root", site, "--no-search", "--allow-outside").exit_code == 0
    assert run_cli("check", "--root", site, "--allow-outside").exit_code == 0
    refused_at(run_cli("build", "--root", site, "--no-search"), f"site.yaml:{line}")
    refused_at(run_cli("check", "--root", site), f"site.yaml:{line}")
