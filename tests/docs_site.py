"""The built documentation checked in a real browser: what a reader sees, page by page.

``python -m tests.docs_site docs/_build/html`` (run by ``nox -s docs`` after the
build) serves the site on 127.0.0.1, opens every page in headless Chromium and
fails, listing each problem, if any page has

- a link to a page, file or anchor of the site that does not exist,
- an image, stylesheet, script or font that does not load,
- maths left as source: a formula MathJax did not typeset, or ``$…$`` in the text,
- an empty output box, or one cell's standard output split over several boxes;

or if the tutorial has no typeset formula, or no loaded SVG picture in its
section "A drawn graph". Links to other sites are not followed (this machine
reaches none). With ``--screenshots DIR`` it saves the top of every page, and
each section of the tutorial, the API page and the benchmarks, as PNG files there.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``),
so nothing beyond the standard library and the browser is needed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import functools
import http.server
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BROWSERS", "Browser", "PageReport", "check_site", "find_browser", "main"]

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Program names tried, in order, for the browser (Debian's package is ``chromium``)."""

FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
)

TUTORIAL = "micrograd_from_scratch.html"
SECTIONS_SHOWN = (TUTORIAL, "api.html", "benchmarks.html")
"""Pages whose every section gets a screenshot of its own, besides the top of every page."""
GRAPH_SECTION = "A drawn graph"
WIDTH, HEIGHT = 1280, 1000
"""The browser window, in CSS pixels; screenshots are this wide."""

# Runs in each page once it has loaded: waits for images and MathJax, then reports.
_INSPECT = r"""
(async () => {
  const images = [...document.images];
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.complete ? null : new Promise((done) => {
    img.addEventListener("load", done); img.addEventListener("error", done);
  })));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const article = document.querySelector("article") || document.body;
  const prose = article.cloneNode(true);
  const source = "pre, code, script, style, mjx-container, .math";
  prose.querySelectorAll(source).forEach((e) => e.remove());
  const heading = (el) => {
    const section = el.closest("section");
    const h = section && section.querySelector("h1, h2, h3, h4");
    return h ? h.textContent.replace(/[#¶]\s*$/, "").trim() : "";
  };
  const outputs = [...document.querySelectorAll(".cell_output")];
  const pictures = "img, svg, canvas, iframe, video";
  return {
    title: document.title,
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    ids: [...document.querySelectorAll("[id], a[name]")].map((e) => e.id || e.name),
    images: images.map((img) => ({
      src: img.currentSrc || img.src,
      loaded: img.complete && img.naturalWidth > 0,
      section: heading(img),
    })),
    typeset: document.querySelectorAll("mjx-container").length,
    untypeset: [...document.querySelectorAll(".math")]
      .filter((e) => !e.querySelector("mjx-container"))
      .map((e) => e.textContent.trim().slice(0, 60)),
    dollars: (prose.textContent.match(/\$[^$\n]+\$/g) || []).map((m) => m.slice(0, 60)),
    empty_outputs: outputs.flatMap((o) => [...o.children])
      .filter((e) => !e.innerText.trim() && !e.matches(pictures) && !e.querySelector(pictures))
      .length,
    split_streams: outputs.filter((o) => [...o.children].some((e, i, all) =>
      i > 0 && e.classList.contains("stream") && all[i - 1].classList.contains("stream"))).length,
    sections: [...article.querySelectorAll("section > h2")].map((h) => {
      const r = h.parentElement.getBoundingClientRect();
      return {title: heading(h), x: r.left + scrollX, y: r.top + scrollY,
              width: r.width, height: r.height};
    }),
  };
})()
"""


class BrowserError(RuntimeError):
    """The browser could not be started, stopped answering, or reported an error."""


class Browser:
    """One headless Chromium, driven over the DevTools protocol on a pipe; a context manager.

    Args:
        executable: The browser program.
        profile: A fresh, empty folder for the browser's profile (``--user-data-dir``).
        timeout: Seconds to wait for any one answer of the browser.
    """

    def __init__(self, executable: str, profile: Path, timeout: float = 120.0) -> None:
        self.timeout = timeout
        commands_in, self._commands = os.pipe()  # the browser reads commands on its fd 3
        self._replies, replies_out = os.pipe()  # and writes replies and events on its fd 4

        def connect() -> None:  # in the child, before exec: the pipe ends on fds 3 and 4
            low_in = fcntl.fcntl(commands_in, fcntl.F_DUPFD, 10)  # above 4, so dup2 loses none
            low_out = fcntl.fcntl(replies_out, fcntl.F_DUPFD, 10)
            os.dup2(low_in, 3)
            os.dup2(low_out, 4)

        try:
            self._process = subprocess.Popen(
                [
                    executable,
                    *FLAGS,
                    "--remote-debugging-pipe",
                    f"--user-data-dir={profile}",
                    f"--window-size={WIDTH},{HEIGHT}",
                    "about:blank",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=False,  # fds 3 and 4 must reach the browser; Python's own are CLOEXEC
                preexec_fn=connect,  # noqa: PLW1509 - started before this process has any thread
            )
        finally:
            os.close(commands_in)
            os.close(replies_out)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self._session = ""
        try:
            self._open_page()
        except BaseException:  # a browser that never answered is still running: stop it
            self._process.kill()
            self.close()
            raise

    def _open_page(self) -> None:
        """Open the tab every page is loaded in, at the window's size."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            self.send(f"{domain}.enable", session=True)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Ask the browser to quit, and make sure it has."""
        with contextlib.suppress(BrowserError, OSError):
            self.send("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._commands, self._replies):
            with contextlib.suppress(OSError):
                os.close(fd)

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False
    ) -> dict[str, Any]:
        """Send one command (to the page when ``session``) and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._commands, data) :]
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._receive(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message', reply['error'])}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self._events.append(reply)

    def wait_for(self, event: str) -> dict[str, Any]:
        """Wait for the page's next ``event`` (such as ``Page.loadEventFired``); its parameters."""
        deadline = time.monotonic() + self.timeout
        while True:
            for i, message in enumerate(self._events):
                if message.get("method") == event and message.get("sessionId") == self._session:
                    del self._events[i]  # the rest stay, for open() to read
                    params: dict[str, Any] = message.get("params", {})
                    return params
            self._events.append(self._receive(deadline, event))

    def open(self, url: str) -> tuple[dict[str, Any], list[str]]:
        """Load ``url``; what :data:`_INSPECT` found there, and the resources that failed to load.

        A failed resource is ``"URL: why"`` (an HTTP status of 400 or more, or a
        network error such as ``net::ERR_FILE_NOT_FOUND``).
        """
        self._events.clear()
        navigated = self.send("Page.navigate", {"url": url}, session=True)
        if navigated.get("errorText"):
            return {}, [f"{url}: {navigated['errorText']}"]
        self.wait_for("Page.loadEventFired")
        found = self.evaluate(_INSPECT)
        requests: dict[str, str] = {}
        failed = []
        for message in self._events:
            params = message.get("params", {})
            if message.get("method") == "Network.requestWillBeSent":
                requests[params["requestId"]] = params["request"]["url"]
            elif message.get("method") == "Network.responseReceived":
                response = params["response"]
                # Chromium asks for /favicon.ico on its own, at times, whatever the page says.
                implicit = urllib.parse.urlsplit(response["url"]).path == "/favicon.ico"
                if response["status"] >= 400 and not implicit:
                    failed.append(f"{response['url']}: HTTP {response['status']}")
            elif message.get("method") == "Network.loadingFailed" and not params.get("canceled"):
                where = requests.get(params["requestId"], "?")
                failed.append(f"{where}: {params['errorText']}")
        return found, failed

    def evaluate(self, expression: str) -> Any:
        """The value of JavaScript ``expression`` in the page (awaited if it is a promise)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session=True,
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"the page's script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, clip: dict[str, float] | None = None) -> Path:
        """Save the page as a PNG: the window, or the ``clip`` rectangle (x, y, width, height)."""
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            params["clip"] = {**clip, "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params, session=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        """The browser's next message."""
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                raise BrowserError(
                    f"no answer from the browser within {self.timeout:g} s "
                    f"(waiting for {waiting_for})"
                )
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise BrowserError(
                    f"the browser closed the connection (exit status "
                    f"{self._process.poll()}) while waiting for {waiting_for}"
                )
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed


@dataclass
class PageReport:
    """What the browser found on one page."""

    path: str
    """The page, relative to the site's folder."""
    problems: list[str] = field(default_factory=list)
    """Each problem in one line; none for a good page."""
    typeset: int = 0
    """How many formulas MathJax typeset."""
    images: int = 0
    """How many images loaded."""


def find_browser() -> str | None:
    """The first of :data:`BROWSERS` on ``PATH``, or None."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def check_site(
    site: Path, executable: str, screenshots: Path | None = None
) -> tuple[list[PageReport], int]:
    """Open every page of the built ``site`` in the browser; each page's report, and links skipped.

    The second number counts the distinct links to other sites, which are not followed.
    """
    pages = sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if not p.relative_to(site).parts[0].startswith(("_static", "_sources"))
    )
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
    reports: list[PageReport] = []
    links: dict[str, set[str]] = {}  # each link of the site, and the pages it is on
    ids: dict[str, set[str]] = {}  # each visited page's anchors
    with (
        tempfile.TemporaryDirectory(prefix="docs-site-browser-") as profile,
        Browser(executable, Path(profile)) as browser,
        _serve(site) as origin,
    ):
        for page in pages:
            report = PageReport(page)
            reports.append(report)
            found, failed = browser.open(f"{origin}/{page}")
            report.problems += [f"does not load: {f}" for f in failed]
            if not found:
                continue
            ids[page] = set(found["ids"])
            for link in found["links"]:
                links.setdefault(link, set()).add(page)
            report.typeset = found["typeset"]
            report.images = sum(image["loaded"] for image in found["images"])
            report.problems += _page_problems(page, found)
            if screenshots is not None:
                _screenshots(browser, page, found, screenshots)
    external = set()
    for link, where in sorted(links.items()):
        if not link.startswith(origin + "/"):
            if link.startswith(("http://", "https://")):
                external.add(link.partition("#")[0])
            continue
        problem = _link_problem(site, link[len(origin) + 1 :], ids)
        if problem:
            for report in reports:
                if report.path in where:
                    report.problems.append(problem)
    return reports, len(external)


def _page_problems(page: str, found: dict[str, Any]) -> list[str]:
    """What is wrong with one page, from what :data:`_INSPECT` found on it."""
    problems = [
        f"image does not show: {image['src']}" for image in found["images"] if not image["loaded"]
    ]
    problems += [f"formula not typeset: {text!r}" for text in found["untypeset"]]
    problems += [f"maths left as source text: {text!r}" for text in found["dollars"]]
    if found["empty_outputs"]:
        problems.append(f"{found['empty_outputs']} empty output box(es)")
    if found["split_streams"]:
        problems.append(f"{found['split_streams']} cell(s) print over several output boxes")
    if page == TUTORIAL:
        if not found["typeset"]:
            problems.append("the tutorial has no typeset formula")
        graph = [
            image
            for image in found["images"]
            if GRAPH_SECTION in image["section"]
            and image["loaded"]
            and urllib.parse.urlsplit(image["src"]).path.endswith(".svg")
        ]
        if not graph:
            problems.append(f"no SVG picture of the graph in section {GRAPH_SECTION!r}")
    return problems


def _link_problem(site: Path, target: str, ids: dict[str, set[str]]) -> str | None:
    """Why the site-relative link ``target`` is broken, or None if it is not."""
    parts = urllib.parse.urlsplit(target)
    path = urllib.parse.unquote(parts.path)
    if path == "" or path.endswith("/"):
        path += "index.html"
    if not (site / path).is_file():
        return f"broken link: {target} (no such file)"
    if parts.fragment and path in ids and urllib.parse.unquote(parts.fragment) not in ids[path]:
        return f"broken link: {target} (no anchor #{parts.fragment} on {path})"
    return None


def _screenshots(browser: Browser, page: str, found: dict[str, Any], folder: Path) -> None:
    """The top of the page and, on :data:`SECTIONS_SHOWN`, each section (at most 2,400 px tall)."""
    stem = re.sub(r"[^\w.-]+", "_", page.removesuffix(".html"))
    browser.screenshot(folder / f"{stem}.png")
    if page not in SECTIONS_SHOWN:
        return
    for number, section in enumerate(found["sections"], start=1):
        clip = {k: float(section[k]) for k in ("x", "y", "width")}
        clip["height"] = float(min(section["height"], 2400))
        slug = re.sub(r"\W+", "-", section["title"].lower()).strip("-")[:40]
        browser.screenshot(folder / f"{stem}-{number:02d}-{slug}.png", clip)


@contextlib.contextmanager
def _serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on a free port of 127.0.0.1 while the block runs; yields the origin URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Log nothing: problems are reported by the check, not by the server."""

    handler = functools.partial(Quiet, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()


def main(argv: Sequence[str] | None = None) -> int:
    """Check the site named on the command line; 0 if every page is good, 1 if not."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.docs_site",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("site", type=Path, help="the built HTML, e.g. docs/_build/html")
    parser.add_argument("--screenshots", type=Path, metavar="DIR", help="save screenshots here")
    parser.add_argument(
        "--browser",
        help=f"the browser program (default: the first of {', '.join(BROWSERS)} on PATH)",
    )
    args = parser.parse_args(argv)
    executable = args.browser or find_browser()
    if executable is None:
        parser.exit(
            2,
            f"{parser.prog}: error: no browser found ({', '.join(BROWSERS)}); "
            "install Chromium, e.g. apt-get install chromium\n",
        )
    if not (args.site / "index.html").is_file():
        parser.exit(
            2, f"{parser.prog}: error: no index.html in {str(args.site)!r}; build the docs first\n"
        )
    reports, external = check_site(args.site, executable, args.screenshots)
    bad = [r for r in reports if r.problems]
    for report in bad:
        print(f"{report.path}:")
        print("\n".join(f"  {problem}" for problem in report.problems))
    tutorial = next((r for r in reports if r.path == TUTORIAL), None)
    summary = (
        f"{len(reports)} pages checked in {Path(executable).name}, "
        f"{len(bad)} with problems; {external} links to other sites not followed"
    )
    if tutorial is not None:
        summary += (
            f"; the tutorial has {tutorial.typeset} typeset formulas and {tutorial.images} images"
        )
    if args.screenshots is not None:
        summary += f"; screenshots in {args.screenshots}"
    print(summary)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
