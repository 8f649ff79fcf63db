"""Fixtures for the follow-up tests. The pledge fixtures come from the
pledges tests (a published 2021 pledge of Östhammar with content)."""

from tests.pledges.conftest import (  # noqa: F401 - fixtures
    adopt_both,
    adopted,
    current,
    draft,
    make_pledge,
    publish,
    published,
    scheduled,
)
