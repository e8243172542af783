"""Runbook search: time to index and time per query, for synthetic runbooks of realistic size.

    .venv/bin/python bench/runbook_search.py

Each runbook has a title of 6 words, 4 tags, 1 service and a body of about 400 words drawn from an
operations vocabulary; queries are 1 to 4 words of the same vocabulary. Prints a table.
"""

from __future__ import annotations

import random
import statistics
import time

from opsgate.core.runbook_search import RunbookIndex
from opsgate.domain.runbook import Runbook

VOCABULARY = ("web api worker database cache queue latency errors 5xx timeout memory cpu disk deploy release "
              "rollback restart alarm budget cost certificate dns load balancer pipeline approval secret rotation "
              "incident outage throttling retries connection pool replica failover backup restore migration index "
              "slow query lambda container task service health check scaling capacity region network").split()
FILLER = "the a of to and in is for on with check then if when after before run see".split()


def runbook(rng: random.Random, n: int) -> Runbook:
    def text(count: int) -> str:
        return " ".join(rng.choice(VOCABULARY) if rng.random() < 0.4 else rng.choice(FILLER) for _ in range(count))

    return Runbook(slug=f"rb-{n}", title=text(6), body=text(400), source=f"rb-{n}.md",
                   tags=tuple(rng.sample(VOCABULARY, 4)), services=(rng.choice(VOCABULARY),))


def measure(count: int, queries: int = 300) -> tuple[float, float, float]:
    rng = random.Random(count)
    books = [runbook(rng, n) for n in range(count)]
    started = time.perf_counter()
    index = RunbookIndex(books)
    build_s = time.perf_counter() - started
    latencies = []
    for _ in range(queries):
        query = " ".join(rng.sample(VOCABULARY, rng.randint(1, 4)))
        started = time.perf_counter()
        index.search(query, limit=3)
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    return build_s, statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


def main() -> None:
    print(f"{'runbooks':>9} | {'index build':>11} | {'query p50':>9} | {'query p99':>9}")
    print(f"{'-' * 9}-|-{'-' * 11}-|-{'-' * 9}-|-{'-' * 9}")
    for count in (10, 100, 500, 2000):
        build_s, p50, p99 = measure(count)
        print(f"{count:>9} | {build_s * 1000:>8.1f} ms | {p50 * 1000:>6.2f} ms | {p99 * 1000:>6.2f} ms")


if __name__ == "__main__":
    main()
