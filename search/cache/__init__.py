"""Cache tiers for search answers (CONTRACT 7): edge LRU -> shared cache (KV) -> catalog -> providers.

One job per module:

- `keys`: cache keys (`cache_key`, `query_key`).
- `ttl`: how long the shared tier keeps an answer (per kind, quality, jitter; not found and degraded
  answers 5 minutes).
- `edge`: the in-process LRU with fresh and stale windows (`EdgeCache`), bounded by hits held.
- `coalesce`: concurrent identical misses make one upstream call, in process (a per-key future) and
  across processes (a Redis `SET NX PX` lock; waiters poll the shared cache).
- `tiers`: the tiered read (`answer_fetch`, `cached_fetch`, `cached_fetch_many`), the shared tier,
  stale-while-revalidate, and hit rates per tier.

The edge tier holds `search.answers.CachedAnswer` objects (an answer with what the hot path derives
from it); the shared tier holds the plain answer (frozen DTOs).
"""
