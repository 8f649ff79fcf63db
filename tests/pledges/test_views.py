from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pledges import services
from pledges.models import Commitment, Pledge
from portal import content_version
from tests.pledges.conftest import refresh


def _html(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status
    return response.content.decode()


def test_the_municipality_page_shows_the_current_pledge(client, current):
    html = _html(client, "/osthammar/")
    assert f"Medborgarlöfte {current.period} – Östhammars kommun" in html
    assert "Detta genom att:" in html
    assert "Syftet är att stärka den upplevda tryggheten i hemmet." in html
    assert "Ansvariga" in html and "Samarbetspartner" in html and "Östhammarshem" in html
    assert "Fler anmälningar kan vara ett positivt utfall." in html
    assert "Fastställt av kommunstyrelsens ordförande (Östhammars kommun) den" in html
    assert " och lokalpolisområdeschef (Lokalpolisområde Norduppland) den " in html
    assert "Uppföljning" in html and "Kontakt 0" in html
    assert f'href="/osthammar/medborgarlofte/{current.period}/"' in html


def test_without_a_current_pledge_it_says_so_and_links_the_latest(client, published):
    html = _html(client, "/osthammar/")
    assert "Det finns inget gällande medborgarlöfte" in html
    assert 'href="/osthammar/medborgarlofte/2021/"' in html
    assert "Läs det senaste medborgarlöftet (2021)" in html


def test_a_municipality_without_pledges_says_so(client, tierp):
    html = _html(client, "/tierp/")
    assert "Det finns inget gällande medborgarlöfte" in html
    assert "Läs det senaste" not in html


def test_an_unknown_municipality_is_a_404(client, db):
    _html(client, "/finns-inte/", 404)
    _html(client, "/finns-inte/medborgarlofte/", 404)
    _html(client, "/finns-inte/flode.atom", 404)


def test_the_pledge_has_a_stable_readable_address(client, published):
    html = _html(client, "/osthammar/medborgarlofte/2021/")
    assert "<h1>Medborgarlöfte 2021 – Östhammars kommun</h1>" in html
    assert (
        reverse("pledges:detail", args=["osthammar", "2021"]) == "/osthammar/medborgarlofte/2021/"
    )


def test_a_pledge_is_not_found_under_another_municipality(client, published, tierp):
    _html(client, "/tierp/medborgarlofte/2021/", 404)


@pytest.mark.parametrize("state", ["draft", "adopted", "scheduled"])
def test_unpublished_pledges_are_a_404_to_the_public(request, db, client, state):
    pledge = request.getfixturevalue(state)
    _html(client, f"/osthammar/medborgarlofte/{pledge.period}/", 404)
    assert pledge.period not in _html(client, "/osthammar/medborgarlofte/")
    assert "Det finns inget gällande" in _html(client, "/osthammar/")


def test_a_scheduled_pledge_becomes_public_when_its_time_has_come(client, scheduled):
    Pledge.objects.filter(pk=scheduled.pk).update(
        published_at=timezone.now() - timedelta(seconds=1)
    )
    _html(client, "/osthammar/medborgarlofte/2021/")


def test_the_archive_lists_every_published_pledge_newest_first(
    client, make_pledge, publish, kommun_editor
):
    old = publish(make_pledge(year=2019))
    newer = publish(make_pledge(year=2021))
    make_pledge(year=2022)  # a draft: not listed
    services.pledge_withdraw(pledge=old, user=kommun_editor, reason="Ersatt.")
    html = _html(client, "/osthammar/medborgarlofte/")
    assert html.index("/osthammar/medborgarlofte/2021/") < html.index(
        "/osthammar/medborgarlofte/2019/"
    )
    assert "/osthammar/medborgarlofte/2022/" not in html
    assert "återkallat" in html
    assert newer.is_public()


def test_a_withdrawn_pledge_shows_the_reason(client, published, kommun_editor):
    services.pledge_withdraw(
        pledge=published, user=kommun_editor, reason="Löftet ersätts av ett nytt."
    )
    html = _html(client, "/osthammar/medborgarlofte/2021/")
    assert "Det här löftet återkallades den" in html
    assert "Löftet ersätts av ett nytt." in html


def test_example_texts_are_marked(client, published):
    Pledge.objects.filter(pk=published.pk).update(is_example=True)
    assert "Exempel: texterna i det här löftet är exempeltexter" in _html(
        client, "/osthammar/medborgarlofte/2021/"
    )


def test_the_page_leaves_a_place_for_the_survey_banner(client, current):
    from django.template.loader import get_template

    source = get_template("pledges/municipality.html").template.source
    assert "{% block survey_banner %}" in source


def test_the_atom_feed_announces_published_pledges(client, published, make_pledge, kommun_editor):
    make_pledge(year=2022)
    response = client.get("/osthammar/flode.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    body = response.content.decode()
    assert "<title>Medborgarlöfte 2021 publicerat</title>" in body
    assert "/osthammar/medborgarlofte/2021/" in body
    assert "2022" not in body.split("<entry>", 1)[1]
    services.pledge_withdraw(
        pledge=published, user=kommun_editor, reason="Ersatt av ett nytt löfte."
    )
    body = client.get("/osthammar/flode.atom").content.decode()
    assert "Medborgarlöfte 2021 återkallat" in body and "Ersatt av ett nytt löfte." in body


def test_other_apps_can_add_entries_to_the_feed(client, published):
    from pledges import feeds

    def reports(municipality):
        return [
            feeds.FeedEntry(
                date=timezone.now(),
                title="Lägesrapport: Våga värna",
                link="/osthammar/uppfoljning/1/",
                description="Pågår.",
            )
        ]

    feeds.register_entry_source(reports)
    try:
        body = client.get("/osthammar/flode.atom").content.decode()
    finally:
        feeds.ENTRY_SOURCES.remove(reports)
    assert body.index("Lägesrapport: Våga värna") < body.index("Medborgarlöfte 2021 publicerat")


def test_pages_link_the_feed_in_the_head(client, current):
    html = _html(client, "/osthammar/")
    assert 'type="application/atom+xml" href="/osthammar/flode.atom"' in html
    assert 'href="/static/css/pledges-print.css" media="print"' in html


# --- query counts and the cache ----------------------------------------------


def grow(pledge, size, partner):
    """Give a published pledge `size` commitments of `size` actions each.
    (The adoption rules allow three commitments; the page must not care.)"""
    from tests.pledges.factories import ActionFactory, CommitmentFactory, ContactFactory

    for c in range(size - 1):
        commitment = CommitmentFactory(pledge=pledge, position=10 + c)
        for a in range(size):
            ActionFactory(
                commitment=commitment,
                position=a,
                responsible=[pledge.kommun, pledge.police],
                partners=[partner],
            )
    for n in range(size - 1):
        ContactFactory(pledge=pledge, position=10 + n)
    return refresh(pledge)


@pytest.mark.parametrize("size", [1, 20])
def test_the_pledge_page_runs_a_fixed_number_of_queries(
    client, make_pledge, publish, partner, django_assert_num_queries, size
):
    pledge = grow(publish(make_pledge(actions=size)), size, partner)
    assert pledge.commitments.count() == size
    url = pledge.get_absolute_url()
    # pledge; commitments, actions, responsible, partners, contacts, adoptions;
    # the follow-up summary (pledges.extensions)
    with django_assert_num_queries(9):
        client.get(url)
    with django_assert_num_queries(0):  # the whole page is cached
        client.get(url)
    content_version.changed(pledge.municipality)
    with django_assert_num_queries(9):  # rendered again, nothing kept inside the page
        client.get(url)


@pytest.mark.parametrize("size", [1, 20])
def test_the_municipality_page_runs_a_fixed_number_of_queries(
    client, make_pledge, publish, partner, django_assert_num_queries, size
):
    year = timezone.localdate().year
    grow(publish(make_pledge(actions=size, year=year)), size, partner)
    # municipality, current pledge, open surveys, then the pledge body (7 queries) once
    with django_assert_num_queries(10):
        client.get("/osthammar/")
    with django_assert_num_queries(0):
        client.get("/osthammar/")


@pytest.mark.parametrize("size", [1, 20])
def test_the_archive_runs_a_fixed_number_of_queries(
    client, make_pledge, publish, django_assert_num_queries, size
):
    for n in range(size):
        publish(make_pledge(year=2000 + n, commitments=2))
    # municipality, pledges, commitments, follow-up outcomes (pledges.extensions)
    with django_assert_num_queries(4):
        html = client.get("/osthammar/medborgarlofte/").content.decode()
    followup_links = html.count('/uppfoljning/"')
    assert html.count('href="/osthammar/medborgarlofte/2') - followup_links == size


def test_the_cached_page_changes_when_the_pledge_changes(client, published, kommun_editor):
    url = published.get_absolute_url()
    assert "Ansvariga" in client.get(url).content.decode()
    Commitment.objects.filter(pledge=published).update(title="Helt ny rubrik på löftet")
    # Changed without the admin or a service: the cache still serves the old page.
    assert "Helt ny rubrik på löftet" not in client.get(url).content.decode()
    content_version.changed(published.municipality)
    assert "Helt ny rubrik på löftet" in client.get(url).content.decode()


def test_the_cache_is_per_language(client, published):
    url = published.get_absolute_url()
    assert "Detta genom att:" in client.get(url).content.decode()
    client.get("/sprak/en/?next=/")
    assert "This by:" in client.get(url).content.decode()


def test_withdrawing_invalidates_the_cached_page(client, published, kommun_editor):
    url = published.get_absolute_url()
    client.get(url)
    services.pledge_withdraw(pledge=published, user=kommun_editor, reason="Skälet syns.")
    assert "Skälet syns." in client.get(url).content.decode()
    assert refresh(published).is_withdrawn


def test_publishing_shows_on_the_cached_municipality_page_at_once(
    client, make_pledge, publish, django_assert_num_queries
):
    client.get("/osthammar/")
    with django_assert_num_queries(0):
        stale = client.get("/osthammar/")
    assert stale["X-Page-Cache"] == "hit"
    pledge = publish(make_pledge(year=timezone.localdate().year))
    fresh = client.get("/osthammar/")
    assert "X-Page-Cache" not in fresh
    assert pledge.get_absolute_url() in fresh.content.decode()
    assert client.get("/osthammar/")["X-Page-Cache"] == "hit"
