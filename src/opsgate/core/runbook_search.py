"""Ranked full-text search over runbooks: BM25F, pure Python.

Each runbook is four fields: title, tags, services and body. A word found in a short, strong
field (the title, a tag, a service) counts for more than the same word deep in a long body:
per field, the term frequency is weighted and normalised by that field's length against its
average (BM25F), the weighted frequencies are summed, then saturated once with k1 and multiplied
by the word's rarity over all runbooks (idf). Pure Python rather than a database's full-text
index: the core stays free of the database, and SQLite and PostgreSQL rank alike. The weights are
computed once per catalog into postings (word -> runbooks), so a query only touches the runbooks
that contain its words: 2,000 runbooks index in about a second, a query takes a few milliseconds
(bench/runbook_search.py).

Words are lowercase letters and digits (`5xx`, `p99` stay whole; `high-latency` is two words),
common English words are ignored, and a light suffix rule makes `deploys`, `deployed` and
`deploying` the same word as `deploy`.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from opsgate.domain.runbook import Runbook

FIELD_WEIGHTS = {"title": 3.0, "tags": 2.5, "services": 2.5, "body": 1.0}
# Length normalisation per field: tags and services are lists, a long list is not a diluted one.
FIELD_B = {"title": 0.5, "tags": 0.2, "services": 0.2, "body": 0.75}
K1 = 1.2
MAX_QUERY_WORDS = 32

_WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset(
    "a an and are as at be by do does for from has have how i if in into is it its me my no not of on or our "
    "so that the their then there these this to up us was we what when where which who why will with you your".split()
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, predictable suffix rule (not a full stemmer): plural and verb endings."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """The searchable words of a text, in order (lowercase, without accents and stop words)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return [w for w in _WORD.findall(plain) if w not in STOP_WORDS]


def terms(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


@dataclass(frozen=True, slots=True)
class Hit:
    runbook: Runbook
    score: float
    matched: tuple[str, ...]  # the query's words found in the runbook, as typed (lowercase)


class RunbookIndex:
    """Built once per catalog: for each word, the runbooks that contain it with their BM25F weight
    (fixed at build time), so a query touches only the runbooks that contain its words."""

    def __init__(self, runbooks: Iterable[Runbook]) -> None:
        self.runbooks: tuple[Runbook, ...] = tuple(runbooks)
        fields = [_fields(book) for book in self.runbooks]
        count = len(self.runbooks)
        average = {name: (sum(sum(f[name].values()) for f in fields) / count if count else 0.0) or 1.0
                   for name in FIELD_WEIGHTS}
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for index, counts in enumerate(fields):
            weighted: Counter[str] = Counter()
            for name, weight in FIELD_WEIGHTS.items():
                length = sum(counts[name].values())
                norm = 1 - FIELD_B[name] + FIELD_B[name] * length / average[name]
                for term, frequency in counts[name].items():
                    weighted[term] += weight * frequency / norm
            for term, value in weighted.items():
                self._postings.setdefault(term, []).append((index, value))
        # Lucene's idf: always positive, so a word found in every runbook still counts a little.
        self._idf = {term: math.log(1 + (count - len(p) + 0.5) / (len(p) + 0.5)) for term, p in self._postings.items()}

    def __len__(self) -> int:
        return len(self.runbooks)

    def search(self, query: str, limit: int = 3) -> list[Hit]:
        """The best `limit` runbooks for `query`, best first; ties by slug. Only runbooks that
        contain at least one query word are returned."""
        typed = query_words(query)
        scores: dict[int, float] = {}
        found: dict[int, set[str]] = {}
        for term in dict.fromkeys(stem(w) for w in typed):
            idf = self._idf.get(term, 0.0)
            for index, weighted in self._postings.get(term, ()):
                scores[index] = scores.get(index, 0.0) + idf * weighted / (K1 + weighted)
                found.setdefault(index, set()).add(term)
        best = heapq.nsmallest(limit, scores, key=lambda i: (-scores[i], self.runbooks[i].slug))
        return [Hit(self.runbooks[i], scores[i], tuple(w for w in typed if stem(w) in found[i])) for i in best]


def _fields(book: Runbook) -> dict[str, Counter[str]]:
    return {
        "title": Counter(terms(book.title)),
        "tags": Counter(terms(" ".join(book.tags))),
        "services": Counter(terms(" ".join(book.services))),
        "body": Counter(terms(book.body)),
    }


def query_words(query: str) -> list[str]:
    """The words of a query that take part in the search, each once, in the order typed."""
    return list(dict.fromkeys(words(query)))[:MAX_QUERY_WORDS]
