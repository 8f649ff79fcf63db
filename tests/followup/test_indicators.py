"""Indicator maths with hand-checked numbers: share, n without “Vet ej”,
Wilson's 95 % interval, the under-5 rule and the overlap test."""

import pytest

from followup.indicators import Series, breakdown, series_for, wilson
from followup.models import Indicator
from surveys.results import share_per_survey
from tests.followup.factories import home_indicator, home_survey


def test_wilson_matches_the_hand_computed_interval():
    # k = 81, n = 100, z = 1.96: centre (0.81 + 0.019207) / 1.038415 = 0.798532,
    # half 1.96 × sqrt(0.001539 + 0.000096) / 1.038415 = 0.076322.
    low, high = wilson(81, 100)
    assert low == pytest.approx(0.72221, abs=1e-5)
    assert high == pytest.approx(0.87485, abs=1e-5)


def test_wilson_at_the_edges():
    # 0 of 10: upper bound z² / (n + z²) = 3.8415 / 13.8415.
    assert wilson(0, 10) == (0.0, pytest.approx(0.27753, abs=1e-5))
    # 5 of 5: lower bound n / (n + z²) = 5 / 8.8415.
    assert wilson(5, 5) == (pytest.approx(0.56552, abs=1e-5), 1.0)
    with pytest.raises(ValueError):
        wilson(0, 0)


@pytest.fixture
def surveys(osthammar):
    # 2020: 40 + 20 favourable of 100 (+ 7 "Vet ej" left out) = 60 %.
    s2020 = home_survey(
        osthammar,
        2020,
        {
            "mycket_trygg": 40,
            "ganska_trygg": 20,
            "ganska_otrygg": 30,
            "mycket_otrygg": 10,
            "vet_ej": 7,
        },
    )
    # 2021: 81 of 100 = 81 % (+ 5 "Vet ej": 1–4 would be revealed by n).
    s2021 = home_survey(
        osthammar, 2021, {"mycket_trygg": 50, "ganska_trygg": 31, "ganska_otrygg": 19, "vet_ej": 5}
    )
    return s2020, s2021


def test_share_per_survey_counts_every_survey_in_one_query(surveys, django_assert_num_queries):
    s2020, s2021 = surveys
    with django_assert_num_queries(1):
        values = share_per_survey(
            surveys, "trygghet_hemmet", ["mycket_trygg", "ganska_trygg"], exclude_keys=["vet_ej"]
        )
    assert values == {s2020.pk: (60, 100), s2021.pk: (81, 100)}
    # With "Vet ej" in the base, n grows and the share falls.
    with_dont_know = share_per_survey([s2020], "trygghet_hemmet", ["mycket_trygg", "ganska_trygg"])
    assert with_dont_know == {s2020.pk: (60, 107)}


def test_the_series_has_value_interval_and_a_change_beyond_the_uncertainty(
    published, surveys, django_assert_num_queries
):
    s2020, s2021 = surveys
    indicator = home_indicator(published, s2020, target=80)
    # the surveys, one for all their values, two for the question's public
    # rows (choice counts, respondents) that the small-cell rule reads
    with django_assert_num_queries(4):
        (series,) = series_for([indicator], municipality_id=published.municipality_id)
    assert [(p.survey, p.k, p.n) for p in series.points] == [(s2020, 60, 100), (s2021, 81, 100)]
    baseline, latest = series.points
    assert baseline.is_baseline and not latest.is_baseline
    assert baseline.percent == 60.0
    assert (baseline.low_percent, baseline.high_percent) == (50.2, 69.1)
    assert (latest.low_percent, latest.high_percent) == (72.2, 87.5)
    assert series.change == 21.0
    # 72.2 > 69.1: the intervals do not overlap.
    assert series.significant
    assert series.verdict == "improved"
    assert series.target_reached is True


def test_direction_down_turns_an_increase_into_a_worsening(published, surveys):
    s2020, _ = surveys
    indicator = home_indicator(published, s2020, direction=Indicator.Direction.DOWN, target=50)
    (series,) = series_for([indicator], municipality_id=published.municipality_id)
    assert series.verdict == "worsened"
    assert series.target_reached is False


def test_overlapping_intervals_are_within_the_uncertainty(published, osthammar):
    # 60/100 [50.2, 69.1] against 75/100 [65.7, 82.5]: they overlap, so the
    # change is not called larger than the uncertainty (a z-test would say
    # z = 2.26; the overlap rule is the stricter one, as documented).
    s2020 = home_survey(osthammar, 2020, {"mycket_trygg": 60, "mycket_otrygg": 40})
    home_survey(osthammar, 2021, {"mycket_trygg": 75, "mycket_otrygg": 25})
    indicator = home_indicator(published, s2020)
    (series,) = series_for([indicator], municipality_id=published.municipality_id)
    assert series.change == 15.0
    assert not series.significant
    assert series.verdict == "uncertain"


def test_fewer_than_five_answers_are_not_shown(published, osthammar):
    s2020 = home_survey(osthammar, 2020, {"mycket_trygg": 3, "ganska_otrygg": 1, "vet_ej": 6})
    home_survey(osthammar, 2021, {"mycket_trygg": 4, "ganska_otrygg": 1})
    home_survey(osthammar, 2022, {"mycket_trygg": 5, "ganska_otrygg": 5})
    indicator = home_indicator(published, s2020)
    (series,) = series_for([indicator], municipality_id=published.municipality_id)
    first, second, third = series.points
    # n = 4 (the six "Vet ej" are not in n): hidden.
    assert (first.n, first.suppressed, first.percent, first.interval) == (4, True, None, None)
    # 4 of 5: one person is not favourable (n − k = 1): hidden too.
    assert (second.n, second.suppressed, second.percent) == (5, True, None)
    assert (third.n, third.suppressed, third.percent) == (10, False, 50.0)
    assert series.verdict == "unknown" and series.change is None


def test_unpublished_and_open_surveys_do_not_count(published, osthammar):
    s2020 = home_survey(osthammar, 2020, {"mycket_trygg": 10})
    home_survey(osthammar, 2021, {"mycket_trygg": 10}, published=False)
    indicator = home_indicator(published, s2020)
    (series,) = series_for([indicator], municipality_id=published.municipality_id)
    assert [p.survey for p in series.points] == [s2020]
    assert series.verdict == "unknown"


def test_an_empty_series_has_no_verdict(published):
    series = Series(indicator=Indicator(pledge=published, name="x"))
    assert series.verdict == "unknown" and series.target_reached is None


def test_indicator_validation_names_unknown_keys_in_swedish(published, osthammar, tierp):
    from django.core.exceptions import ValidationError

    s2020 = home_survey(osthammar, 2020, {"mycket_trygg": 10})
    bad = Indicator(
        pledge=published,
        name="x",
        question_key="trygghet_hemmet",
        favourable_choices=["mycket_trygg", "jatte_trygg"],
        excluded_choices=["vet_ej"],
        baseline_survey=s2020,
    )
    with pytest.raises(ValidationError) as exc:
        bad.full_clean()
    assert "jatte_trygg" in str(exc.value.message_dict["favourable_choices"])
    bad.favourable_choices = ["mycket_trygg"]
    bad.question_key = "finns_inte"
    with pytest.raises(ValidationError) as exc:
        bad.full_clean()
    assert "finns_inte" in str(exc.value.message_dict["question_key"])
    other = home_survey(tierp, 2019, {"mycket_trygg": 10})
    bad.question_key = "trygghet_hemmet"
    bad.baseline_survey = other
    with pytest.raises(ValidationError) as exc:
        bad.full_clean()
    assert "baseline_survey" in exc.value.message_dict


def _gender_series(published, osthammar, genders):
    counts = {}
    for (choice, _), n in genders.items():
        counts[choice] = counts.get(choice, 0) + n
    s2020 = home_survey(osthammar, 2020, counts, genders=genders)
    (series,) = series_for([home_indicator(published, s2020)], municipality_id=osthammar.pk)
    return breakdown(series)


def test_the_breakdown_by_gender_shows_groups_of_five_or_more(published, osthammar):
    survey, rows = _gender_series(
        published,
        osthammar,
        {
            ("mycket_trygg", "kvinna"): 30,
            ("mycket_otrygg", "kvinna"): 10,
            ("ganska_trygg", "man"): 20,
            ("ganska_otrygg", "man"): 20,
        },
    )
    assert survey.slug == "hosten-2020"
    assert [(r.label, r.percent, r.n) for r in rows] == [("Kvinna", 75.0, 40), ("Man", 50.0, 40)]


def test_the_breakdown_hides_small_groups_and_what_would_reveal_them(published, osthammar):
    # "Annat" has 3 answers: hidden. Its favourable cell (2) could then be
    # recovered from the column (52 favourable in all), so the smallest other
    # favourable cell (man, 20) is hidden, which in turn hides man's other
    # cell; in the totals column (40, 40, hidden 3) kvinna's 40 is hidden,
    # which hides kvinna's smallest cell (10). Left visible: man's n.
    survey, rows = _gender_series(
        published,
        osthammar,
        {
            ("mycket_trygg", "kvinna"): 30,
            ("mycket_otrygg", "kvinna"): 10,
            ("ganska_trygg", "man"): 20,
            ("ganska_otrygg", "man"): 20,
            ("mycket_trygg", "annat"): 2,
            ("mycket_otrygg", "annat"): 1,
        },
    )
    assert survey.slug == "hosten-2020"
    assert [(r.label, r.percent, r.n) for r in rows] == [
        ("Kvinna", None, None),
        ("Man", None, 40),
        ("Annat", None, None),
    ]


def test_there_is_no_breakdown_without_the_background_question(published, surveys):
    s2020, _ = surveys
    (series,) = series_for(
        [home_indicator(published, s2020)], municipality_id=published.municipality_id
    )
    assert breakdown(series) is None
