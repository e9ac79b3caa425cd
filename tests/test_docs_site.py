"""The browser check of the built docs (``tests/docs_site.py``) finds what a reader would see."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import docs_site


@pytest.fixture(scope="module")
def browser() -> str:
    """Chromium's program; the check is skipped without it, except on CI, which installs it."""
    found = docs_site.find_browser()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but none of {docs_site.BROWSERS} is on PATH")
        pytest.skip("no Chromium on PATH (apt-get install chromium)")
    return found


def _page(body: str) -> str:
    """A whole HTML page whose article is ``body``."""
    head = "<!doctype html><html><head><title>t</title></head>"
    return f"{head}<body><article>{body}</article></body></html>"


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="9" height="9"/>'
SVG += "</svg>"


def _site(tmp_path: Path) -> Path:
    """Three pages: a good one, one with every kind of problem, a tutorial without its graph."""
    site = tmp_path / "html"
    site.mkdir()
    (site / "ok.svg").write_text(SVG, encoding="utf-8")
    (site / "good.html").write_text(
        _page('<section id="there"><h2>There</h2><img src="ok.svg"></section>'),
        encoding="utf-8",
    )
    (site / "index.html").write_text(
        _page(
            '<a href="good.html">fine</a> <a href="good.html#there">fine</a>'
            ' <a href="good.html#nowhere">bad anchor</a> <a href="missing.html">bad page</a>'
            ' <a href="https://example.org/">not followed</a>'
            ' <img src="missing.png"> <p>Take $x^2$ here.</p>'
            ' <span class="math">\\(y\\)</span> <code>$ echo code is fine</code>'
            ' <div class="cell_output"><div class="output stream"><pre> </pre></div></div>'
            ' <div class="cell_output"><div class="output stream"><pre>a</pre></div>'
            '<div class="output stream"><pre>b</pre></div></div>'
        ),
        encoding="utf-8",
    )
    (site / docs_site.TUTORIAL).write_text(
        _page("<section><h2>3. A drawn graph</h2><pre>digraph {}</pre></section>"), encoding="utf-8"
    )
    return site


def test_each_problem_is_reported_on_its_page(browser: str, tmp_path: Path) -> None:
    """Bad links, anchors, images, raw maths, empty and split outputs; nothing on a good page."""
    site = _site(tmp_path)
    shots = tmp_path / "shots"
    reports, external = docs_site.check_site(site, browser, screenshots=shots)
    problems = {r.path: sorted(r.problems) for r in reports}
    assert problems["good.html"] == []
    index = problems["index.html"]
    assert "broken link: missing.html (no such file)" in index
    assert "broken link: good.html#nowhere (no anchor #nowhere on good.html)" in index
    assert any(p.startswith("image does not show: ") and "missing.png" in p for p in index)
    assert any(p.startswith("does not load: ") and "missing.png" in p for p in index)
    assert "maths left as source text: '$x^2$'" in index
    assert "formula not typeset: '\\\\(y\\\\)'" in index
    assert "1 empty output box(es)" in index
    assert "1 cell(s) print over several output boxes" in index
    assert len(index) == 8
    assert problems[docs_site.TUTORIAL] == [
        "no SVG picture of the graph in section 'A drawn graph'",
        "the tutorial has no typeset formula",
    ]
    assert external == 1
    assert sorted(p.name for p in shots.iterdir()) == [
        "good.png",
        "index.png",
        "micrograd_from_scratch-01-3-a-drawn-graph.png",
        "micrograd_from_scratch.png",
    ]
    assert (shots / "index.png").read_bytes().startswith(b"\x89PNG")


def test_main_exits_1_and_lists_the_problems(
    browser: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command prints each bad page with its problems, a summary, and exits 1."""
    site = _site(tmp_path)
    assert docs_site.main([str(site), "--browser", browser]) == 1
    out = capsys.readouterr().out
    assert "index.html:\n  " in out
    assert out.splitlines()[-1].startswith("3 pages checked in ")
    assert "2 with problems; 1 links to other sites not followed" in out


def test_main_without_a_site_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder with no index.html is refused before any browser starts."""
    with pytest.raises(SystemExit) as exit_info:
        docs_site.main([str(tmp_path), "--browser", "/nonexistent/chromium"])
    assert exit_info.value.code == 2
    assert "no index.html" in capsys.readouterr().err


def test_a_browser_that_never_answers_is_stopped(tmp_path: Path) -> None:
    """A program that starts but never speaks the protocol: an error, and the program reaped."""
    silent = tmp_path / "silent-browser"
    pid_file = tmp_path / "pid"
    silent.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 600\n", encoding="utf-8")
    silent.chmod(0o755)
    with pytest.raises(docs_site.BrowserError, match="no answer from the browser within 1 s"):
        docs_site.Browser(str(silent), tmp_path / "profile", timeout=1.0)
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # killed and waited for: not even a zombie
        os.kill(pid, 0)
