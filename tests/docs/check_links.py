#!/usr/bin/env python3
"""Fails when a relative link in a Markdown file does not resolve: README.md, docs/**/*.md and every other
*.md of the tree (build directories and hidden folders aside).

usage: check_links.py ROOT            check the tree at ROOT; exit 1 and list every broken link
       check_links.py --self-test     plant broken links in a scratch tree and check they are caught

A link is [text](target), ![alt](target) or a reference definition "[label]: target", outside code
blocks and code spans. Links with a scheme (https:, mailto:) are not followed. A relative target must
name a file or folder inside ROOT: one that leaves the tree is broken even where it exists, because the
repository has to explain itself. An anchor (#section) into a Markdown file must match one of its
headings, as GitHub forms them.
"""
import pathlib
import re
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
import tree_check  # noqa: E402

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.S | re.M)
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.M)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def blank(match):
    # Keep the line count, drop the text: line numbers stay right.
    return re.sub(r"[^\n]", " ", match.group(0))


def prose(text):
    return CODE_SPAN.sub(blank, FENCE.sub(blank, text))


def anchors(path):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats."""
    seen = {}
    found = set()
    for m in HEADING.finditer(FENCE.sub(blank, path.read_text(encoding="utf-8"))):
        title = re.sub(r"`|\*\*|__", "", m.group(1))
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def markdown_files(root):
    for path in sorted(root.rglob("*.md")):
        parts = path.relative_to(root).parts
        if any(p.startswith(".") or p.startswith("build") for p in parts[:-1]):
            continue
        yield path


def broken_links(root):
    root = root.resolve()
    found = []
    for path in markdown_files(root):
        text = prose(path.read_text(encoding="utf-8"))
        targets = [(m.start(1), m.group(1)) for m in INLINE.finditer(text)]
        targets += [(m.start(1), m.group(1)) for m in REFERENCE.finditer(text)]
        for at, target in sorted(targets):
            target = target.strip("<>")
            if SCHEME.match(target):
                continue
            line = text.count("\n", 0, at) + 1
            where = f"{path.relative_to(root)}:{line}: ({target})"
            file_part, _, anchor = target.partition("#")
            dest = (path.parent / file_part).resolve() if file_part else path
            if dest != root and root not in dest.parents:
                found.append(f"{where} points outside the repository")
            elif not dest.exists():
                found.append(f"{where} does not exist")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                found.append(f"{where} names no heading of {dest.relative_to(root)}")
    return found


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        top = pathlib.Path(tmp)
        root = top / "repo"
        (root / "docs" / "schemas").mkdir(parents=True)
        (top / "shared").mkdir()
        (top / "shared" / "DESIGN.md").write_text("# Design\n")
        (root / "docs" / "design.md").write_text("# Design\n\n## The event loop\n")
        (root / "README.md").write_text(
            "# x\n"
            "[design](docs/design.md), [loop](docs/design.md#the-event-loop), [schemas](docs/schemas/),\n"
            "[web](https://example.org/nowhere), [top](#x), `[code](missing.md)`\n"
            "```\n[fenced](missing.md)\n```\n")
        if broken_links(root):
            print("self-test: a lawful link was reported:\n" + "\n".join(broken_links(root)))
            return 1
        plants = {
            "missing file": "[gone](docs/gone.md)",
            "outside the repository": "[shared](../shared/DESIGN.md)",
            "missing heading": "[loop](docs/design.md#no-such-section)",
            "reference definition": "[ref]: docs/also-gone.md",
            "image": "![img](docs/pic.png)",
        }
        with (root / "README.md").open("a") as f:
            for text in plants.values():
                f.write(text + "\n")
        found = broken_links(root)
        if len(found) != len(plants):
            print(f"self-test: {len(found)} of {len(plants)} planted broken links caught:\n" + "\n".join(found))
            return 1
    print(f"self-test: all {len(plants)} planted broken links caught")
    return 0


if __name__ == "__main__":
    sys.exit(tree_check.main(
        sys.argv, __doc__, broken_links, self_test,
        lambda root: f"every relative link resolves ({len(list(markdown_files(root.resolve())))} Markdown files)"))
