"""Small per-process memories for hot paths: a bounded dict whose oldest
entry goes first, each entry usable for a limited time. What is kept here
is always checked against the shared cache's version numbers by the
caller; the time limit bounds what a version cannot see."""

from __future__ import annotations

import time

_MISSING = object()


class ProcessMemo:
    def __init__(self, size: int, seconds: float | None = None):
        self.size = size
        self.seconds = seconds
        self._entries: dict = {}

    def get(self, key, default=None):
        found = self._entries.get(key, _MISSING)
        if found is _MISSING:
            return default
        expires, value = found
        if expires is not None and expires <= time.monotonic():
            del self._entries[key]
            return default
        return value

    def put(self, key, value) -> None:
        if key not in self._entries and len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))
        expires = None if self.seconds is None else time.monotonic() + self.seconds
        self._entries[key] = (expires, value)

    def clear(self) -> None:
        self._entries.clear()
