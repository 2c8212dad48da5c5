"""The same source name or term translated differently within the document.

For every Chinese name token (CEDICT proper noun, or an abbreviation read in
context) the English words linked to it by the dictionary are its rendering
here. Renderings that share a stem are one variant ("China" ~ "the Chinese
side"); when a term has two variants with nothing in common (欧亚 as
"Eurasian" and as "Europe and Asia"), the minority variant is reported.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from align.audit.base import AuditContext, Check
from align.model import Finding

MIN_OCCURRENCES = 2


class ConsistencyCheck(Check):
    name = "consistency"
    kinds = ("inconsistency",)

    def run(self, ctx: AuditContext) -> list[Finding]:
        occ: dict[str, list[tuple[int, int, frozenset[str], list[int]]]] = defaultdict(list)
        for b in ctx.beads:
            if not b.src_segs or not b.tgt_segs:
                continue
            links: dict[int, list[int]] = defaultdict(list)
            for i, j in b.links:
                links[i].append(j)
            for i, t in enumerate(b.src_toks):
                if not (t.content and t.proper and i in links):
                    continue
                js = [j for j in links[i] if b.tgt_toks[j].text[:1].isupper()]
                if not js:
                    continue
                js = _nearest_run(b, i, js)
                rendering = frozenset().union(*(b.tgt_toks[j].stems & t.stems for j in js))
                if rendering:
                    occ[t.text].append((b.index, i, rendering, js))
        out: list[Finding] = []
        for term, items in occ.items():
            if len(items) < MIN_OCCURRENCES:
                continue
            clusters = _cluster([r for _, _, r, _ in items])
            if len(set(clusters)) < 2:
                continue
            counts = Counter(clusters)
            (major, n_major), *rest = counts.most_common()
            if rest and rest[0][1] == n_major:
                continue  # no majority: nothing to call the norm
            norm_words = _words(ctx, [it for it, c in zip(items, clusters) if c == major])
            for (bead, i, _, js), c in zip(items, clusters):
                if c == major:
                    continue
                b = ctx.beads[bead]
                t = b.src_toks[i]
                spans = [(b.tgt_toks[j].start, b.tgt_toks[j].end) for j in js]
                here = " ".join(b.tgt_toks[j].text for j in js)
                if ctx.lex.is_name(term):
                    from align.audit.entities import _en_name_run

                    es, ee = _en_name_run(ctx, b, js[0])
                    es = min(es, min(s for s, _ in spans))
                    ee = max(ee, max(e for _, e in spans))
                    out.append(ctx.finding(
                        "entity", "major", bead, [(t.start, t.end)], [(es, ee)],
                        score=n_major / len(items),
                        message=(f"The name {term} is rendered \"{ctx.tgt_text((es, ee))}\"; elsewhere "
                                 f"this document renders it \"{norm_words}\""),
                        signal="name-variant", term=term, usual=norm_words,
                    ))
                out.append(ctx.finding(
                    "inconsistency", "minor", bead, [(t.start, t.end)], spans,
                    score=n_major / len(items),
                    message=(f"{term} is rendered \"{here}\" here but \"{norm_words}\" in "
                             f"{n_major} other place(s)"),
                    term=term, usual=norm_words,
                ))
        return out


def _nearest_run(b, i, js: list[int]) -> list[int]:
    """Of several linked English tokens keep the group (gaps of <= 4 tokens) closest
    in relative position: one rendering of this occurrence, e.g. "Charter of the United Nations"."""
    js = sorted(js)
    groups: list[list[int]] = [[js[0]]]
    for j in js[1:]:
        if j - groups[-1][-1] <= 4:
            groups[-1].append(j)
        else:
            groups.append([j])
    if len(groups) == 1:
        return groups[0]
    s0 = b.src_toks[0].start
    rel = (b.src_toks[i].start - s0) / max(1, b.src_toks[-1].end - s0)
    t0 = b.tgt_toks[0].start
    span = max(1, b.tgt_toks[-1].end - t0)
    return min(groups, key=lambda g: abs((b.tgt_toks[g[0]].start - t0) / span - rel))


def _cluster(renderings: list[frozenset[str]]) -> list[int]:
    """Union renderings that share a stem; return a cluster id per rendering."""
    parent = list(range(len(renderings)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a in range(len(renderings)):
        for c in range(a + 1, len(renderings)):
            if renderings[a] & renderings[c]:
                parent[find(a)] = find(c)
    return [find(x) for x in range(len(renderings))]


def _words(ctx: AuditContext, items) -> str:
    texts = Counter()
    for bead, _, _, js in items:
        b = ctx.beads[bead]
        texts[" ".join(b.tgt_toks[j].text for j in js)] += 1
    return texts.most_common(1)[0][0]
