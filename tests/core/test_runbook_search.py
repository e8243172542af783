"""Ranked runbook search (BM25F over title, tags, services and body): the ranking people expect on
the example runbooks, and properties that hold for any runbooks and any query."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsgate.core.runbook_search import RunbookIndex, stem, terms, words
from opsgate.domain.runbook import Runbook, first_paragraph, runbook_link, runbook_page_url
from opsgate.wiring import catalog_from

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "opsgate.yaml"


@pytest.fixture(scope="module")
def index() -> RunbookIndex:
    return RunbookIndex(catalog_from(EXAMPLE).runbooks)


def slugs(index: RunbookIndex, query: str, limit: int = 3) -> list[str]:
    return [hit.runbook.slug for hit in index.search(query, limit)]


@pytest.mark.parametrize(("query", "best"), [
    ("web 5xx", "web-5xx"),
    ("errors on the load balancer", "web-5xx"),
    ("api is slow", "api-latency"),
    ("p99 latency", "api-latency"),
    ("roll back the release", "rollback"),
    ("revert a bad deploy", "rollback"),
    ("stale prices after a data fix", "cache-flush"),
    ("budget alert", "cost-spike"),
    ("password leaked", "rotate-secret"),
])
def test_the_example_runbooks_rank_as_a_person_would_expect(index, query, best):
    assert slugs(index, query)[0] == best


def test_a_title_or_tag_match_outranks_a_passing_mention_in_a_body(index):
    # "latency" is in api-latency's title and tags, and only in web-5xx's body
    assert slugs(index, "latency", limit=5).index("api-latency") < slugs(index, "latency", limit=5).index("web-5xx")


def test_matched_words_are_the_query_words_found_as_typed(index):
    [hit] = index.search("Deploying WEB 5xx kubernetes", limit=1)
    assert hit.runbook.slug == "web-5xx"
    assert hit.matched == ("deploying", "web", "5xx")  # "deploying" finds "deploy" (in `deploy status`)


def test_nothing_matches_words_no_runbook_has(index):
    assert index.search("kubernetes helm") == []
    assert index.search("the and of") == []  # only stop words


def test_limit_caps_the_answer(index):
    assert len(index.search("web api prod", limit=2)) == 2


def test_an_empty_index_finds_nothing():
    assert RunbookIndex([]).search("anything") == []


def test_the_words_rules():
    assert words("High-Latency on API (p99) — café") == ["high", "latency", "api", "p99", "cafe"]
    assert [stem(w) for w in ("deploys", "deployed", "deploying", "latencies", "status", "class", "need")] == [
        "deploy", "deploy", "deploy", "latency", "status", "class", "need"]


def test_first_paragraph_skips_headings_and_code_and_is_cut_at_a_word():
    body = "# Title\n\n```\ncode\n```\nFirst line\ncontinues here.\n\nSecond paragraph."
    assert first_paragraph(body) == "First line continues here."
    long = "word " * 200
    cut = first_paragraph(long, limit=50)
    assert len(cut) <= 50 and cut.endswith("…") and not cut.endswith(" …")


def test_a_runbook_links_to_its_own_url_else_to_its_page():
    book = Runbook(slug="web-5xx", title="t", body="", source="x.md")
    assert runbook_link(book, None) is None
    assert runbook_link(book, "https://ops.example.com/") == "https://ops.example.com/runbooks/web-5xx"
    assert runbook_page_url("https://ops.example.com", "a b") == "https://ops.example.com/runbooks/a%20b"
    own = Runbook(slug="x", title="t", body="", source="x.md", url="https://wiki.example.com/x")
    assert runbook_link(own, "https://ops.example.com") == "https://wiki.example.com/x"


# -- properties -----------------------------------------------------------------------------------

WORDS = st.sampled_from(["web", "api", "latency", "errors", "deploy", "cache", "cost", "rollback", "disk", "queue",
                         "5xx", "p99", "timeout", "memory", "database", "restart"])
TEXT = st.lists(WORDS, max_size=30).map(" ".join)


@st.composite
def runbooks(draw) -> list[Runbook]:
    count = draw(st.integers(min_value=1, max_value=8))
    return [Runbook(slug=f"rb-{i}", title=draw(TEXT), body=draw(TEXT), source=f"rb-{i}.md",
                    tags=tuple(draw(st.lists(WORDS, max_size=4))), services=tuple(draw(st.lists(WORDS, max_size=2))))
            for i in range(count)]


@settings(max_examples=200, deadline=None)
@given(books=runbooks(), query=TEXT)
def test_every_hit_contains_a_query_word_and_scores_are_sorted(books, query):
    hits = RunbookIndex(books).search(query, limit=len(books))
    wanted = set(terms(query))
    for hit in hits:
        book = hit.runbook
        found = set(terms(" ".join((book.title, book.body, *book.tags, *book.services))))
        assert hit.score > 0 and found & wanted
        assert set(terms(" ".join(hit.matched))) <= found
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    unmatched = [b for b in books if not set(terms(" ".join((b.title, b.body, *b.tags, *b.services)))) & wanted]
    assert len(hits) == len(books) - len(unmatched)


@settings(max_examples=200, deadline=None)
@given(books=runbooks(), query=st.lists(WORDS, min_size=1, max_size=6))
def test_word_order_and_case_do_not_change_the_answer(books, query):
    index = RunbookIndex(books)
    forward = [(h.runbook.slug, round(h.score, 9)) for h in index.search(" ".join(query), limit=8)]
    backward = [(h.runbook.slug, round(h.score, 9)) for h in index.search(" ".join(reversed(query)).upper(), limit=8)]
    assert forward == backward


@settings(max_examples=200, deadline=None)
@given(books=runbooks(), word=WORDS, field=st.sampled_from(["title", "tags", "body"]))
def test_adding_the_searched_word_to_a_runbook_never_lowers_its_rank(books, word, field):
    """Monotonic: giving the first runbook one more occurrence of the query word can only help it."""
    before = RunbookIndex(books).search(word, limit=len(books))
    first = books[0]
    boosted = {"title": lambda b: Runbook(b.slug, f"{b.title} {word}", b.body, b.source, b.tags, b.services),
               "tags": lambda b: Runbook(b.slug, b.title, b.body, b.source, (*b.tags, word), b.services),
               "body": lambda b: Runbook(b.slug, b.title, f"{b.body} {word}", b.source, b.tags, b.services)}[field](first)
    after = RunbookIndex([boosted, *books[1:]]).search(word, limit=len(books))
    rank_after = [h.runbook.slug for h in after].index(first.slug)
    rank_before = [h.runbook.slug for h in before].index(first.slug) if first.slug in [h.runbook.slug for h in before] \
        else len(books)
    assert rank_after <= rank_before
