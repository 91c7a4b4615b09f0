"""Assignment B's findings: every branch of every verdict, on constructed numbers (no training)."""
import numpy as np
import pytest

from hwkit import findings as F
from hwkit.assignments import b_functions as bf
from hwkit.assignments import b_reduction as br
from hwkit.assignments import b_wgan as bw
from hwkit.assignments import b_wgan_cost as bc

# ----------------------------------------------------------------------------- B5


def test_per_image_errors_sums_squares_per_row():
    x = np.zeros((2, 4))
    assert br.per_image_errors(x, np.ones((2, 4))).tolist() == [4.0, 4.0]


@pytest.mark.parametrize("train, verdict", [(40.0, F.FITS), (46.0, F.FAILED), (float("nan"), F.FAILED)])
def test_autoencoder_fit_is_out_of_the_mean_image_plateau(train, verdict):
    f = br.autoencoder_fit(train, 50.0)   # threshold 45
    assert f.verdict == verdict and f.numbers["threshold"] == pytest.approx(45.0)


def _pair(shift, n=400, seed=0):
    base = np.random.default_rng(seed).random(n) * 10
    return base + shift, base


@pytest.mark.parametrize("shift, verdict", [(-1.0, F.BETTER), (1.0, F.WORSE), (0.0, F.SAME)])
def test_autoencoder_vs_pca_lower_error_is_better(shift, verdict):
    ae, pca_ = _pair(shift)
    if shift == 0.0:
        ae = ae + np.tile([0.5, -0.5], ae.size // 2)   # mean difference exactly 0
    assert br.autoencoder_vs_pca(ae, pca_, br.autoencoder_fit(1.0, 50.0)).verdict == verdict


def test_autoencoder_vs_pca_refuses_a_failed_fit():
    ae, pca_ = _pair(-1.0)
    assert br.autoencoder_vs_pca(ae, pca_, br.autoencoder_fit(99.0, 50.0)).verdict == F.NOT_COMPARABLE


def _cmp(verdict, a, b):
    return F.Finding(verdict, {"a": a, "b": b}).as_dict()


def test_largest_gain_only_where_the_autoencoder_is_better():
    # l_d 2 has the lowest ratio a/b of all, but PCA is better there: it must not be picked.
    got = br.largest_gain({2: _cmp(F.WORSE, 10.0, 100.0), 8: _cmp(F.BETTER, 8.0, 10.0), 16: _cmp(F.BETTER, 6.0, 10.0)})
    assert got.verdict == F.BETTER and got.numbers == {"latent_dim": 16, "autoencoder_over_pca": 0.6}
    none = br.largest_gain({2: _cmp(F.WORSE, 20.0, 10.0), 16: _cmp(F.SAME, 10.0, 10.0)})
    assert none.verdict == F.NOT_COMPARABLE and none.numbers["latent_dim"] is None


def test_errors_fall_every_branch():
    base = np.random.default_rng(0).random(300)
    falling = {2: base + 3, 4: base + 2, 8: base + 1}
    assert br.errors_fall(falling).verdict == br.FALLS
    flat = {2: base + 3, 4: base + 3, 8: base + 1}
    got = br.errors_fall(flat)
    assert got.verdict == br.NOT_MONOTONE and got.numbers["dims_not_falling"] == [4]
    assert br.errors_fall(falling, [br.autoencoder_fit(99.0, 50.0)]).verdict == F.NOT_COMPARABLE


@pytest.mark.parametrize("train, verdict", [(5.0, F.SAME), (4.0, F.WORSE), (6.0, F.BETTER)])
def test_train_test_gap(train, verdict):
    test = 5.0 + np.random.default_rng(0).normal(0, 1.0, 2000)   # bootstrap interval ≈ 5 ± 0.05
    assert br.train_test_gap(train, test).verdict == verdict


def _gap(verdict, rel=0.1):
    return F.Finding(verdict, {"relative_gap": rel}).as_dict()


def test_summarise_gaps_every_branch():
    assert br.summarise_gaps({2: _gap(F.SAME), 4: _gap(F.SAME, -0.2)}).numbers["largest_relative_gap"] == 0.2
    assert br.summarise_gaps({2: _gap(F.SAME), 4: _gap(F.SAME)}).verdict == F.SAME
    worse = br.summarise_gaps({2: _gap(F.WORSE), 4: _gap(F.BETTER)})
    assert worse.verdict == F.WORSE and worse.numbers["test_higher_at"] == [2]
    assert br.summarise_gaps({2: _gap(F.BETTER)}).verdict == F.BETTER
    assert br.summarise_gaps({2: _gap(F.SAME)}, [br.autoencoder_fit(99.0, 50.0)]).verdict == F.NOT_COMPARABLE


def test_budget_test_dim_is_chosen_on_training_errors():
    train = {"PCA": {2: 40.0, 16: 20.0}, "autoencoder": {2: 35.0, 16: 30.0}}
    assert br.budget_test_dim(train) == 16


@pytest.mark.parametrize("longer, vs_pca, before, verdict", [
    (F.BETTER, F.SAME, F.WORSE, br.CLOSED),
    (F.BETTER, F.BETTER, F.WORSE, br.CLOSED),
    (F.BETTER, F.WORSE, F.WORSE, br.NARROWED),
    (F.SAME, F.WORSE, F.WORSE, br.UNCHANGED),
    (F.WORSE, F.WORSE, F.WORSE, br.UNCHANGED),
    (F.BETTER, F.SAME, F.SAME, F.NOT_COMPARABLE),        # PCA was not better to begin with
    (F.BETTER, F.NOT_COMPARABLE, F.WORSE, F.NOT_COMPARABLE),  # the longer one failed to fit
])
def test_budget_effect_every_branch(longer, vs_pca, before, verdict):
    assert br.budget_effect(F.Finding(longer), F.Finding(vs_pca), F.Finding(before).as_dict()).verdict == verdict


def test_budget_effect_when_the_short_training_failed_to_fit():
    nc, fits, failed = F.Finding(F.NOT_COMPARABLE), br.autoencoder_fit(1.0, 50.0), br.autoencoder_fit(99.0, 50.0)
    assert br.budget_effect(nc, nc, nc, failed, fits).verdict == br.FIXED
    assert br.budget_effect(nc, nc, nc, failed, failed).verdict == br.STILL_FAILED
    assert br.budget_effect(F.Finding(F.BETTER), F.Finding(F.SAME), F.Finding(F.WORSE), fits, fits).verdict == br.CLOSED


def test_longer_vs_shorter_never_compares_a_failed_fit():
    short, long_ = _pair(1.0)   # the longer one (second argument first) has lower error
    fits, failed = br.autoencoder_fit(1.0, 50.0), br.autoencoder_fit(99.0, 50.0)
    assert br.longer_vs_shorter(long_, short, fits, fits).verdict == F.BETTER
    assert br.longer_vs_shorter(long_, short, fits, failed).verdict == F.NOT_COMPARABLE


# ----------------------------------------------------------------------------- B3


@pytest.mark.parametrize("scores, verdict", [([3, 1, 2], bf.INSIDE), ([1, 2, 3], bf.WEAK_EDGE),
                                             ([3, 2, 1], bf.STRONG_EDGE)])
def test_grid_optimum(scores, verdict):
    assert bf.grid_optimum([1e-5, 1e-4, 1e-3], scores).verdict == verdict


def test_grid_optimum_of_two_candidates_is_at_an_edge():
    assert bf.grid_optimum([1e-5, 1e-4], [2, 1]).verdict == bf.STRONG_EDGE


def test_next_strength_extends_beyond_an_edge_and_stops_inside_or_at_the_cap():
    assert bf.next_strength([1e-5, 1e-4, 1e-3], [1, 2, 3], 10) == pytest.approx(1e-6)
    assert bf.next_strength([1e-5, 1e-4, 1e-3], [3, 2, 1], 10) == pytest.approx(1e-2)
    assert bf.next_strength([1e-5, 1e-4, 1e-3], [3, 1, 2], 10) is None
    assert bf.next_strength([0.1, 0.3], [2, 1], 3, strongest=0.5) is None


def test_function_fit_threshold():
    assert bf.function_fit(0.01).verdict == F.FITS
    assert bf.function_fit(0.5).verdict == F.FAILED


def test_compare_errors_every_branch():
    fit, failed = bf.function_fit(0.01), bf.function_fit(1.0)
    assert bf.compare_errors([0.01, 0.02, 0.03], [0.05, 0.06, 0.07], [fit]).verdict == F.BETTER
    assert bf.compare_errors([0.05, 0.06, 0.07], [0.01, 0.02, 0.03], [fit]).verdict == F.WORSE
    assert bf.compare_errors([0.01, 0.06, 0.03], [0.05, 0.02, 0.07], [fit]).verdict == F.SAME
    assert bf.compare_errors([0.01, 0.02], [0.05, 0.06], [fit]).verdict == F.NOT_COMPARABLE   # 2 seeds
    assert bf.compare_errors([0.01, 0.02, 0.03], [0.05, 0.06, 0.07], [fit, failed]).verdict == F.NOT_COMPARABLE


def test_target_reached_every_branch():
    fit, failed = bf.function_fit(0.01), bf.function_fit(1.0)
    assert bf.target_reached([0.01, 0.02, 0.03], 0.05).verdict == bf.REACHED
    assert bf.target_reached([0.11, 0.12, 0.13], 0.05).verdict == bf.MISSED
    mixed = bf.target_reached([0.01, 0.12, 0.03], 0.05)
    assert mixed.verdict == bf.MIXED and mixed.numbers["seeds_below"] == 2
    assert bf.target_reached([0.01, 0.02, 0.03], 0.05, [fit, failed, fit]).numbers["seeds_below"] == 2


# ----------------------------------------------------------------------------- B2


def test_compare_widths():
    assert bf.compare_widths([0.5, 0.6, 0.9], [0.01, 0.02, 0.03]).verdict == F.WORSE
    assert bf.compare_widths([0.5, 0.6, 0.9], [0.01, 0.02, 0.03]).numbers["narrow_over_wide"] == pytest.approx(30)
    assert bf.compare_widths([0.01, 0.02, 0.03], [0.5, 0.6, 0.9]).verdict == F.BETTER
    assert bf.compare_widths([0.01, 0.5, 0.03], [0.02, 0.6, 0.9]).verdict == F.SAME
    assert bf.compare_widths([0.5, 0.6], [0.01, 0.02]).verdict == F.NOT_COMPARABLE


def _seed(dead=0, collapsed=False, all_dead=0):
    return {"dead_units": dead, "collapsed": collapsed, "all_dead_layers": all_dead}


def _b4_rows(he, xavier, depth=8, train_mse=0.01):
    return ([{"initializer": f"He {v}", "depth": depth, "test_rel_l2_error": e, "train_mse": train_mse,
              "output_std_at_init": 1.0} for v, errs in (("normal", he), ("uniform", he)) for e in errs]
            + [{"initializer": f"Xavier {v}", "depth": depth, "test_rel_l2_error": e, "train_mse": train_mse,
                "output_std_at_init": 0.1} for v, errs in (("normal", xavier), ("uniform", xavier)) for e in errs])


@pytest.mark.parametrize("he, xavier, verdict", [
    ([0.1, 0.11, 0.12], [0.2, 0.21, 0.22], F.BETTER), ([0.3, 0.31, 0.32], [0.2, 0.21, 0.22], F.WORSE),
    ([0.1, 0.2, 0.3], [0.15, 0.25, 0.35], F.SAME), ([0.1], [0.2], F.NOT_COMPARABLE)])
def test_compare_families_every_branch(he, xavier, verdict):
    rows = _b4_rows(he, xavier) + _b4_rows([9.0] * 3, [0.0] * 3, depth=16)   # another depth is not mixed in
    f = bf.compare_families(rows, 8)
    assert f.verdict == verdict and f.numbers["depth"] == 8 and f.numbers["seeds_a"] == 2 * len(he)
    if verdict != F.NOT_COMPARABLE:
        assert f.numbers["a"] == pytest.approx(float(np.median(he)))


def test_compare_families_leaves_out_runs_that_failed_the_fit_check():
    fits = _b4_rows([0.1, 0.11, 0.12], [0.2, 0.21, 0.22])
    failed = _b4_rows([0.9, 0.9, 0.9], [0.01, 0.01, 0.01], train_mse=bf.FIT_MSE * 2)   # would flip the verdict
    f = bf.compare_families(fits + failed, 8)
    assert f.verdict == F.BETTER and (f.numbers["failed_a"], f.numbers["failed_b"], f.numbers["seeds_a"]) == (6, 6, 6)
    only_failed = bf.compare_families(_b4_rows([0.1] * 3, [0.2] * 3, train_mse=bf.FIT_MSE * 2), 8)
    assert only_failed.verdict == F.NOT_COMPARABLE and only_failed.numbers["seeds_a"] == 0


@pytest.mark.parametrize("shallow, deep, verdict", [
    ([0.1] * 3, [0.2] * 3, F.BETTER), ([0.3] * 3, [0.2] * 3, F.WORSE), ([0.1, 0.3, 0.2], [0.2, 0.25, 0.15], F.SAME)])
def test_compare_depths_every_branch(shallow, deep, verdict):
    rows = _b4_rows(shallow, shallow, depth=8) + _b4_rows(deep, deep, depth=16)
    f = bf.compare_depths(rows, 8, 16)
    assert f.verdict == verdict and (f.numbers["shallow"], f.numbers["deep"]) == (8, 16)


def test_summarise_settings_counts_fits_and_takes_medians_over_seeds():
    rows = [{"initializer": "He normal", "depth": 8, "test_rel_l2_error": e, "train_mse": m, "output_std_at_init": 1.0}
            for e, m in ((0.1, 0.01), (0.3, 0.01), (0.2, bf.FIT_MSE * 2))]
    (s,) = bf.summarise_settings(rows)
    assert (s["seeds"], s["fits"], s["median_error"], s["min_error"], s["max_error"]) == (3, 2, 0.2, 0.1, 0.3)


def test_rank_initializers_orders_medians_and_names_the_leading_family():
    r = bf.rank_initializers({"Xavier normal": 0.3, "Xavier uniform": 0.4, "He normal": 0.1, "He uniform": 0.2})
    assert r["ranking"][0] == "He normal" and r["leader"] == "He" and r["spread"] == pytest.approx(0.3)
    assert bf.rank_initializers({"Xavier normal": 0.1, "He uniform": 0.2, "He normal": 0.3})["leader"] == "mixed"


def test_dying_relu_cause_every_branch():
    assert bf.dying_relu_cause([_seed(5, True, 1), _seed(2)]).verdict == bf.DEAD_LAYER
    assert bf.dying_relu_cause([_seed(5, True, 1), _seed(2, True, 0)]).verdict == bf.COLLAPSE_UNEXPLAINED
    only = bf.dying_relu_cause([_seed(3), _seed(0)])
    assert only.verdict == bf.DEAD_UNITS_ONLY and only.hypothesis
    assert bf.dying_relu_cause([_seed(), _seed()]).verdict == bf.NO_DEAD_UNITS


# ----------------------------------------------------------------------------- B8


def test_rate_fraction_follows_the_cosine_schedule():
    assert bc.rate_fraction(0, 6000, 0.01) == pytest.approx(1.0)
    assert bc.rate_fraction(3000, 6000, 0.01) == pytest.approx(0.505)
    assert bc.rate_fraction(6000, 6000, 0.01) == pytest.approx(0.01)
    assert bc.rate_fraction(5000, 6000, 1.0) == 1.0


def test_schedule_check_every_branch():
    late = bc.schedule_check([5600, 5700, 5400], 6000, 0.01)     # B6's crossings: the annealing's end
    assert late.verdict == bc.SCHEDULE_BOUND and late.numbers["rate_fraction"] < bc.ANNEAL_FRACTION
    early = bc.schedule_check([3900, 3600, 3000], 6000, 0.01)
    assert early.verdict == bc.BEFORE_ANNEALING
    assert bc.schedule_check([5600, 5700, 5400], 6000, 1.0).verdict == bc.BEFORE_ANNEALING   # constant rate
    assert bc.schedule_check([None, None, 3000], 6000, 0.01).verdict == F.NOT_COMPARABLE


@pytest.mark.parametrize("long, short, verdict", [
    ([5600, 5700, 5400], [2200, 2500, 2800], bc.MOVES),          # halved with the budget
    ([3900, 3600, 3000], [2900, 3100, 2800], bc.STAYS),          # overlapping ranges
    ([5600, 5700, 5400], [None, None, 2800], bc.SHORT_MISSED),
    ([3900, 3600, 3000], [None, 2400, 2900], bc.SHORT_MISSED),   # B7's full run: one seed misses, the median not
    ([None, 5700, 5400], [2200, 2500, 2800], F.NOT_COMPARABLE),
    ([5600, 5700, 5400], [], F.NOT_COMPARABLE)])
def test_budget_check_every_branch(long, short, verdict):
    f = bc.budget_check(long, 6000, short, 3000)
    assert f.verdict == verdict
    assert (f.numbers["long_budget"], f.numbers["short_budget"], f.numbers["short_seeds"]) == (6000, 3000, len(short))
    if verdict == bc.MOVES:
        assert (f.numbers["short_median"], f.numbers["short_low"], f.numbers["long_low"]) == (2500, 2200, 5400)


def test_steps_comparison_every_branch():
    stays = F.Finding(bc.STAYS)
    moves = F.Finding(bc.MOVES).as_dict()
    assert bc.steps_comparison([3000, 3100, 3200], [1000, 1100, 1200], stays, stays).verdict == F.BETTER
    assert bc.steps_comparison([1000, 1100, 1200], [3000, 3100, 3200], stays, stays).verdict == F.WORSE
    assert bc.steps_comparison([1000, 3100, 1200], [3000, 1100, 3200], stays, stays).verdict == F.SAME
    assert bc.steps_comparison([5600, 5700, 5400], [3900, 3600, 3000], moves, stays).verdict == F.NOT_COMPARABLE
    untested = F.Finding(F.NOT_COMPARABLE)
    assert bc.steps_comparison([5600, 5700, 5400], [3900, 3600, 3000], stays, untested).verdict == F.NOT_COMPARABLE
    assert bc.steps_comparison([None, 5700, 5400], [3900, 3600, 3000], stays, stays).verdict == F.NOT_COMPARABLE


@pytest.mark.parametrize("low, high, verdict", [
    ([2200, 2500, 2800], [1200, 1300, 1500], F.BETTER), ([1200, 1300, 1500], [2200, 2500, 2800], F.WORSE),
    ([2200, 2500, 2800], [2100, 2600, 2900], F.SAME), ([2200, 2500, 2800], [2900, None, None], F.WORSE),
    ([2200, 2500, 2800], [None, None, None], F.WORSE), ([None, 2500, None], [None, None, 1000], F.SAME),
    ([None] * 3, [None] * 3, F.NOT_COMPARABLE), ([2200, 2500], [1200, 1300, 1500], F.NOT_COMPARABLE)])
def test_same_schedule_comparison_every_branch(low, high, verdict):
    f = bc.same_schedule_comparison(low, high, 3000)
    assert f.verdict == verdict and f.numbers["budget"] == 3000


def test_same_schedule_comparison_reports_an_unreached_side_as_not_reached():
    f = bc.same_schedule_comparison([2200, 2500, 2800], [None, 2900, None], 3000)
    assert (f.numbers["a"], f.numbers["a_low"], f.numbers["a_high"], f.numbers["reached_a"]) == (None, 2900, None, 1)
    assert (f.numbers["b"], f.numbers["b_low"], f.numbers["b_high"]) == (2500, 2200, 2800)


def test_floor_check_every_branch():
    floors = [0.015, 0.016, 0.017]
    above = bc.floor_check([0.04, 0.045, 0.05], floors)
    assert above.verdict == F.WORSE and above.numbers["over_floor"] == pytest.approx(0.045 / 0.016)
    assert bc.floor_check([0.0155, 0.016, 0.02], floors).verdict == F.SAME
    assert bc.floor_check([0.01, 0.011, 0.012], floors).verdict == F.BETTER
    assert bc.floor_check([0.04], floors).verdict == F.NOT_COMPARABLE


def test_sampling_floors_are_independent_draws_below_the_target():
    floors = bc.sampling_floors(5, draws=2)
    assert len(set(floors)) == 2 and max(floors) < bw.TARGET


def _noise_row(noise_dim, final, reached, seeds=1):
    return {"noise_dim": noise_dim, "median_final_error": final, "median_fresh_error": final, "reached_seeds": reached,
            "seeds": seeds, "median_steps_to_target": 3000 if reached else None}


def test_wgan_observations_tie_a_low_noise_dimension_to_its_error_only_when_the_matched_one_reached():
    below = bw.observations(5, [_noise_row(1, 0.04, 1), _noise_row(5, 0.04, 3, 3)], [])
    assert "cannot see every lower-dimensional set" in below[-1]
    separated = bw.observations(5, [_noise_row(1, 0.5, 0), _noise_row(5, 0.04, 3, 3)], [])
    assert "while every seed with noise dimension 5 reached it" in separated[-1]
    mixed = bw.observations(5, [_noise_row(1, 0.5, 0), _noise_row(5, 0.3, 1, 3)], [])
    assert "does not separate the two" in mixed[-1]


# ----------------------------------------------------------------------------- B1


def test_b1_target_finding_every_branch():
    from hwkit.assignments import b_mnist_cnn as mc

    def correct(rate, n=10_000):
        return (np.arange(n) < rate * n).astype(float)
    assert mc.target_finding(correct(0.995)).verdict == mc.REACHED
    assert mc.target_finding(correct(0.9815)).verdict == mc.NOT_MEASURABLY   # interval ±0.27 points straddles 98%
    assert mc.target_finding(correct(0.97)).verdict == mc.MISSED
    assert mc.target_finding(correct(0.98)).verdict == mc.MISSED             # "more than 98%": equal is a miss
