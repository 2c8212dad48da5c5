"""Word-level garbling inside an aligned bead: what a machine translation
leaves behind when it loses the thread of a sentence.

* **Repetition**: an English word or phrase said twice in a row ("the
  cooperation and cooperation", "migratory migratory birds", "completely
  independent, independent") where the Chinese says it once. The repeat
  usually stands where another source word should be, so the Chinese word
  of that clause left without a rendering is reported as its counterpart
  (拥有完全主权的、独立 -> "completely independent, independent": 主权
  "sovereignty" is the word the repeat displaced).
* **Seam**: a common word capitalised in the middle of an English sentence
  ("continue to develop the road Dialogue with the concept", "crack down on
  International terrorism and extremism achieve ...", "at the international
  level In the affairs of the government") where the document writes that
  word in lowercase elsewhere: the machine translation stitched two pieces
  of output together there, and the words around the seam are usually out
  of order or garbled. Titles ("Convention against Corruption"), names and
  quotations are not seams. Minor by itself: it shows where to look.
* **Brand name**: a CamelCase word ("AsiaInfo") that nothing in the Chinese
  explains, where the Chinese has no Latin letters: an abbreviation (亚信,
  the CICA conference) taken for a company's name. Reported as a wrong name
  with the Chinese words between the renderings of its neighbours.
* **Misreading**: an English word that renders a Chinese word read out of
  context or character by character, while the word in context means
  something else: 在非三方合作 (非 = 非洲 Africa, next to 非洲国家) ->
  "non-tripartite" (非 read as "non-"); 大图们倡议 (图们 = the Tumen river)
  -> "Big Picture" (图 read as "picture"). Evidence: the English word matches
  a dictionary gloss of the word or of one of its characters that is not its
  reading in this sentence, and the word has no rendering of its own here.
  With an encoder the reading may also be a synonym of a character's gloss
  (多极平衡世界, "multi-polar" everywhere else in the document -> "a highly
  balanced world": 极 "extremely" read as "highly"): the English word is
  as close to that gloss as near-synonyms are (``garble.sim_reading``) and
  further from the word's usual rendering in this document than different
  renderings of one word are from each other (``garble.sim_usual``), and the
  word is rendered in every one of its other occurrences.

Each is a mistranslation (a brand name: a wrong name) with a span in each
text. Nothing here depends on a particular word; the rates on faithful
human translations (MAC-Dev: 0.4% of beads, all from seams) are measured by
``bench/audit_calibration.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from align.audit.base import AuditContext, BeadView, Check, Tok
from align.audit.calibration import calibrated
from align.lexicon import EN_STOPWORDS
from align.model import Finding

# what may stand between the two copies of a repeated phrase: "X X", "X, X",
# "X and X", "X or X", "X and the X"
SIM_READING = 0.782    # bench/audit_calibration.py: garble.sim_reading
SIM_USUAL = 0.442      # bench/audit_calibration.py: garble.sim_usual
_REPEAT_GAP = re.compile(r"^(?:\s*[,;]?\s*(?:(?:and|or)\s+)?(?:(?:the|a|an)\s+)?)$", re.I)
MAX_PHRASE = 3


class GarbleCheck(Check):
    name = "garble"
    kinds = ("mistranslation", "entity")

    def __init__(self, sim_reading: float | None = None, sim_usual: float | None = None) -> None:
        self.sim_reading = calibrated("garble.sim_reading", SIM_READING) if sim_reading is None else sim_reading
        self.sim_usual = calibrated("garble.sim_usual", SIM_USUAL) if sim_usual is None else sim_usual

    def run(self, ctx: AuditContext) -> list[Finding]:
        out: list[Finding] = []
        for k, b0 in enumerate(ctx.beads):
            if not (b0.src_segs and b0.tgt_segs):
                continue
            b = ctx.fine(k)
            out += self._repetitions(ctx, b)
            out += self._misreadings(ctx, b)
            out += self._brands(ctx, b)
        out += self._seams(ctx)
        if ctx.encoder is not None:
            taken = {(f.bead, f.tgt_spans) for f in out}
            out += [f for f in self._misread_meanings(ctx) if (f.bead, f.tgt_spans) not in taken]
        return out

    # ------------------------------------------------- misreading by meaning
    def _misread_meanings(self, ctx: AuditContext) -> list[Finding]:
        """Misreadings whose English word is a synonym of a character's gloss
        (one encoder call for the document)."""
        cands = reading_candidates(ctx)
        if not cands:
            return []
        ctx.prefetch([x for c in cands for x in (c.english, *c.readings, *c.usual)])
        out: list[Finding] = []
        done: set[tuple[int, int]] = set()
        for c in cands:
            if (c.bead, c.tok) in done:
                continue
            v = ctx.vectors([c.english])[0]
            sims = ctx.vectors(list(c.readings)) @ v
            k = int(sims.argmax())
            usual = float((ctx.vectors(list(c.usual)) @ v).max())
            if sims[k] < self.sim_reading or usual >= self.sim_usual:
                continue
            done.add((c.bead, c.tok))
            b = ctx.fine(c.bead)
            t, e = b.src_toks[c.tok], b.tgt_toks[c.en_tok]
            ch = c.reading_of[k]
            out.append(ctx.finding(
                "mistranslation", "major", c.bead, [(t.start, t.end)], [(e.start, e.end)], score=0.85,
                message=(f"{t.text} is \"{c.usual[0]}\" everywhere else in this document, but \"{e.text}\" here "
                         f"renders {ch} (\"{c.readings[k]}\") read on its own: a misread word"),
                signal="misreading", reading=c.readings[k], sim_reading=round(float(sims[k]), 3),
                sim_usual=round(usual, 3),
            ))
        return out

    # ---------------------------------------------------------- brand name
    def _brands(self, ctx: AuditContext, b: BeadView) -> list[Finding]:
        zh = "".join(seg.text for seg in b.src_segs)
        if re.search(r"[A-Za-z]", zh):
            return []
        out = []
        for j, e in enumerate(b.tgt_toks):
            if not _CAMEL.match(e.text) or j in {jj for _, jj in b.local.all}:
                continue
            src = _between_sources(b, j)
            out.append(ctx.finding(
                "entity", "major", b.index, [src] if src else [], [(e.start, e.end)], score=0.8,
                message=(f"\"{e.text}\" reads like a company or product name, but nothing in the Chinese"
                         + (f" ({ctx.src_text(src)})" if src else "") + " names one: a wrong name"),
                signal="brand-name",
            ))
        return out

    # ---------------------------------------------------------------- seam
    def _seams(self, ctx: AuditContext) -> list[Finding]:
        text = ctx.pair.tgt.text
        case = word_case_counts(text)
        out: list[Finding] = []
        for k, b0 in enumerate(ctx.beads):
            if not (b0.src_segs and b0.tgt_segs):
                continue
            b = ctx.fine(k)
            for j in seam_tokens(text, b, case):
                lo, hi = max(0, j - 3), min(len(b.tgt_toks) - 1, j + 3)
                seg = next(s for s in b.tgt_segs if s.start <= b.tgt_toks[j].start < s.end)
                while b.tgt_toks[lo].start < seg.start:
                    lo += 1
                while b.tgt_toks[hi].end > seg.end:
                    hi -= 1
                es, ee = b.tgt_toks[lo].start, b.tgt_toks[hi].end
                src = _source_clause(b, range(lo, hi + 1), j)
                if src:  # a 、 list item brings its whole list: the seam is about word order
                    from align.audit.clauses import _list_span

                    seg = next(x for x in b.src_segs if x.start <= src[0] < x.end)
                    a, e = _list_span(seg.text, src[0] - seg.start, src[1] - seg.start)
                    src = (seg.start + a, seg.start + e)
                where = ctx.src_text(src) if src else ""
                out.append(ctx.finding(
                    "mistranslation", "minor", b.index, [src] if src else [], [(es, ee)], score=0.5,
                    message=(f"\"{b.tgt_toks[j].text}\" is capitalised in mid-sentence (\"{ctx.tgt_text((es, ee))}\"), "
                             f"where two pieces of a sentence were stitched together: the words around it are "
                             f"likely out of order or garbled" + (f"; compare with {where}" if where else "")),
                    signal="seam",
                ))
        return out

    # ---------------------------------------------------------- repetition
    def _repetitions(self, ctx: AuditContext, b: BeadView) -> list[Finding]:
        out: list[Finding] = []
        for first, second in repeated_phrases(ctx.pair.tgt.text, b.tgt_toks):
            words = [b.tgt_toks[j] for j in second]
            if _source_repeats(ctx, b, first, second):
                continue
            es, ee = b.tgt_toks[first[0]].start, b.tgt_toks[second[-1]].end
            phrase = " ".join(t.text for t in words)
            lost = _displaced_word(b, first + second)
            if lost is not None:
                t = b.src_toks[lost]
                msg = (f"\"{ctx.tgt_text((es, ee))}\" says \"{phrase}\" twice where the Chinese says it once; "
                       f"{t.text} (\"{_gloss(ctx, t)}\") has no rendering here: the repeat stands in its place")
                out.append(ctx.finding("mistranslation", "major", b.index, [(t.start, t.end)], [(es, ee)],
                                       score=0.85, message=msg, signal="repetition", repeated=phrase))
            else:
                msg = f"\"{ctx.tgt_text((es, ee))}\" says \"{phrase}\" twice where the Chinese says it once"
                src = sorted({(b.src_toks[i].start, b.src_toks[i].end) for i, j in b.local.en if j in first + second})
                out.append(ctx.finding("mistranslation", "minor", b.index, src[:2], [(es, ee)], score=0.6,
                                       message=msg, signal="repetition", repeated=phrase))
        return out

    # ---------------------------------------------------------- misreading
    def _misreadings(self, ctx: AuditContext, b: BeadView) -> list[Finding]:
        out: list[Finding] = []
        rendered = b.local.zh_rendered
        explained = b.local.en_explained
        used: set[int] = set()
        for i, t in enumerate(b.src_toks):
            if not t.content or i in rendered or not _is_cjk_word(t.text):
                continue
            readings = other_readings(ctx, t) - b.src_bag
            if not readings:
                continue
            for j in _slot(b, i):
                e = b.tgt_toks[j]
                if j in used or not e.content or j in explained or not (e.stems & readings):
                    continue
                used.add(j)
                how = _reading(ctx, t, e.stems & readings)
                meaning = _gloss(ctx, t)
                out.append(ctx.finding(
                    "mistranslation", "major", b.index, [(t.start, t.end)], [(e.start, e.end)], score=0.9,
                    message=(f"{t.text} means \"{meaning}\" here, but \"{e.text}\" renders another reading of "
                             f"{how}: a misread word"),
                    signal="misreading",
                ))
                break
        return out


# ------------------------------------------------------------- repetition
def repeated_phrases(text: str, toks: list[Tok]) -> list[tuple[list[int], list[int]]]:
    """Pairs of token runs (first copy, second copy) that repeat a phrase of
    1-3 words with at most "and / or / the" and a comma between them."""
    out: list[tuple[list[int], list[int]]] = []
    covered: set[int] = set()
    n = len(toks)
    low = [t.text.lower() for t in toks]
    # tokens whose word comes back within the next few tokens: only they can start a repeat
    starts = [j for j in range(n) if low[j] in low[j + 1:j + 2 * MAX_PHRASE + 3]]
    if not starts:
        return out

    def tight(run: list[int]) -> bool:  # no punctuation inside the phrase
        return not any(text[toks[x].end:toks[x + 1].start].strip() for x in run[:-1])

    for m in range(MAX_PHRASE, 0, -1):
        for j in starts:
            a = list(range(j, j + m))
            if a[-1] >= n or any(x in covered for x in a):
                continue
            words = low[j:j + m]
            if words[0] in EN_STOPWORDS or words[-1] in EN_STOPWORDS or not words[-1].isalpha():
                continue  # a phrase starts and ends with a content word ("time to time to" is not one)
            for skip in range(0, 3):
                c0 = j + m + skip
                if c0 + m > n:
                    break
                if low[c0:c0 + m] != words:
                    continue
                between = text[toks[a[-1]].end:toks[c0].start]
                c = list(range(c0, c0 + m))
                if not _REPEAT_GAP.match(between) or not tight(a) or not tight(c) or _idiomatic(words, between):
                    continue
                out.append((a, c))
                covered.update(a + c)
                break
    return out


def _idiomatic(words: list[str], between: str) -> bool:
    """English doubles a word on purpose: "faster and faster", "very, very"."""
    w = words[-1]
    joined_by_and = " and " in f" {between.lower()} "
    return len(words) == 1 and (w in EN_STOPWORDS or (joined_by_and and w.endswith("er") and len(w) > 4))


def _source_repeats(ctx: AuditContext, b: BeadView, first: list[int], second: list[int]) -> bool:
    """The Chinese says it as often: the words the repeated English renders
    occur in the Chinese at least as many times as the English phrase does
    (中共中央办公厅与…总统办公厅 -> "the Office and the Office of the President"),
    or the Chinese doubles a word itself (哈哈 "ha ha", 瑶瑶 "Yao Yao")."""
    key = [b.tgt_toks[j].text.lower() for j in second]
    n_en = sum(1 for j in range(len(b.tgt_toks) - len(key) + 1)
               if [b.tgt_toks[j + x].text.lower() for x in range(len(key))] == key)
    stems = frozenset().union(*(b.tgt_toks[j].stems for j in second))
    zh = "".join(seg.text for seg in b.src_segs)
    sources = {t.text for t in b.src_toks if t.content and t.stems & stems}
    if sources and sum(zh.count(w) for w in sources) >= n_en:
        return True
    for m in re.finditer(r"([\u3400-\u9fff])\1|([\u3400-\u9fff]{2})\2", zh):
        unit = m.group(1) or m.group(2)
        forms = ctx.lex.pinyin_forms(unit, limit=8)
        if not sources or any(w in forms for w in key) or any(t.text in m.group(0) for t in b.src_toks
                                                                if t.stems & stems):
            return True
    return False


def _displaced_word(b: BeadView, js: list[int]) -> int | None:
    """The Chinese word next to the repeat's source that has no rendering here
    (in its clause or a neighbouring one), nearest to the source; only a word
    the dictionary knows, so that its loss is certain."""
    srcs = {i for i, j in b.local.en if j in js}
    if not srcs:
        return None
    idx = [k for k, c in enumerate(b.src_clauses) if any(i in c.toks for i in srcs)]
    near = {k2 for k in idx for k2 in (k - 1, k, k + 1) if 0 <= k2 < len(b.src_clauses)}
    rendered = b.local.zh_rendered
    said = frozenset().union(*(b.tgt_toks[j].stems for j in js))
    cands = [i for k in sorted(near) for i in b.src_clauses[k].toks
             if b.src_toks[i].content and i not in rendered and b.src_toks[i].stems
             and len(b.src_toks[i].text) >= 2 and not b.src_toks[i].proper
             and not _near_any(b.src_toks[i].stems, said)]
    if not cands:
        return None
    content = [i for i, t in enumerate(b.src_toks) if t.content]
    pos = {i: k for k, i in enumerate(content)}
    # nearest in content words; on a tie the earlier word (the first copy took its place)
    return min(cands, key=lambda i: (min(abs(pos[i] - pos[a]) for a in srcs if a in pos), i))


def _near_any(a: frozenset[str], b: frozenset[str]) -> bool:
    """Stems that the light stemmer failed to join ("migrat" ~ "migratory")."""
    return any(x[:5] == y[:5] and len(x) >= 5 and len(y) >= 5 for x in a for y in b)


# ------------------------------------------------------------- brand name
_CAMEL = re.compile(r"^[A-Z][a-z]+(?:[A-Z][a-z]+)+$")


def _between_sources(b: BeadView, j: int) -> tuple[int, int] | None:
    """The Chinese clause between the sources of English token j's neighbours
    (what j stands in for), else the clause of the nearest neighbour's source."""
    src_of = {}
    for i, jj in b.local.en:
        src_of.setdefault(jj, set()).add(i)
    left = next((src_of[x] for x in range(j - 1, max(-1, j - 4), -1) if x in src_of), set())
    right = next((src_of[x] for x in range(j + 1, min(len(b.tgt_toks), j + 4)) if x in src_of), set())
    cl = {i: k for k, c in enumerate(b.src_clauses) for i in c.toks}
    lk = {cl[i] for i in left if i in cl}
    rk = {cl[i] for i in right if i in cl}
    if lk and rk and max(lk) + 2 == min(rk):
        c = b.src_clauses[max(lk) + 1]
        return (c.start, c.end)
    for ks in (rk, lk):
        if ks:
            c = b.src_clauses[min(ks) if ks is rk else max(ks)]
            return (c.start, c.end)
    return None


# ------------------------------------------------------------------- seam
_TITLE_GLUE = {"of", "the", "and", "for", "on", "in", "to", "against", "at", "a", "an", "de", "du"}
_OPENING = re.compile(r"(?:^|[\s(\[])['\"‘“]$")


def word_case_counts(text: str) -> dict[str, tuple[int, int]]:
    """Per word (lowercased): how often the document writes it in lowercase
    and how often capitalised."""
    counts: dict[str, list[int]] = {}
    for m in re.finditer(r"[A-Za-z][a-z]+(?:-[A-Za-z]+)*", text):
        w = m.group(0)
        c = counts.setdefault(w.lower(), [0, 0])
        c[0 if w[0].islower() else 1] += 1
    return {w: (a, b) for w, (a, b) in counts.items()}


def seam_tokens(text: str, b: BeadView, case: dict[str, tuple[int, int]]) -> list[int]:
    """English tokens capitalised mid-sentence that the document mostly writes
    in lowercase, not inside a title or a quotation, not after punctuation."""
    out = []
    toks = b.tgt_toks
    for seg in b.tgt_segs:
        idx = [j for j, t in enumerate(toks) if seg.start <= t.start < seg.end]
        for n, j in enumerate(idx):
            w = toks[j].text
            if not (w[:1].isupper() and w[1:2].islower()) or w == "I":
                continue
            low, cap = case.get(w.lower(), (0, 0))
            if low < 1 or low < cap:
                continue  # a name or a word this document capitalises
            before = text[seg.start:toks[j].start]
            if not before.strip() or not re.search(r"[A-Za-z0-9]\s+$|[’\"”']\s+$", before):
                continue  # start of a sentence, clause, list item, or after punctuation
            if _OPENING.search(before.rstrip()):
                continue
            if re.search(r"\d\s+$", before) or _in_title(toks, idx, n, text):
                continue
            out.append(j)
    return out


def _in_title(toks: list[Tok], idx: list[int], n: int, text: str) -> bool:
    """A capitalised neighbour within two words, joined by title glue
    ("Convention against Corruption", "Prohibition of the Development,")."""
    for step in (-1, 1):
        k, seen = n + step, 0
        while 0 <= k < len(idx) and seen < 3:
            t = toks[idx[k]].text
            gap = text[toks[idx[min(k, k - step)]].end:toks[idx[max(k, k - step)]].start]
            if gap.strip(" ,") or "\n" in gap:
                break
            if t[:1].isupper() or t[:1].isdigit():
                return True
            if t.lower() not in _TITLE_GLUE:
                break
            k += step
            seen += 1
    return False


def _source_clause(b: BeadView, js, j0: int) -> tuple[int, int] | None:
    """The Chinese clause whose words the English tokens ``js`` render most
    (nearest to token ``j0`` on a tie)."""
    js = set(js)
    best, key = None, None
    for c in b.src_clauses:
        hits = [j for i, j in b.local.en if j in js and i in c.toks]
        if hits:
            k = (len(hits), -min(abs(j - j0) for j in hits))
            if key is None or k > key:
                best, key = (c.start, c.end), k
    return best


# ------------------------------------------------------------- misreading
def other_readings(ctx: AuditContext, t: Tok) -> frozenset[str]:
    """Glosses of the word out of context and of each of its characters,
    minus its reading here."""
    lex = ctx.lex
    out = set(lex.en_words(t.text))
    if len(t.text) > 1 and t.proper:
        # a name translated character by character: 图们 -> "picture" + plural
        for ch in t.text:
            out |= lex.en_words(ch)
    out -= t.stems
    return frozenset(s for s in out if len(s) >= 2)


def _slot(b: BeadView, i: int, spread: int = 2) -> list[int]:
    """English tokens where token i's rendering belongs: next to the renderings
    of its rendered neighbours in the same clause."""
    clause = next((c for c in b.src_clauses if i in c.toks), None)
    if clause is None:
        return []
    rendered = b.local.zh_rendered
    toks = [k for k in clause.toks if b.src_toks[k].content]
    pos = toks.index(i)
    near = [k for k in toks[max(0, pos - 2):pos] + toks[pos + 1:pos + 3] if k in rendered]
    js = sorted({j for k in near for j in b.local.rendering(k)})
    out: set[int] = set()
    for j in js:
        out.update(x for x in range(j - spread, j + spread + 1) if 0 <= x < len(b.tgt_toks))
    return sorted(out, key=lambda x: min(abs(x - j) for j in js))


def _is_cjk_word(w: str) -> bool:
    return bool(re.fullmatch(r"[\u3400-\u9fff]+", w))


def _short(sense: str) -> str:
    from align.audit.senses import plain

    text = plain(sense).split(",")[0].strip()
    return text if len(text) <= 40 else text[:39] + "…"


def _gloss(ctx: AuditContext, t: Tok) -> str:
    """What the word means here, in a few words (an abbreviation: its full form)."""
    from align.audit.senses import load_senses, sense_stems

    full = [x for x in ctx.lex.expansions(t.text) if x in ctx.pair.src.text and x != t.text]
    for word in (full or [t.text]):
        for sense in load_senses().get(word, ()):
            if sense_stems(sense) & t.stems or not t.stems:
                return _short(sense)
    return ", ".join(sorted(t.stems)[:3])


def _reading(ctx: AuditContext, t: Tok, stems: frozenset[str]) -> str:
    """The out-of-context reading the English follows: 'it ("non-")' or
    '图 ("picture")'."""
    from align.audit.senses import load_senses, sense_stems

    for word in (t.text, *t.text):
        for sense in load_senses().get(word, ()):
            if sense_stems(sense) & stems:
                who = "it" if word == t.text else word
                return f'{who} ("{_short(sense)}")'
    return f'it ("{sorted(stems)[0]}…")'



@dataclass(frozen=True)
class ReadingCandidate:
    """An unrendered word, an English word where its rendering belongs, the
    glosses of its characters (and which character each belongs to) and the
    word's usual renderings in the document."""

    bead: int
    tok: int
    en_tok: int
    english: str
    readings: tuple[str, ...]
    reading_of: tuple[str, ...]
    usual: tuple[str, ...]


def reading_candidates(ctx: AuditContext) -> list[ReadingCandidate]:
    """Words rendered in all their other occurrences (at least two) but not
    here, paired with each English word of their slot that nothing else in
    the sentence renders (or only a word rendered elsewhere in it)."""
    from align.audit.habits import word_habits
    from align.audit.senses import load_senses, plain

    senses = load_senses()
    out: list[ReadingCandidate] = []
    for h in word_habits(ctx).values():
        if len(h.word) < 2:
            continue
        usual = h.wordings
        readings: list[str] = []
        reading_of: list[str] = []
        for ch in h.word:
            for sense in senses.get(ch, ())[:8]:
                p = plain(sense)
                if p and len(p) <= 30 and p not in readings:
                    readings.append(p)
                    reading_of.append(ch)
        if not usual or not readings:
            continue
        for k, i, got in h.occurrences:
            if got or h.always_elsewhere(k) < 2:
                continue
            b = ctx.fine(k)
            if i in b.local.zh_rendered:
                continue
            for j in _slot(b, i):
                e = b.tgt_toks[j]
                if e.content and e.text.isalpha() and e.text.lower() not in _PREPOSITIONS and not _claimed(b, j):
                    out.append(ReadingCandidate(k, i, j, e.text.lower(), tuple(readings), tuple(reading_of), usual))
    return out


# English prepositions render relations, not the meaning of a character ("between" for 中)
_PREPOSITIONS = frozenset(
    "about above across after against along among around before behind below beneath beside besides between "
    "beyond during except inside near outside since through throughout toward towards until within without".split())


def _claimed(b: BeadView, j: int) -> bool:
    """English token j renders a Chinese word of the bead: one whose renderings
    are all in j's English clause (a word rendered in another clause, "efficient"
    for 高效, does not also explain "highly" two clauses on)."""
    clause = {t: k for k, c in enumerate(b.tgt_clauses) for t in c.toks}
    srcs = [i for i, jj in b.local.en if jj == j]
    return any(all(clause.get(jj) == clause.get(j) for jj in b.local.rendering(i)) for i in srcs)


__all__ = ["GarbleCheck", "other_readings", "reading_candidates", "repeated_phrases"]
