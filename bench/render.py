#!/usr/bin/env python3
"""Rendering script-built pages in headless Chromium: pages per second and the browser's memory.

Serves N generated script-built article pages on 127.0.0.1 (each builds its article from a JSON
file it fetches, and asks for an image the browser must not load), renders them through
newsvault's :class:`pipeline.render.Renderer` two at a time (as the crawl's RenderPipeline does)
and extracts each DOM. Baseline, measured in the same run: extracting the same rendered pages
without a browser (what a page costs when it need not be rendered). Memory: the peak PSS summed
over every process the browser run starts (Playwright's driver and all Chromium processes),
sampled from /proc.

Example::

    python bench/render.py --pages 40

Exit status: 0 on success, 2 when Chromium or Playwright is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.procwatch import tree_pss  # noqa: E402
from common.errors import NotAnArticle  # noqa: E402
from crawler.middlewares import SafetyMiddleware  # noqa: E402
from newsvault.sitesrv import LocalSite  # noqa: E402
from pipeline.extract import extract_article  # noqa: E402
from pipeline.render import Renderer, url_guard  # noqa: E402

AT_ONCE = 2
PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Story {i}</title>
</head><body><div id="app">Loading…</div><script>
fetch("/api/{i}.json").then(r => r.json()).then(s => {{
  const art = document.createElement("article");
  const h = document.createElement("h1"); h.textContent = s.title; art.appendChild(h);
  for (const t of s.paragraphs) {{
    const p = document.createElement("p"); p.textContent = t; art.appendChild(p); }}
  const img = document.createElement("img"); img.src = "/img/{i}.jpg"; art.appendChild(img);
  document.getElementById("app").replaceChildren(art);
}});
</script></body></html>"""
SENTENCE = (
    "The council of town {i} met on Tuesday to discuss the harbour, the ferry timetable and "
    "the price of parking on the quay during the summer months, and heard {n} speakers."
)


def make_site(root: Path, n: int) -> None:
    (root / "p").mkdir()
    (root / "api").mkdir()
    for i in range(n):
        (root / "p" / f"{i}.html").write_text(PAGE.format(i=i), encoding="utf-8")
        story = {
            "title": f"Story {i}",
            "paragraphs": [SENTENCE.format(i=i, n=k) for k in range(6)],
        }
        (root / "api" / f"{i}.json").write_text(json.dumps(story), encoding="utf-8")


class Sampler(threading.Thread):
    """Peak PSS of every process this one started (the browser and its driver)."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = 0
        self.processes = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            pss, count = tree_pss(os.getpid())
            if pss > self.peak:
                self.peak, self.processes = pss, count
            time.sleep(self.interval)


async def render_all(
    site: LocalSite, root: Path, n: int, chromium: str
) -> tuple[list[str], float, list[int]]:
    renderer = Renderer(chromium, timeout=30, guard=url_guard(SafetyMiddleware(allow_private=True)))
    slots = asyncio.Semaphore(AT_ONCE)
    incomplete: list[int] = []

    async def one(i: int) -> str:
        body = (root / "p" / f"{i}.html").read_bytes()
        async with slots:
            page = await renderer.render(site.url(f"/p/{i}.html"), body, {})
        try:
            await asyncio.to_thread(extract_article, page.html, site.url(f"/p/{i}.html"))
        except NotAnArticle:
            incomplete.append(i)  # read before its script had written it
        return page.html

    try:
        await one(0)  # starts the browser
        t0 = time.perf_counter()
        doms = await asyncio.gather(*(one(i) for i in range(1, n)))
        return list(doms), time.perf_counter() - t0, incomplete
    finally:
        await renderer.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    if not Path(args.chromium).exists():
        print(f"Chromium is not installed at {args.chromium}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_site(root, args.pages)
        with LocalSite(root) as site:
            sampler = Sampler()
            sampler.start()
            t_all = time.perf_counter()
            doms, warm, incomplete = asyncio.run(render_all(site, root, args.pages, args.chromium))
            total = time.perf_counter() - t_all
            sampler.done.set()
            sampler.join()
            images = [p for p in site.requests if p.startswith("/img/")]
            t0 = time.perf_counter()
            for i, dom in enumerate(doms, 1):
                try:
                    extract_article(dom, site.url(f"/p/{i}.html"))
                except NotAnArticle:
                    pass
            static = len(doms) / (time.perf_counter() - t0)
    rendered = len(doms) / warm
    print(
        f"render: {args.pages} script-built pages, {AT_ONCE} at a time: "
        f"{rendered:.1f} pages/s once the browser runs ({args.pages / total:.1f} pages/s with "
        f"its start); static extraction of the same DOMs {static:.1f} pages/s "
        f"(rendering costs {static / rendered:.0f}x); browser peak memory "
        f"{sampler.peak / 2**20:.0f} MiB PSS over {sampler.processes} processes; "
        f"images loaded: {len(images)}; pages read before their script wrote them: "
        f"{len(incomplete)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
