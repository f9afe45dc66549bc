"""Compare two proposals topic by topic.

Demands are matched by wording, since successive drafts carry no shared identifiers: within a
topic, each demand of the earlier proposal is paired with the most similar demand of the later
one when they share enough of their words. Unpaired demands were dropped or added.
"""

from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import mark_safe

# Below this share of common words, two demands are treated as different provisions.
SIMILAR = 0.45


def _words(demand):
    return f"{demand.summary} {demand.paraphrase}".lower().split()


def similarity(a, b):
    return SequenceMatcher(None, _words(a), _words(b), autojunk=False).ratio()


def word_diff(old, new):
    """Old and new text as HTML, removed words in <del>, added words in <ins>."""
    old_words, new_words = old.split(), new.split()
    parts = []
    matcher = SequenceMatcher(None, old_words, new_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            parts.append(f"<del>{escape(' '.join(old_words[i1:i2]))}</del>")
        if tag in ("replace", "insert"):
            parts.append(f"<ins>{escape(' '.join(new_words[j1:j2]))}</ins>")
        if tag == "equal":
            parts.append(escape(" ".join(old_words[i1:i2])))
    # Every part is escaped above.
    return mark_safe(" ".join(parts))  # nosec B308 B703


def pair(first, second):
    """Greedy one-to-one pairing of the most similar demands above the SIMILAR threshold."""
    candidates = sorted(
        ((similarity(a, b), i, j) for i, a in enumerate(first) for j, b in enumerate(second)),
        reverse=True,
    )
    used_first, used_second, pairs = set(), set(), []
    for score, i, j in candidates:
        if score < SIMILAR:
            break
        if i in used_first or j in used_second:
            continue
        used_first.add(i)
        used_second.add(j)
        pairs.append((first[i], second[j], score))
    dropped = [a for i, a in enumerate(first) if i not in used_first]
    added = [b for j, b in enumerate(second) if j not in used_second]
    return pairs, dropped, added


def compare(topics, first_demands, second_demands, same_party):
    """Per topic: what each proposal has that the other lacks, what both address, and for one
    party's successive proposals what was added, dropped, reworded or kept."""

    def by_topic(demands):
        grouped = {}
        for demand in demands:
            for topic in {demand.topic, *demand.secondary_topic_list}:
                grouped.setdefault(topic.pk, []).append(demand)
        return grouped

    first, second = by_topic(first_demands), by_topic(second_demands)
    rows = []
    for topic in topics:
        a, b = first.get(topic.pk, []), second.get(topic.pk, [])
        if not a and not b:
            continue
        row = {"topic": topic, "first": a, "second": b}
        row["coverage"] = "both" if a and b else ("first" if a else "second")
        if same_party:
            pairs, dropped, added = pair(a, b)
            row["kept"] = [(x, y) for x, y, _ in pairs if _words(x) == _words(y)]
            row["reworded"] = [
                {
                    "first": x,
                    "second": y,
                    "similarity": round(score * 100),
                    "summary": word_diff(x.summary, y.summary),
                    "paraphrase": word_diff(x.paraphrase, y.paraphrase),
                }
                for x, y, score in pairs
                if _words(x) != _words(y)
            ]
            row["dropped"], row["added"] = dropped, added
        rows.append(row)
    return rows
