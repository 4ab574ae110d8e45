"""Deterministic output: the same content gives the same bytes, whatever the output folder,
the checkout's location, the state of the Markdown cache or the number of worker processes."""

from __future__ import annotations

from conftest import read_tree, run_cli
from ldn_site import caching, pipeline


def build(site, out, **kw) -> dict[str, bytes]:
    result = pipeline.build_site(str(site), output=str(out), search=False, **kw)
    assert result.written, [d.format() for d in result.diagnostics]
    return read_tree(out)


def assert_same_tree(a: dict[str, bytes], b: dict[str, bytes], what: str) -> None:
    assert sorted(a) == sorted(b), what
    differing = [rel for rel in a if a[rel] != b[rel]]
    assert differing == [], f"{what}: {differing}"


def test_builds_are_byte_identical_across_folders_cache_and_jobs(make_site, tmp_path):
    site = make_site("minimal")
    cache_file = site / caching.CACHE_DIR / caching.STORE_FILE
    assert not cache_file.exists()

    cold = build(site, tmp_path / "cold")
    assert cold and cache_file.stat().st_size > 0, "the first build should fill the cache"
    warm = build(site, tmp_path / "warm")
    no_cache = build(site, tmp_path / "no-cache", use_cache=False)
    two_jobs = build(site, tmp_path / "two-jobs", jobs=2)
    one_job = build(site, tmp_path / "one-job", jobs=1, use_cache=False)
    elsewhere = build(make_site("minimal"), tmp_path / "deeper" / "folder" / "site")

    assert_same_tree(cold, warm, "warm Markdown cache")
    assert_same_tree(cold, no_cache, "without the cache")
    assert_same_tree(cold, two_jobs, "jobs=2")
    assert_same_tree(cold, one_job, "jobs=1")
    assert_same_tree(cold, elsewhere, "another checkout and output folder")


def test_a_rebuild_into_the_same_folder_gives_the_same_bytes(make_site, tmp_path):
    site = make_site("minimal")
    first = build(site, tmp_path / "out")
    assert_same_tree(first, build(site, tmp_path / "out"), "rebuild in place")


def test_full_cli_builds_with_the_search_index_are_byte_identical(make_site, tmp_path):
    """The whole command-line build, Pagefind search index included, with --no-cache,
    --jobs 2 and the defaults. (Pagefind alone orders its filter index arbitrarily; the
    pipeline canonicalizes it, and this is what keeps it doing so.)"""
    site = make_site("minimal")
    trees = []
    for name, flags in [("a", ["--no-cache"]), ("b", ["--jobs", "2"]), ("c", []), ("d", [])]:
        result = run_cli("build", "--root", site, "--output", tmp_path / name, *flags)
        assert result.exit_code == 0, result.output
        trees.append(read_tree(tmp_path / name))
    assert any(rel.startswith("pagefind/filter/") for rel in trees[0])
    for tree in trees[1:]:
        assert_same_tree(trees[0], tree, "CLI builds")


def test_an_unchanged_site_is_left_alone_unless_its_files_were_touched(make_site, tmp_path):
    """A build whose inputs, code and options are those of the site it finds published
    leaves that site as it is (same files, same inodes); after an edit, or after someone
    changes an output file by hand, it builds again and matches a build from scratch."""
    site = make_site("minimal")
    out = tmp_path / "out"
    build(site, out)
    inode = (out / "methodology.html").stat().st_ino
    again = pipeline.build_site(str(site), output=str(out), search=False)
    assert again.unchanged and again.written
    assert (out / "methodology.html").stat().st_ino == inode, "the site was left alone"
    claim = site / "claims" / "drug-reduces-pain.yaml"
    claim.write_text(claim.read_text().replace("title: The drug reduces pain",
                                               "title: The drug lowers pain"))
    edited = build(site, out)
    assert "The drug lowers pain" in edited["claims/drug-reduces-pain.html"].decode()
    assert_same_tree(build(site, tmp_path / "fresh", use_cache=False), edited, "after an edit")

    page = out / "topics" / "dose.html"
    original = page.read_bytes()
    page.write_bytes(original + b"<!-- changed by hand -->")
    rebuilt = build(site, out)
    assert rebuilt["topics/dose.html"] == original, "a hand-changed page must be rendered again"
