"""The stream's account cache: the owners and managers a warm container remembers for a minute, so a retried or
following batch reads no account twice."""

from __future__ import annotations

import time

from chalicelib.store import accounts as account_store

ACCOUNT_CACHE_SECONDS = 60


class AccountCache:
    """Owners and managers change rarely; a warm container remembers them for a minute, so a retried or
    following batch reads no account twice. The one thing invocations share, on purpose (like the survey
    cache): it holds what the accounts table said, never a batch's state."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, object]] = {}

    def get(self, account_id: str):
        """(True, account or None) when remembered and fresh, else (False, None)."""
        hit = self._entries.get(account_id)
        return (True, hit[1]) if hit and hit[0] > time.monotonic() else (False, None)

    def remember(self, found: dict, wanted) -> None:
        expires = time.monotonic() + ACCOUNT_CACHE_SECONDS
        for account_id in wanted:
            self._entries[account_id] = (expires, found.get(account_id))

    def clear(self) -> None:
        self._entries.clear()


ACCOUNTS = AccountCache()


def forget_cached_accounts() -> None:
    ACCOUNTS.clear()


def account_of(account_id: str | None):
    """The account, from the cache, else read (and remembered); None without an id or when there is none."""
    if not account_id:
        return None
    known, account = ACCOUNTS.get(account_id)
    if not known:
        ACCOUNTS.remember(account_store.batch_get([account_id]), [account_id])
        account = ACCOUNTS.get(account_id)[1]
    return account
