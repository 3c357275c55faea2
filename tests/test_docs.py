"""The documentation's links: every relative link of README.md and docs/*.md names a file that exists and,
with a `#anchor`, a heading of that file (ids as MkDocs makes them); every page is in mkdocs.yml's nav."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
NAV_PAGE = re.compile(r"^\s*-\s*(?:[^:\n]+:\s*)?(\S+\.md)\s*$", re.MULTILINE)


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, with inline code spans removed."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def links(text: str) -> list[str]:
    """The targets of inline links, images and reference definitions outside code."""
    found = []
    for line in prose_lines(text):
        bare = CODE_SPAN.sub(lambda span: "x" * len(span.group(0)), line)
        found += INLINE_LINK.findall(bare)
        found += REFERENCE_DEFINITION.findall(bare)
    return found


def slugify(heading: str) -> str:
    """The id MkDocs' default toc gives a heading: ASCII, lowercase, punctuation dropped, spaces as `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(text: str) -> set[str]:
    """Every heading id of a page; a repeated id gets `_1`, `_2`, … as in MkDocs."""
    ids: set[str] = set()
    for line in prose_lines(text):
        heading = HEADING.match(line)
        if not heading:
            continue
        slug = base = slugify(heading.group(2))
        count = 0
        while slug in ids:
            count += 1
            slug = f"{base}_{count}"
        ids.add(slug)
    return ids


def broken_links(page: Path) -> list[str]:
    """Each relative link of the page whose file or anchor does not exist, with the reason."""
    problems = []
    for target in links(page.read_text()):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:
            continue
        if target.startswith("/"):
            problems.append(f"{target}: absolute link")
            continue
        path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not path.exists():
            problems.append(f"{target}: no such file")
        elif parts.fragment:
            if path.suffix != ".md":
                problems.append(f"{target}: an anchor into a file that is not Markdown")
            elif unquote(parts.fragment) not in anchors(path.read_text()):
                problems.append(f"{target}: no heading #{parts.fragment} in {path.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_names_an_existing_file_and_heading(page):
    assert broken_links(page) == []


def test_a_missing_file_a_missing_anchor_and_an_absolute_link_are_reported(tmp_path):
    (tmp_path / "other.md").write_text("# The `baas-mcp` command\n\n## Embedded, or your Appwrite\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#the-baas-mcp-command) [ok](other.md#embedded-or-your-appwrite) [ok](#here)\n"
        "# Here\n"
        "[gone](gone.md) [no anchor](other.md#nowhere) [absolute](/other.md) `[in code](gone.md)`\n"
        "```\n[in a fence](gone.md)\n```\n"
    )
    assert broken_links(page) == [
        "gone.md: no such file",
        "other.md#nowhere: no heading #nowhere in other.md",
        "/other.md: absolute link",
    ]


def test_repeated_headings_get_numbered_ids():
    assert anchors("# Notes\n## Notes\n## Notes\n") == {"notes", "notes_1", "notes_2"}


def test_every_page_is_in_the_nav_and_every_nav_entry_exists():
    nav = NAV_PAGE.findall((ROOT / "mkdocs.yml").read_text().split("\nnav:", 1)[1].split("\n\n", 1)[0])
    assert sorted(nav) == sorted(page.name for page in DOCS.glob("*.md"))
