"""Generate a local news site of N articles for benchmarks, deterministic from a seed.

The site looks like a real news site to an extractor: every article page (about 30-80 KB) carries
the boilerplate that extraction must throw away (a large navigation menu, a sidebar with popular
posts and a tag cloud, share bars, a comment thread and a comment form, related posts, a footer,
inline CSS and scripts, JSON-LD), in one of three templates (a WordPress-like blog, a newsroom
with ``<article>`` markup, a magazine of plain ``<div>``s). It also has a home page, an RSS feed
of the 50 most recent articles, ``robots.txt`` and a sitemap index whose urlsets hold at most
1,000 URLs each.

Example::

    python bench/sitegen.py --articles 2000 --seed 7 /tmp/site
    # then serve /tmp/site and crawl http://HOST/sitemap_index.xml
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["SiteInfo", "generate_site"]

URLSET_SIZE = 1000
FEED_SIZE = 50

_WORDS = (
    "the of and to in a is that for on with as was by at from his her their council harbour "
    "city minister people said year government report police school hospital market residents "
    "plan new week more than after before during under while because which would could should "
    "local national board members officials spokesperson statement announced yesterday today "
    "morning evening budget million funding project road bridge ferry station train service "
    "workers union strike talks agreement court judge case trial evidence witness jury hearing "
    "weather storm flood warning coast river rain wind temperature record summer winter season "
    "football club match season goal coach players league final cup victory defeat supporters "
    "museum gallery festival music theatre exhibition artist audience tickets performance show "
    "business company shares profit prices energy costs inflation customers jobs economy trade "
    "election vote candidate party campaign poll voters mayor debate policy reform housing rent "
    "families children parents teachers students university research study scientists data "
    "health doctors nurses patients treatment waiting care emergency ambulance village county "
    "north south east west centre district community volunteers charity support group meeting "
    "about around against between through across without within along toward despite however "
    "also only still even just already nearly almost again once twice never often always "
    "first second third last next several many few some most every each both either neither"
).split()
_NAMES = (
    "Alice Morgan,Ben Carter,Chloe Hughes,Daniel Price,Emma Lewis,Finn Walsh,Grace Patel,"
    "Harry Evans,Isla Murphy,Jack Turner,Katie Shaw,Liam Doyle,Mia Clarke,Noah Reid,Olivia Khan,"
    "Paul Byrne,Ruby Hall,Sam Ward,Tara Quinn,Will Foster"
).split(",")
_SECTIONS = ("news", "politics", "business", "sport", "culture", "weather", "health", "opinion")
_CSS_RULE = (
    ".{c}-{i}{{margin:{m}px {n}px;padding:{p}px;color:#{h:06x};font:{f}px/1.{l} Georgia,serif;"
    "border-bottom:1px solid #{g:06x};display:flex;align-items:center}}\n"
)


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """What :func:`generate_site` wrote: the number of articles and their site paths."""

    root: Path
    articles: int
    paths: tuple[str, ...]
    sitemap_index: str = "/sitemap_index.xml"
    feed: str = "/feed.xml"


def _sentence(rng: random.Random, lo: int = 8, hi: int = 24) -> str:
    words = rng.choices(_WORDS, k=rng.randint(lo, hi))
    words[0] = words[0].capitalize()
    if rng.random() < 0.3:
        words.insert(rng.randrange(1, len(words)), rng.choice(_NAMES).split()[1])
    return " ".join(words) + rng.choice("....?!")[0:1]


def _paragraph(rng: random.Random, lo: int = 3, hi: int = 7) -> str:
    text = " ".join(_sentence(rng) for _ in range(rng.randint(lo, hi)))
    if rng.random() < 0.3:  # an inline link or emphasis, as in real copy
        words = text.split(" ")
        k = rng.randrange(len(words))
        tag = rng.choice(('<a href="/tag/{w}/">{w}</a>', "<em>{w}</em>", "<strong>{w}</strong>"))
        words[k] = tag.format(w=words[k])
        text = " ".join(words)
    return text


def _title(rng: random.Random) -> str:
    words = rng.choices(_WORDS[20:], k=rng.randint(5, 10))
    return " ".join(words).capitalize()


def _slug(title: str, i: int) -> str:
    return "-".join(title.lower().split()[:6]) + f"-{i}"


def _blob_css(rng: random.Random, rules: int) -> str:
    c = rng.choice(("wp", "nr", "mg", "site", "blk"))
    return "".join(
        _CSS_RULE.format(
            c=c,
            i=i,
            m=rng.randint(0, 40),
            n=rng.randint(0, 40),
            p=rng.randint(0, 20),
            h=rng.getrandbits(24),
            g=rng.getrandbits(24),
            f=rng.randint(11, 22),
            l=rng.randint(1, 8),
        )
        for i in range(rules)
    )


def _blob_js(rng: random.Random, n: int) -> str:
    lines = [
        f"window.__cfg_{i}={{id:{rng.getrandbits(32)},slot:'ad-{rng.randint(1, 99)}',"
        f"lazy:{str(rng.random() < 0.5).lower()},sizes:[[300,250],[728,90]],"
        f"track:function(e){{dataLayer.push({{event:'v{i}',t:Date.now()}})}}}};"
        for i in range(n)
    ]
    return "\n".join(lines)


def _nav(base_rng: random.Random) -> str:
    items = []
    for sec in _SECTIONS:
        subs = "".join(
            f'<li class="menu-item"><a href="/section/{sec}/{w}/"><span class="menu-label">'
            f'{w.capitalize()}</span></a></li>'
            for w in base_rng.sample(_WORDS[40:], 14)
        )
        items.append(f'<li class="menu-item"><a href="/section/{sec}/">{sec.capitalize()}</a>'
                     f'<ul class="sub-menu">{subs}</ul></li>')
    return f'<nav class="main-navigation" id="site-navigation"><ul class="menu">{"".join(items)}</ul></nav>'


def _links(rng: random.Random, titles: list[tuple[str, str]], k: int) -> list[tuple[str, str]]:
    return [titles[rng.randrange(len(titles))] for _ in range(k)] if titles else []


def _sidebar(rng: random.Random, recent: list[tuple[str, str]]) -> str:
    popular = "".join(
        f'<li class="pop-item"><a href="{p}"><img src="/thumbs/{n}.jpg" width="80" alt="">'
        f'<span class="pop-title">{t}</span></a><span class="pop-meta"><span class="views">'
        f'{rng.randint(100, 9999)} views</span></span></li>'
        for n, (p, t) in enumerate(_links(rng, recent, 15))
    )
    latest = "".join(
        f'<li><div class="latest"><a href="{p}">{t}</a><time>{rng.randint(1, 59)} min ago</time></div></li>'
        for p, t in _links(rng, recent, 15)
    )
    tags = " ".join(
        f'<a class="tag-cloud-link" href="/tag/{w}/" style="font-size:{rng.randint(8, 22)}pt">{w}</a>'
        for w in rng.sample(_WORDS[30:], 60)
    )
    return (
        '<aside id="secondary" class="widget-area sidebar">'
        f'<section class="widget widget_popular"><h2 class="widget-title">Most read</h2><ol>{popular}</ol></section>'
        f'<section class="widget widget_latest"><h2 class="widget-title">Latest</h2><ul>{latest}</ul></section>'
        f'<section class="widget widget_tag_cloud"><h2 class="widget-title">Tags</h2><div class="tagcloud">{tags}</div></section>'
        '<section class="widget newsletter"><h2>Sign up for our newsletter</h2><form action="/subscribe">'
        '<input type="email" name="email" placeholder="Your email"><button>Subscribe</button></form></section>'
        '<div class="ad-slot" data-slot="sidebar-1"><ins class="adsbygoogle"></ins></div></aside>'
    )


def _share() -> str:
    nets = ("facebook", "twitter", "linkedin", "whatsapp", "email", "print")
    links = "".join(f'<a class="share-{n}" href="#share-{n}">Share on {n.capitalize()}</a>' for n in nets)
    return f'<div class="share-buttons sharedaddy"><h3>Share this:</h3>{links}</div>'


def _comments(rng: random.Random) -> str:
    thread = "".join(
        f'<li class="comment" id="comment-{rng.getrandbits(20)}"><div class="comment-meta">'
        f'<img class="avatar" src="/avatar/{rng.getrandbits(16)}.png" alt=""><div class="comment-author vcard">'
        f'<b class="fn">{rng.choice(_NAMES)}</b> says:</div><div class="comment-content"><p>'
        f"{_paragraph(rng, 1, 3)}</p></div></div><div class=\"reply\"><a class=\"comment-reply-link\" "
        f"href=\"#respond\">Reply</a> <span class=\"likes\">{rng.randint(0, 99)}</span></div></li>"
        for _ in range(rng.randint(3, 12))
    )
    return (
        f'<div id="comments" class="comments-area"><h2 class="comments-title">Comments</h2>'
        f'<ol class="comment-list">{thread}</ol>'
        '<div id="respond" class="comment-respond"><h3 id="reply-title">Leave a Reply</h3>'
        '<form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form">'
        '<p class="comment-notes">Your email address will not be published. Required fields are '
        'marked *</p><textarea id="comment" name="comment"></textarea><input name="author">'
        '<input name="email"><input type="submit" value="Post Comment"></form></div></div>'
    )


def _related(rng: random.Random, recent: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<div class="related-post"><a href="{p}"><h4>{t}</h4></a><p>{_sentence(rng)}</p></div>'
        for p, t in _links(rng, recent, 6)
    )
    return f'<div class="jp-relatedposts related-posts"><h3>Related</h3>{items}</div>'


def _footer(rng: random.Random) -> str:
    cols = "".join(
        "<ul>" + "".join(f'<li><a href="/{w}/">{w.capitalize()}</a></li>' for w in rng.sample(_WORDS, 16))
        + "</ul>"
        for _ in range(4)
    )
    return (
        f'<footer id="colophon" class="site-footer"><div class="footer-widgets">{cols}</div>'
        '<p>&copy; 2026 The Bench Courier. All rights reserved. <a href="/privacy/">Privacy</a> '
        '<a href="/terms/">Terms</a></p><div class="cookie-notice">This website uses cookies. '
        '<button>Accept</button></div></footer>'
    )


def _page(i: int, seed: int, meta: dict[str, str], recent: list[tuple[str, str]], chrome: list[str]) -> str:
    rng = random.Random(seed * 1_000_003 + i)
    tpl = i % 3
    body = "".join(f"<p>{_paragraph(rng)}</p>" for _ in range(rng.randint(6, 16)))
    if rng.random() < 0.4:
        quote = f"<blockquote><p>{_sentence(rng)}</p></blockquote>"
        body = body.replace("</p>", "</p>" + quote, 1)
    title, author, date, section = meta["title"], meta["author"], meta["date"], meta["section"]
    css = chrome[tpl * 2][: rng.randint(3_000, 14_000)]
    js = chrome[tpl * 2 + 1][: rng.randint(2_000, 9_000)]
    ld = json.dumps({
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
        "datePublished": date, "author": {"@type": "Person", "name": author},
        "articleSection": section,
    })
    head = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | The Bench '
        f'Courier</title><meta name="description" content="{_sentence(rng)}">'
        f'<meta property="og:title" content="{title}"><meta name="author" content="{author}">'
        f'<meta property="article:published_time" content="{date}">'
        f'<link rel="canonical" href="{meta["path"]}"><style>{css}</style>'
        f'<script type="application/ld+json">{ld}</script><script>{js}</script></head>'
    )
    byline = f'<span class="byline">By <a rel="author" href="/author/{author.split()[1].lower()}/">{author}</a></span>'
    when = f'<time class="entry-date published" datetime="{date}">{date[:10]}</time>'
    nav, side, share = chrome[6], _sidebar(rng, recent), _share()
    comments, related, footer = _comments(rng), _related(rng, recent), _footer(rng)
    if tpl == 0:  # WordPress-like
        main = (
            f'<div id="page" class="site"><header class="site-header"><p class="site-title">'
            f'<a href="/">The Bench Courier</a></p>{nav}</header><div id="content" class="site-content">'
            f'<main id="main" class="site-main"><article class="post type-post hentry">'
            f'<header class="entry-header"><h1 class="entry-title">{title}</h1><div class="entry-meta">'
            f'{when} {byline}</div></header>{share}<div class="entry-content">{body}</div>'
            f'<footer class="entry-footer"><span class="cat-links">Posted in <a href="/section/{section}/">'
            f'{section}</a></span></footer></article>{related}{comments}</main>{side}</div>{footer}</div>'
        )
    elif tpl == 1:  # newsroom
        main = (
            f'<header class="masthead"><a class="logo" href="/">Bench Courier</a>{nav}</header>'
            f'<div class="breaking-bar">Breaking: {_sentence(rng)}</div><main class="layout">'
            f'<article class="story"><h1 class="story__headline">{title}</h1><div class="story__meta">'
            f'{byline} {when}</div><figure class="story__image"><img src="/img/{i}.jpg" alt="">'
            f'<figcaption>{_sentence(rng)}</figcaption></figure><section class="story__body">{body}'
            f'</section>{share}</article>{related}{comments}{side}</main>{footer}'
        )
    else:  # magazine of plain divs
        main = (
            f'<div class="wrapper"><div class="top">{nav}</div><div class="grid"><div class="col-main">'
            f'<div class="kicker">{section}</div><h1>{title}</h1><div class="meta">{byline} {when}</div>'
            f'<div class="article-body" itemprop="articleBody">{body}</div>{share}'
            f'<div class="tags">Tags: {" ".join(rng.sample(_WORDS[40:], 4))}</div>{related}{comments}'
            f'</div><div class="col-side">{side}</div></div>{footer}</div>'
        )
    return f"{head}<body class=\"single tpl-{tpl}\">{main}</body></html>"


def _meta(i: int, seed: int, start: datetime) -> dict[str, str]:
    rng = random.Random(seed * 7_919 + i)
    title = _title(rng)
    when = start + timedelta(minutes=37 * i + rng.randint(0, 30))
    path = f"/{when:%Y/%m}/{_slug(title, i)}.html"
    return {
        "title": title,
        "author": rng.choice(_NAMES),
        "date": when.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "section": rng.choice(_SECTIONS),
        "path": path,
    }


def _write_feeds(root: Path, metas: list[dict[str, str]]) -> None:
    recent = metas[-FEED_SIZE:][::-1]
    items = "".join(
        f"<item><title>{escape(m['title'])}</title><link>{m['path']}</link>"
        f"<pubDate>{datetime.fromisoformat(m['date']):%a, %d %b %Y %H:%M:%S +0000}</pubDate></item>"
        for m in recent
    )
    (root / "feed.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>The Bench Courier</title><link>/</link>{items}</channel></rss>",
        encoding="utf-8",
    )
    sets = []
    for n, lo in enumerate(range(0, len(metas), URLSET_SIZE), start=1):
        urls = "".join(
            f"<url><loc>{{BASE}}{m['path']}</loc><lastmod>{m['date'][:10]}</lastmod></url>"
            for m in metas[lo : lo + URLSET_SIZE]
        )
        name = f"sitemap-posts-{n}.xml"
        sets.append(name)
        (root / name).write_text(
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
            encoding="utf-8",
        )
    index = "".join(f"<sitemap><loc>{{BASE}}/{name}</loc></sitemap>" for name in sets)
    (root / "sitemap_index.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{index}</sitemapindex>',
        encoding="utf-8",
    )
    (root / "robots.txt").write_text(
        "User-agent: *\nDisallow: /wp-admin/\nSitemap: {BASE}/sitemap_index.xml\n", encoding="utf-8"
    )
    home = "".join(f'<li><a href="{m["path"]}">{escape(m["title"])}</a></li>' for m in recent)
    (root / "index.html").write_text(
        f"<!DOCTYPE html><html><head><title>The Bench Courier</title></head><body><ul>{home}</ul>"
        "</body></html>",
        encoding="utf-8",
    )


def set_base_url(root: Path, base: str) -> None:
    """Write absolute URLs (``base`` like ``http://127.0.0.1:8080``) into sitemaps and robots."""
    for path in [*root.glob("sitemap*.xml"), root / "robots.txt"]:
        tpl = path.with_name(path.name + ".tpl")
        if not tpl.exists():
            path.rename(tpl)
        path.write_text(tpl.read_text(encoding="utf-8").replace("{BASE}", base), encoding="utf-8")


def generate_site(root: Path, articles: int, seed: int = 7) -> SiteInfo:
    """Write a site of ``articles`` article pages into ``root`` (created; must be empty or new).

    Sitemaps and robots.txt hold the placeholder ``{BASE}``; call :func:`set_base_url` once the
    server's address is known. Raises FileExistsError if ``root`` holds files already.
    """
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    start = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
    metas = [_meta(i, seed, start) for i in range(articles)]
    crng = random.Random(seed)
    chrome: list[str] = []
    for _ in range(3):
        chrome += [_blob_css(crng, 260), _blob_js(crng, 140)]
    chrome.append(_nav(crng))
    dirs: set[Path] = set()
    for i, m in enumerate(metas):
        recent = [(x["path"], x["title"]) for x in metas[max(0, i - 30) : i + 1]]
        path = root / m["path"].lstrip("/")
        if path.parent not in dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            dirs.add(path.parent)
        path.write_text(_page(i, seed, m, recent, chrome), encoding="utf-8")
    _write_feeds(root, metas)
    (root / "manifest.json").write_text(
        json.dumps({"articles": articles, "seed": seed}), encoding="utf-8"
    )
    return SiteInfo(root=root, articles=articles, paths=tuple(m["path"] for m in metas))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path, help="directory to write the site into (new or empty)")
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--base", default=None, help="base URL for sitemaps, e.g. http://127.0.0.1:8080")
    args = ap.parse_args(argv)
    info = generate_site(args.root, args.articles, args.seed)
    if args.base:
        set_base_url(args.root, args.base)
    print(f"{info.articles} articles written to {info.root}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
