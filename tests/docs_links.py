#!/usr/bin/env python3
"""Every relative link in the given Markdown files names a file that
exists, and its #anchor a heading of that file (GitHub's anchor rule:
lower case, punctuation dropped, spaces to hyphens).  External links
(http:, https:, mailto:, file:) are left alone: the suite has no network."""
import os
import re
import sys


def anchors(path):
    out = set()
    with open(path, encoding="utf-8") as f:
        for m in re.finditer(r"^#{1,6} (.+)$", f.read(), re.M):
            h = re.sub(r"[`*_]", "", m.group(1).strip().lower())
            out.add(re.sub(r"[^\w\- ]", "", h).replace(" ", "-"))
    return out


bad = []
for doc in sys.argv[1:]:
    text = open(doc, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code is not links
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, frag = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
        if not os.path.exists(full):
            bad.append("%s: %s: no such file" % (doc, target))
        elif frag and full.endswith(".md") and frag not in anchors(full):
            bad.append("%s: %s: no heading #%s there" % (doc, target, frag))
for b in bad:
    print("FAIL:", b)
if bad:
    sys.exit(1)
print("ok: every relative link of %d documents resolves" % len(sys.argv[1:]))
