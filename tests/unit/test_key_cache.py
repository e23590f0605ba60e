"""KeyCache: live keys' owners remembered for a while; a revocation in this process forgets them at once."""

from __future__ import annotations

from ragstore.service import tenants
from ragstore.service.tenants import KeyCache

OWNER = ("key_1", "ten_1")


def test_a_key_is_remembered_until_its_ttl_passes(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(tenants.time, "monotonic", lambda: now[0])
    cache = KeyCache(5)
    assert cache.get("rs_secret") is None
    cache.put("rs_secret", OWNER, cache.generation)
    assert cache.get("rs_secret") == OWNER
    assert cache.get("rs_other") is None
    now[0] += 4.9
    assert cache.get("rs_secret") == OWNER
    now[0] += 0.2
    assert cache.get("rs_secret") is None


def test_forget_drops_the_key_at_once_and_a_lookup_begun_before_it_is_not_kept():
    cache = KeyCache(60)
    cache.put("rs_a", OWNER, cache.generation)
    cache.put("rs_b", ("key_2", "ten_1"), cache.generation)
    begun = cache.generation  # a request's database lookup starts here...
    cache.forget("key_1")  # ...the key is revoked meanwhile...
    cache.put("rs_a", OWNER, begun)  # ...and the lookup, which saw it live, comes back
    assert cache.get("rs_a") is None
    assert cache.get("rs_b") == ("key_2", "ten_1")


def test_ttl_0_remembers_nothing_and_secrets_are_kept_only_as_hashes():
    off = KeyCache(0)
    off.put("rs_a", OWNER, off.generation)
    assert off.get("rs_a") is None
    on = KeyCache(60, max_keys=2)
    for secret in ("rs_a", "rs_b", "rs_c"):
        on.put(secret, OWNER, on.generation)
    assert len(on._owners) <= 2 and "rs_c" not in on._owners and tenants.hash_key("rs_c") in on._owners
