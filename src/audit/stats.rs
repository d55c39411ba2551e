//! The statistics of a fairness audit: selection rates with Wilson
//! intervals, the adverse-impact ratio with a Katz log interval,
//! demographic-parity and equal-opportunity differences, Fisher's exact test
//! and the pooled two-proportion z-test.
//!
//! Everything works on counts ([`Rate`]: `k` of `n`), never on rows, so the
//! audit keeps one pair of counters per campaign × group × stage and the
//! numbers come out the same whatever the order of the input. The values
//! agree with fairlearn (`demographic_parity_ratio`,
//! `demographic_parity_difference`, `equal_opportunity_difference`) and
//! `scipy.stats.fisher_exact` on the committed fixtures
//! (`tests/fixtures/fairness/`, checked by `tests/fairness_reference.rs`).
//!
//! Why intervals and tests at all: a ratio of two rates computed from a few
//! dozen people moves a lot by chance. 29 CFR 1607.4(D) says itself that
//! "greater differences in selection rate may not constitute adverse impact
//! where the differences are based on small numbers and are not
//! statistically significant", so the audit reports the counts, an interval
//! for each rate and for the ratio, and an exact test next to the ratio.

use statrs::function::erf::{erfc, erfc_inv};
use statrs::function::gamma::ln_gamma;

/// `k` successes out of `n` trials: people selected out of a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Rate {
    /// Selected (or converted, or unsubscribed…).
    pub k: u64,
    /// The group's size at this stage.
    pub n: u64,
}

impl Rate {
    /// `k / n`, `None` for an empty group.
    pub fn value(self) -> Option<f64> {
        (self.n > 0).then(|| self.k as f64 / self.n as f64)
    }
}

/// A two-sided confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// The standard normal quantile for a two-sided interval of `confidence`
/// (0.95 → 1.959963984540054).
pub fn z_for(confidence: f64) -> f64 {
    // Φ⁻¹(1 - α/2) = √2 · erfc⁻¹(α).
    std::f64::consts::SQRT_2 * erfc_inv(1.0 - confidence)
}

/// Wilson score interval for a proportion (Wilson 1927): unlike the normal
/// approximation it stays inside [0, 1] and behaves at 0 and n.
pub fn wilson(rate: Rate, confidence: f64) -> Option<Interval> {
    let p = rate.value()?;
    let n = rate.n as f64;
    let z = z_for(confidence);
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval {
        low: (center - half).max(0.0),
        high: (center + half).min(1.0),
    })
}

/// Demographic-parity difference: highest rate minus lowest rate
/// (fairlearn's `demographic_parity_difference`, between groups). `None`
/// with fewer than two non-empty groups.
pub fn parity_difference(rates: &[Rate]) -> Option<f64> {
    let (low, high) = extremes(rates)?;
    Some(rates[high].value()? - rates[low].value()?)
}

/// Adverse-impact ratio: lowest rate over highest rate (fairlearn's
/// `demographic_parity_ratio`; the four-fifths rule of 29 CFR 1607.4(D)
/// compares it with 0.8). `None` with fewer than two non-empty groups or
/// when no group has any selection (0/0: nobody was selected at all).
pub fn impact_ratio(rates: &[Rate]) -> Option<f64> {
    let (low, high) = extremes(rates)?;
    let (l, h) = (rates[low], rates[high]);
    // (k_l / n_l) / (k_h / n_h) as one division of exact integer products:
    // dividing two rounded rates made 76/114 against 80/96 (exactly 4/5)
    // come out below 0.8, and so flagged a ratio the four-fifths rule
    // passes.
    (h.k > 0 && l.n > 0).then(|| {
        (u128::from(l.k) * u128::from(h.n)) as f64 / (u128::from(l.n) * u128::from(h.k)) as f64
    })
}

/// Indices of the lowest-rate and highest-rate non-empty groups: on ties
/// the last lowest and the first highest, so that equal rates still compare
/// two different groups. `None` with fewer than two non-empty groups.
pub fn extremes(rates: &[Rate]) -> Option<(usize, usize)> {
    let mut low: Option<(usize, f64)> = None;
    let mut high: Option<(usize, f64)> = None;
    let mut groups = 0;
    for (i, rate) in rates.iter().enumerate() {
        let Some(v) = rate.value() else { continue };
        groups += 1;
        if low.is_none_or(|(_, l)| v <= l) {
            low = Some((i, v));
        }
        if high.is_none_or(|(_, h)| v > h) {
            high = Some((i, v));
        }
    }
    match (low, high) {
        (Some((l, _)), Some((h, _))) if groups >= 2 => Some((l, h)),
        _ => None,
    }
}

/// Katz log interval for the ratio of two independent proportions
/// `low.k/low.n ÷ high.k/high.n` (Katz et al. 1978): exp(ln RR ± z·SE) with
/// SE² = 1/k₁ − 1/n₁ + 1/k₂ − 1/n₂. A zero count has no logarithm, so then
/// 0.5 is added to both counts of both groups (the usual Haldane
/// correction), for the interval only.
pub fn ratio_interval(low: Rate, high: Rate, confidence: f64) -> Option<Interval> {
    if low.n == 0 || high.n == 0 {
        return None;
    }
    let (k1, n1, k2, n2) = if low.k == 0 || high.k == 0 {
        (
            low.k as f64 + 0.5,
            low.n as f64 + 0.5,
            high.k as f64 + 0.5,
            high.n as f64 + 0.5,
        )
    } else {
        (low.k as f64, low.n as f64, high.k as f64, high.n as f64)
    };
    let ratio = (k1 / n1) / (k2 / n2);
    let se = (1.0 / k1 - 1.0 / n1 + 1.0 / k2 - 1.0 / n2).max(0.0).sqrt();
    let z = z_for(confidence);
    Some(Interval {
        low: ratio * (-z * se).exp(),
        high: ratio * (z * se).exp(),
    })
}

/// Two-sided p-value of Fisher's exact test on the 2×2 table
/// `[[a.k, a.n − a.k], [b.k, b.n − b.k]]`, as `scipy.stats.fisher_exact`
/// (alternative `two-sided`): the sum of the probabilities of every table
/// with the same margins that is no more likely than the observed one.
///
/// The hypergeometric probabilities are walked outward from the mode by
/// their ratio recurrence, and each tail stops once what is left of it
/// cannot move the sum (the distribution is log-concave, so the tail past a
/// term with ratio r < 1 is at most term · r / (1 − r)): the cost is the
/// width of the distribution, not the size of the groups.
pub fn fisher_exact(a: Rate, b: Rate) -> Option<f64> {
    if a.n == 0 || b.n == 0 || a.k > a.n || b.k > b.n {
        return None;
    }
    // Hypergeometric: population N, K successes in it, draws n (group a).
    let big_n = a.n + b.n;
    let big_k = a.k + b.k;
    let draws = a.n;
    let lo = big_k.saturating_sub(big_n - draws);
    let hi = big_k.min(draws);
    if lo == hi {
        return Some(1.0);
    }
    let (nf, kf, df) = (big_n as f64, big_k as f64, draws as f64);
    let ln_pmf = |x: u64| -> f64 {
        let x = x as f64;
        ln_choose(kf, x) + ln_choose(nf - kf, df - x) - ln_choose(nf, df)
    };
    // Ratio pmf(x+1)/pmf(x).
    let up = |x: u64| -> f64 {
        let x = x as f64;
        ((kf - x) * (df - x)) / ((x + 1.0) * (nf - kf - df + x + 1.0))
    };
    let mode = (((df + 1.0) * (kf + 1.0) / (nf + 2.0)).floor() as u64).clamp(lo, hi);
    let observed = ln_pmf(a.k).exp();
    // Relative tolerance for tables exactly as likely as the observed one
    // (ties computed along different paths differ in the last bits).
    let cutoff = observed * (1.0 + 1e-7);
    let p_mode = ln_pmf(mode).exp();
    let mut sum = if p_mode <= cutoff { p_mode } else { 0.0 };
    // Upward from the mode.
    let mut term = p_mode;
    let mut x = mode;
    while x < hi {
        let r = up(x);
        term *= r;
        x += 1;
        if term <= cutoff {
            sum += term;
        }
        if r < 1.0 && term * r / (1.0 - r) < 1e-17 * (sum + observed) {
            break;
        }
    }
    // Downward from the mode.
    let mut term = p_mode;
    let mut x = mode;
    while x > lo {
        let r = 1.0 / up(x - 1);
        term *= r;
        x -= 1;
        if term <= cutoff {
            sum += term;
        }
        if r < 1.0 && term * r / (1.0 - r) < 1e-17 * (sum + observed) {
            break;
        }
    }
    Some(sum.min(1.0))
}

fn ln_choose(n: f64, k: f64) -> f64 {
    ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0)
}

/// The pooled two-proportion z-test: `(z, two-sided p)`. `None` when a group
/// is empty or the pooled rate is 0 or 1 (no variance: nothing to test).
pub fn two_proportion_z(a: Rate, b: Rate) -> Option<(f64, f64)> {
    let (pa, pb) = (a.value()?, b.value()?);
    let pooled = (a.k + b.k) as f64 / (a.n + b.n) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / a.n as f64 + 1.0 / b.n as f64)).sqrt();
    if se == 0.0 || !se.is_finite() {
        return None;
    }
    let z = (pa - pb) / se;
    Some((z, erfc(z.abs() / std::f64::consts::SQRT_2)))
}

/// People needed in each of two groups for a two-sided test at `alpha` to
/// detect, with `power`, a group selected at `ratio` × `reference` against
/// one selected at `reference` (the normal-approximation sample size for
/// two proportions, Fleiss 1981). `None` when `reference` is 0 or the
/// ratio is not below 1. Reported with "insufficient data" as the size
/// that would make the comparison meaningful.
pub fn size_needed(reference: f64, ratio: f64, alpha: f64, power: f64) -> Option<u64> {
    let p1 = reference;
    let p2 = reference * ratio;
    if !(p1 > 0.0 && p1 <= 1.0 && (0.0..1.0).contains(&ratio)) {
        return None;
    }
    let za = z_for(1.0 - alpha);
    let zb = z_for(2.0 * power - 1.0);
    let mean = (p1 + p2) / 2.0;
    let num =
        za * (2.0 * mean * (1.0 - mean)).sqrt() + zb * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
    let n = (num * num) / ((p1 - p2) * (p1 - p2));
    n.is_finite().then(|| n.ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(k: u64, n: u64) -> Rate {
        Rate { k, n }
    }

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn z_of_95_percent() {
        close(z_for(0.95), 1.959963984540054, 1e-12);
    }

    #[test]
    fn wilson_matches_published_example() {
        // Newcombe (1998), Statistics in Medicine 17:857, table I, example
        // 81/263: Wilson 95% interval 0.2553 to 0.3662.
        let i = wilson(r(81, 263), 0.95).unwrap_or(Interval {
            low: f64::NAN,
            high: f64::NAN,
        });
        close(i.low, 0.2553, 5e-5);
        close(i.high, 0.3662, 5e-5);
        // 0 of 10: lower bound 0, upper 0.2775 (Newcombe table I).
        let i = wilson(r(0, 10), 0.95).unwrap_or(Interval {
            low: f64::NAN,
            high: f64::NAN,
        });
        close(i.low, 0.0, 1e-12);
        close(i.high, 0.2775, 5e-5);
        assert_eq!(wilson(r(0, 0), 0.95), None);
    }

    #[test]
    fn a_ratio_of_exactly_four_fifths_is_not_below_it() {
        // 29 CFR 1607.4(D) flags a rate "less than four-fifths" of the
        // highest; the Uniform Guidelines Q&A 12 (1979) counts 48/60 as
        // 80%, no adverse impact. 76 of 114 against 80 of 96 is exactly
        // 4/5, which dividing the two rounded rates put just below 0.8.
        let rates = [r(76, 114), r(80, 96)];
        let rounded = |k: u64, n: u64| k as f64 / n as f64;
        assert!(rounded(76, 114) / rounded(80, 96) < 0.8);
        assert_eq!(impact_ratio(&rates), Some(0.8));
        assert_eq!(impact_ratio(&[r(48, 100), r(60, 100)]), Some(0.8));
    }

    #[test]
    fn four_fifths_example_of_the_uniform_guidelines() {
        // A worked example: 48 of 80 (60%) against 12 of 40 (30%): ratio
        // 0.5, below four-fifths.
        let rates = [r(48, 80), r(12, 40)];
        close(impact_ratio(&rates).unwrap_or(f64::NAN), 0.5, 1e-12);
        close(parity_difference(&rates).unwrap_or(f64::NAN), 0.3, 1e-12);
        assert_eq!(extremes(&rates), Some((1, 0)));
    }

    #[test]
    fn ratio_needs_two_groups_and_a_selection() {
        assert_eq!(impact_ratio(&[r(3, 10)]), None);
        assert_eq!(impact_ratio(&[r(0, 10), r(0, 5)]), None);
        assert_eq!(impact_ratio(&[r(0, 10), r(2, 5), r(0, 0)]), Some(0.0));
        // Equal rates compare two different groups.
        assert_eq!(extremes(&[r(1, 2), r(2, 4), r(3, 6)]), Some((2, 0)));
    }

    #[test]
    fn fisher_matches_the_tea_tasting_table() {
        // Fisher's lady tasting tea, [[3, 1], [1, 3]]: two-sided p = 0.4857
        // (34/70).
        close(
            fisher_exact(r(3, 4), r(1, 4)).unwrap_or(f64::NAN),
            34.0 / 70.0,
            1e-12,
        );
        // scipy documentation example [[6, 2], [1, 4]]: p = 0.10256410256.
        close(
            fisher_exact(r(6, 8), r(1, 5)).unwrap_or(f64::NAN),
            0.10256410256410256,
            1e-12,
        );
    }

    #[test]
    fn fisher_on_large_groups_is_fast_and_sane() {
        let p = fisher_exact(r(90_000, 1_000_000), r(150_000, 1_000_000)).unwrap_or(f64::NAN);
        assert!(p < 1e-300 || p == 0.0);
        let p = fisher_exact(r(100_000, 1_000_000), r(100_050, 1_000_000)).unwrap_or(f64::NAN);
        assert!(p > 0.5 && p <= 1.0, "{p}");
    }

    #[test]
    fn katz_interval_contains_the_ratio() {
        let i = ratio_interval(r(12, 40), r(48, 80), 0.95).unwrap_or(Interval {
            low: f64::NAN,
            high: f64::NAN,
        });
        assert!(i.low < 0.5 && 0.5 < i.high, "{i:?}");
        let i = ratio_interval(r(0, 40), r(48, 80), 0.95);
        assert!(i.is_some_and(|i| i.low >= 0.0 && i.high < 1.0));
    }

    #[test]
    fn z_test_is_symmetric() {
        let (z, p) = two_proportion_z(r(48, 80), r(12, 40)).unwrap_or((f64::NAN, f64::NAN));
        let (z2, p2) = two_proportion_z(r(12, 40), r(48, 80)).unwrap_or((f64::NAN, f64::NAN));
        close(z, -z2, 1e-12);
        close(p, p2, 1e-15);
        assert!(p < 0.01);
        assert_eq!(two_proportion_z(r(0, 10), r(0, 10)), None);
    }

    #[test]
    fn size_needed_grows_as_rates_fall() {
        let common = size_needed(0.5, 0.8, 0.05, 0.8).unwrap_or(0);
        let rare = size_needed(0.02, 0.8, 0.05, 0.8).unwrap_or(0);
        assert!(common > 100 && common < 1000, "{common}");
        assert!(rare > 10_000, "{rare}");
        assert_eq!(size_needed(0.0, 0.8, 0.05, 0.8), None);
    }
}
