"""Fixed-bucket histograms: bucketing, merging, and percentiles estimated from them."""

import pytest

from monitoring import histograms


def counts_of(*values):
    counts = histograms.empty()
    for value in values:
        counts[histograms.bucket_of(value)] += 1
    return counts


def test_a_value_on_a_bound_falls_in_that_bucket_and_larger_ones_in_inf():
    assert histograms.BUCKETS[histograms.bucket_of(1.0)] == 1
    assert histograms.bucket_of(10 ** 6) == len(histograms.BUCKETS)


def test_the_quantile_interpolates_inside_the_bucket_like_histogram_quantile():
    counts = counts_of(*[0.6] * 10)  # all in (0.5, 1]
    assert histograms.quantile(0.5, counts) == pytest.approx(0.75)
    assert histograms.quantile(0.99, counts) == pytest.approx(0.995)


def test_an_empty_histogram_has_no_quantile():
    assert histograms.quantile(0.5, histograms.empty()) is None


def test_the_inf_bucket_reports_the_largest_bound():
    assert histograms.quantile(0.5, counts_of(10 ** 6)) == histograms.BUCKETS[-1]


def test_subtracting_cumulative_histograms_gives_what_was_added_between():
    before, after = counts_of(1, 2), counts_of(1, 2, 30)
    assert histograms.subtract(after, before) == counts_of(30)


def test_another_bucket_set_is_not_mixed_in():
    assert histograms.add(counts_of(1), [1, 2]) == counts_of(1)
    assert histograms.subtract(counts_of(1), [1, 2]) == counts_of(1)


def test_exact_quantile_is_nearest_rank():
    assert histograms.exact_quantile(0.5, [1, 2, 3, 4]) == 2
    assert histograms.exact_quantile(0.99, [1, 2, 3, 4]) == 4
    assert histograms.exact_quantile(0.5, []) is None
