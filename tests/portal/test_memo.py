"""The bounded, time-limited per-process memory used on hot paths."""

from unittest import mock

from portal.memo import ProcessMemo


def test_the_oldest_entry_goes_first_when_full():
    memo = ProcessMemo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("a", 3)  # replacing keeps the size
    memo.put("c", 4)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (None, 2, 4)


def test_entries_expire_and_false_values_are_kept():
    memo = ProcessMemo(8, seconds=10)
    with mock.patch("portal.memo.time.monotonic", return_value=100.0):
        memo.put("page", False)
    with mock.patch("portal.memo.time.monotonic", return_value=109.0):
        assert memo.get("page", "missing") is False
    with mock.patch("portal.memo.time.monotonic", return_value=110.0):
        assert memo.get("page", "missing") == "missing"
    memo.put("x", 1)
    memo.clear()
    assert memo.get("x") is None
