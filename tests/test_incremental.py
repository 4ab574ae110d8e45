"""Incremental builds: the snapshot of loaded and validated content is reused only while
nothing it was made from has changed (content files, site date, code), and a damaged
snapshot is ignored rather than trusted. Every build is compared with a build from scratch."""

from __future__ import annotations

import tempfile

import pytest

from conftest import read_tree
from ldn_site import loading, pipeline
from test_determinism import assert_same_tree, build

SNAPSHOT = pipeline.CACHE_DIR + "/" + pipeline.SNAPSHOT_FILE
CLAIM = "claims/drug-reduces-pain.yaml"


def refuse_loading(monkeypatch):
    """Make any parsing of the content files fail loudly: a build that still succeeds must
    have taken its content from the snapshot."""
    def boom(*args, **kwargs):
        raise AssertionError("the content files were parsed again")
    monkeypatch.setattr(loading, "load_content", boom)


def test_unchanged_content_is_taken_from_the_snapshot(make_site, tmp_path, monkeypatch):
    site = make_site("minimal")
    first = build(site, tmp_path / "a")
    assert (site / SNAPSHOT).stat().st_size > 0, "the first build should save a snapshot"
    with monkeypatch.context() as m:
        refuse_loading(m)
        again = build(site, tmp_path / "b")
    assert_same_tree(first, again, "built from the snapshot")


def test_a_template_edit_keeps_the_snapshot_but_renders_the_new_template(make_site, tmp_path,
                                                                          monkeypatch):
    site = make_site("minimal")
    build(site, tmp_path / "a")
    base = site / "templates" / "base.html"
    base.write_text(base.read_text().replace("<main id=\"main\">",
                                             "<main id=\"main\" class=\"edited\">"))
    with monkeypatch.context() as m:
        refuse_loading(m)
        edited = build(site, tmp_path / "b")
    assert b'class="edited"' in edited["index.html"]
    assert_same_tree(build(site, tmp_path / "fresh", use_cache=False), edited, "template edit")


@pytest.mark.parametrize("change", ["edit", "add", "remove", "bib", "config"])
def test_any_change_to_a_content_file_invalidates_the_snapshot(make_site, tmp_path, change):
    site = make_site("minimal")
    build(site, tmp_path / "out")
    claim = site / CLAIM
    if change == "edit":
        claim.write_text(claim.read_text().replace("title: The drug reduces pain",
                                                   "title: The drug lowers pain"))
    elif change == "add":
        (site / "claims" / "another-claim.yaml").write_text(
            claim.read_text().replace("title: The drug reduces pain", "title: Another claim"))
    elif change == "remove":
        (site / "sources" / "article-a.yaml").unlink()
    elif change == "bib":
        bib = site / "sources" / "references.bib"
        bib.write_text(bib.read_text() + "\n@misc{extra2021,\n  title = {Extra}\n}\n")
    else:
        config = site / "site.yaml"
        config.write_text(config.read_text().replace("title: ", "title: Renamed ", 1))
    cached = pipeline.build_site(str(site), output=str(tmp_path / "out"), search=False)
    fresh = pipeline.build_site(str(site), output=str(tmp_path / "fresh"), search=False,
                                use_cache=False)
    assert [d.format() for d in cached.diagnostics] == [d.format() for d in fresh.diagnostics]
    assert cached.written == fresh.written
    if fresh.written:
        assert_same_tree(read_tree(tmp_path / "fresh"), read_tree(tmp_path / "out"), change)
    if change == "add":
        assert "claims/another-claim.html" in read_tree(tmp_path / "out")


def test_diagnostics_are_reported_again_from_the_snapshot(make_site, tmp_path, monkeypatch):
    """Warnings belong to the content, so a build from the snapshot reports the same ones."""
    site = make_site("minimal")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")  # 2030: the review is overdue
    first = pipeline.build_site(str(site), output=str(tmp_path / "a"), search=False)
    assert any(d.code == "review-due" for d in first.diagnostics)
    with monkeypatch.context() as m:
        refuse_loading(m)
        second = pipeline.build_site(str(site), output=str(tmp_path / "b"), search=False)
    assert [d.format() for d in second.diagnostics] == [d.format() for d in first.diagnostics]


def test_a_new_site_date_invalidates_the_snapshot(make_site, tmp_path, monkeypatch):
    site = make_site("minimal")
    first = pipeline.build_site(str(site), output=str(tmp_path / "a"), search=False)
    assert not any(d.code == "review-due" for d in first.diagnostics)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")
    later = pipeline.build_site(str(site), output=str(tmp_path / "b"), search=False)
    assert any(d.code == "review-due" for d in later.diagnostics)


def test_new_code_invalidates_the_snapshot(make_site, tmp_path, monkeypatch):
    site = make_site("minimal")
    build(site, tmp_path / "a")
    loaded = tmp_path / "loaded"  # a file, not a list: the loading runs in a child process
    real = loading.load_content
    monkeypatch.setattr(loading, "load_content",
                        lambda *a, **k: loaded.touch() or real(*a, **k))
    monkeypatch.setattr(pipeline, "code_stamp", lambda: "another version of ldn-site")
    build(site, tmp_path / "b")
    assert loaded.exists(), "a snapshot made by other code must not be used"


@pytest.mark.parametrize("name", ["minimal", "invalid"])
def test_loading_in_a_child_gives_what_loading_in_process_gives(make_site, name):
    site = str(make_site(name))
    here = pipeline._check_for_build(site)
    with tempfile.TemporaryFile() as body:
        there = pipeline._check_in_child(site, body)
    assert there is not None
    assert there.diagnostics == here.diagnostics
    assert [c.id for c in there.content.claims] == [c.id for c in here.content.claims]
    assert sorted(there.content.sources) == sorted(here.content.sources)
    assert there.validated.grades == here.validated.grades


def test_the_data_files_are_the_ones_the_pipeline_expects(make_site):
    from ldn_site.citations import Citations
    from ldn_site.markup import MarkdownRenderer
    from ldn_site.views import DATA_FILES, SiteViews
    checked = pipeline.check_site(str(make_site("minimal")))
    views = SiteViews(checked.content, checked.validated.grades, MarkdownRenderer(),
                      "2026-01-01", Citations(checked.content.bib, {}))
    assert sorted(views.data_files()) == sorted(DATA_FILES)


@pytest.mark.parametrize("threshold, children", [(0, 2), (10**6, 0)],
                         ids=["large-site", "small-site"])
def test_children_load_and_write_the_open_data_only_on_large_sites(make_site, tmp_path,
                                                                   monkeypatch, threshold,
                                                                   children):
    site = make_site("minimal")
    alone = build(site, tmp_path / "a", use_cache=False, jobs=1)
    started = []
    real = pipeline._start_child
    monkeypatch.setattr(pipeline, "ISOLATE_THRESHOLD", threshold)
    monkeypatch.setattr(pipeline, "_start_child", lambda work: started.append(1) or real(work))
    built = build(site, tmp_path / "b", use_cache=False, jobs=1)
    assert len(started) == children  # the loading child, then the open-data writer
    assert_same_tree(alone, built, "built with and without children")


def test_with_another_thread_running_a_build_forks_no_child(make_site, tmp_path, monkeypatch):
    import threading
    site = make_site("minimal")
    monkeypatch.setattr(pipeline, "ISOLATE_THRESHOLD", 0)  # it would, were it alone
    alone = build(site, tmp_path / "a", use_cache=False)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with monkeypatch.context() as m:
            m.setattr(pipeline, "_start_child", lambda work: pytest.fail("forked a child"))
            beside = build(site, tmp_path / "b", use_cache=False)
    finally:
        stop.set()
        other.join()
    assert_same_tree(alone, beside, "built in process")


def test_templates_compiled_once_are_kept_for_later_builds(make_site, tmp_path, monkeypatch):
    import jinja2
    site = make_site("minimal")
    stale = site / pipeline.CACHE_DIR / (pipeline.TEMPLATE_CACHE_PREFIX + "other-version")
    stale.mkdir(parents=True)
    first = build(site, tmp_path / "a")
    assert not stale.exists(), "compiled by other code: removed"
    pipeline._ENVIRONMENTS.clear()  # as in a new process
    with monkeypatch.context() as m:
        m.setattr(jinja2.Environment, "compile",
                  lambda *a, **k: pytest.fail("a template was compiled again"))
        again = build(site, tmp_path / "b")
    assert_same_tree(first, again, "from compiled templates")
    # An edited template is compiled afresh (its compiled form no longer matches its source).
    base = site / "templates" / "base.html"
    base.write_text(base.read_text().replace("</footer>", "<p>edited</p></footer>"))
    pipeline._ENVIRONMENTS.clear()
    edited = build(site, tmp_path / "c")
    assert b"<p>edited</p>" in edited["index.html"]


def test_a_failing_child_hands_back_nothing(make_site, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("a bug")
    monkeypatch.setattr(pipeline, "check_site", boom)
    with tempfile.TemporaryFile() as body:
        assert pipeline._check_in_child(str(make_site("minimal")), body) is None


@pytest.mark.parametrize("damage", [b"", b"garbage\n", None])
def test_a_damaged_snapshot_is_ignored(make_site, tmp_path, damage):
    site = make_site("minimal")
    first = build(site, tmp_path / "a")
    path = site / SNAPSHOT
    data = path.read_bytes()
    if damage is None:  # the right header, then a truncated pickle
        header, _, body = data.partition(b"\n")
        damage = header + b"\n" + body[: len(body) // 2]
    path.write_bytes(damage)
    assert_same_tree(first, build(site, tmp_path / "b"), "after damage")
    assert path.read_bytes() == data, "the next build replaces the damaged snapshot"


def test_the_snapshot_keeps_its_data_files_on_disk_and_remakes_them_if_lost(make_site,
                                                                           tmp_path):
    site = make_site("minimal")
    first = build(site, tmp_path / "a")
    kept = read_tree(site / pipeline.CACHE_DIR / pipeline.DATA_CACHE_DIR)
    assert sorted(kept) == ["data/claims.json", "data/evidence.csv", "feed.xml", "robots.txt",
                            "sitemap.xml"]
    assert all(first[name] == data for name, data in kept.items())
    assert_same_tree(first, build(site, tmp_path / "b"), "data files from the snapshot")
    (site / pipeline.CACHE_DIR / pipeline.DATA_CACHE_DIR / "data" / "claims.json").unlink()
    assert_same_tree(first, build(site, tmp_path / "c"), "data files made again")


def test_markdown_store_answers_only_for_its_own_stamp_and_survives_damage(tmp_path):
    path = str(tmp_path / "cache" / "markdown.sqlite")
    store = pipeline.MarkdownStore(path, "stamp-1")
    assert store("a") is None, "no file yet: a miss, not an error"
    store.save({"a": "<p>A</p>", "glossary:b": ["<p>B</p>", ["placebo"]]})
    reader = pipeline.MarkdownStore(path, "stamp-1")
    assert reader("a") == "<p>A</p>"
    assert reader("glossary:b") == ["<p>B</p>", ["placebo"]]
    assert reader("c") is None
    assert pipeline.MarkdownStore(path, "stamp-2")("a") is None, "made by other code"
    pipeline.MarkdownStore(path, "stamp-2").save({"c": "<p>C</p>"})
    assert pipeline.MarkdownStore(path, "stamp-2")("a") is None, "emptied for the new stamp"
    assert pipeline.MarkdownStore(path, "stamp-2")("c") == "<p>C</p>"
    with open(path, "wb") as f:
        f.write(b"this is not a database")
    damaged = pipeline.MarkdownStore(path, "stamp-2")
    assert damaged("c") is None
    damaged.save({"d": "<p>D</p>"})  # must not raise


def test_two_keys_on_one_row_id_give_a_miss_never_the_other_value(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "_row_id", lambda key: 7)
    path = str(tmp_path / "markdown.sqlite")
    pipeline.MarkdownStore(path, "stamp").save({"x": "<p>X</p>"})
    assert pipeline.MarkdownStore(path, "stamp")("y") is None
    assert pipeline.MarkdownStore(path, "stamp")("x") == "<p>X</p>"


def _can_write(path: str) -> bool:
    import sqlite3
    conn = sqlite3.connect(path, timeout=0.05)
    try:
        with conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('probe', 'x')")
        return True
    except sqlite3.OperationalError:  # "database is locked"
        return False
    finally:
        conn.close()


def test_a_run_of_lookups_shares_one_read_that_ends_at_the_first_miss(tmp_path):
    path = str(tmp_path / "markdown.sqlite")
    pipeline.MarkdownStore(path, "stamp").save({"a": "<p>A</p>", "b": "<p>B</p>"})
    reader = pipeline.MarkdownStore(path, "stamp")
    with reader.reading():
        assert reader("a") == "<p>A</p>"
        assert reader("b") == "<p>B</p>"
        assert not _can_write(path), "one read transaction, held while lookups hit"
        assert reader("c") is None
        assert _can_write(path), "a miss ends it: other workers will want to save"
        assert reader("a") == "<p>A</p>"
    assert _can_write(path)
    with reader.reading():
        assert reader("a") == "<p>A</p>"
    assert _can_write(path), "and it ends with the run"


def test_markdown_store_of_the_first_layout_is_emptied_not_misread(tmp_path):
    import sqlite3
    path = str(tmp_path / "markdown.sqlite")
    conn = sqlite3.connect(path)
    with conn:  # the first layout: JSON values in a rowid table, the bare stamp
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("CREATE TABLE entries (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('stamp', 'stamp-1')")
        conn.execute("""INSERT INTO entries VALUES ('a', '"<p>A</p>"')""")
    conn.close()
    store = pipeline.MarkdownStore(path, "stamp-1")
    assert store("a") is None
    store.save({"b": "<p>B</p>"})
    assert pipeline.MarkdownStore(path, "stamp-1")("b") == "<p>B</p>"
    conn = sqlite3.connect(path)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "entries" not in tables


@pytest.mark.parametrize("first_jobs", [1, 2], ids=["in-process", "workers"])
def test_a_warm_build_renders_no_markdown_and_draws_no_plot(make_site, tmp_path, monkeypatch,
                                                            first_jobs):
    site = make_site("minimal")
    # With workers, each saves what it rendered to the store itself; in one process the
    # build saves it at the end. Either way the next build finds all of it.
    build(site, tmp_path / "a", jobs=first_jobs)
    base = site / "templates" / "base.html"
    base.write_text(base.read_text() + "\n")  # every page is rendered again, Markdown is not
    from ldn_site import forestplot, markup
    never = (lambda *a, **k: (_ for _ in ()).throw(AssertionError("rendered again")))
    with monkeypatch.context() as m:
        m.setattr(markup, "render_markdown", never)
        m.setattr(forestplot, "render_forest_plot", never)
        warm = build(site, tmp_path / "b", jobs=2)
    assert_same_tree(build(site, tmp_path / "fresh", use_cache=False), warm,
                     "Markdown from the store")
