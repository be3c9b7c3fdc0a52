"""Paired hierarchical bootstrap: the interval of a mean difference between two rows that
resamples what varies, the test set's independent units and the training seeds.

A row's result is a distribution over training runs (seeds) and test units, so both levels
are drawn with replacement: units (the same units for both rows: the comparison is paired on
the test files) and seeds (the same seeds for both rows when both have exactly the same seeds;
each row's own otherwise). Each draw's statistic is the mean per-sample difference over the
drawn units' samples, so the point estimate is the difference of the table's means.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from mattebench.report.runs import Run
from mattebench.report.units import Units

#: Resamples, and the seed of their generator (the report is reproducible).
BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED = 2000, 0
#: Resamples drawn at once (bounds memory on sets of many units).
_BLOCK = 250


def interval(
    a: np.ndarray,
    b: np.ndarray,
    unit: np.ndarray,
    paired_seeds: bool,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float] | None:
    """The percentile 95 % interval of mean(a) - mean(b).

    `a` (seeds x samples) and `b` hold per-sample values of each seed on the same samples;
    `unit` (samples,) is each sample's unit index 0..U-1. A draw takes U units with
    replacement, and each row's seeds with replacement (one draw for both with `paired_seeds`:
    row k of `a` and of `b` are the same seed); its statistic is the sum of the seed-averaged
    differences over the drawn units' samples over their number of samples. None with fewer
    than two units.
    """
    units = int(unit.max()) + 1
    if units < 2:
        return None
    if paired_seeds:
        a, b = a - b, np.zeros((1, a.shape[1]))
    sums_a, sums_b = (
        np.stack([np.bincount(unit, weights=values, minlength=units) for values in x])
        for x in (a, b)
    )
    sizes = np.bincount(unit, minlength=units)
    rng = np.random.default_rng(seed)
    means = []
    for done in range(0, resamples, _BLOCK):
        n = min(_BLOCK, resamples - done)
        drawn = rng.multinomial(units, np.full(units, 1 / units), size=n)  # times each unit
        per_unit = _draw_seeds(rng, sums_a, n) - _draw_seeds(rng, sums_b, n)
        means.append((per_unit * drawn).sum(axis=1) / (drawn @ sizes))
    low, high = np.percentile(np.concatenate(means), [2.5, 97.5])
    return float(low), float(high)


def _draw_seeds(rng: np.random.Generator, sums: np.ndarray, n: int) -> np.ndarray:
    """n draws of the seed-averaged per-unit sums, seeds drawn with replacement: (n, units)."""
    seeds = len(sums)
    if seeds == 1:
        return np.broadcast_to(sums, (n, sums.shape[1]))
    return rng.multinomial(seeds, np.full(seeds, 1 / seeds), size=n) @ sums / seeds


@dataclass(frozen=True)
class Comparison:
    """Row A - row B in one metric: the mean difference, its interval, and what the interval
    rests on (units and their name, each row's seeds: 0 for a reference, which has no
    training; the samples compared, of the most any run scored)."""

    delta: float
    interval: tuple[float, float] | None
    units: int
    seeds: tuple[int, int]
    paired_seeds: bool
    units_known: bool
    noun: str
    samples: int
    of_samples: int

    @property
    def noise(self) -> bool:
        """The interval contains 0: the rows are not told apart."""
        return self.interval is not None and self.interval[0] <= 0 <= self.interval[1]


def compare(a: list[Run], b: list[Run], column: str, units: Units) -> Comparison | None:
    """Row `a` against row `b` in per-sample `column`, on the samples every run of both has;
    None when they share no sample."""
    tables_a, tables_b = seed_tables(a, column), seed_tables(b, column)
    if not (tables_a and tables_b):
        return None
    every = [t for tables in (tables_a, tables_b) for t in tables.values()]
    keys = sorted(set.intersection(*(set(t) for t in every)))
    if not keys:
        return None
    trained = not (a[0].reference or b[0].reference)
    paired = trained and set(tables_a) == set(tables_b)
    seeds = sorted(tables_a)
    values_a = np.array([[tables_a[s][k] for k in keys] for s in seeds])
    seeds_b = seeds if paired else sorted(tables_b)
    values_b = np.array([[tables_b[s][k] for k in keys] for s in seeds_b])
    _, unit = np.unique([units.of[sample_id] for sample_id, _ in keys], return_inverse=True)
    return Comparison(
        delta=float(values_a.mean() - values_b.mean()),
        interval=interval(values_a, values_b, unit, paired),
        units=int(unit.max()) + 1,
        seeds=(0 if a[0].reference else len(tables_a), 0 if b[0].reference else len(tables_b)),
        paired_seeds=paired,
        units_known=not any(sample_id in units.guessed for sample_id, _ in keys),
        noun=units.noun,
        samples=len(keys),
        of_samples=max(len(t) for t in every),
    )


def seed_tables(runs: list[Run], column: str) -> dict[str, dict[tuple[str, int], float]]:
    """Per seed, per sample, `column` averaged over the runs of that seed (runs of one seed,
    e.g. two evaluations of one checkpoint, are one training run's result, not two)."""
    pooled: dict[str, dict[tuple[str, int], list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        for key, value in per_sample(run, column).items():
            pooled[run.seed_label][key].append(value)
    return {
        seed: {key: float(np.mean(values)) for key, values in table.items()}
        for seed, table in pooled.items()
    }


def per_sample(run: Run, column: str) -> dict[tuple[str, int], float]:
    """Per-sample values of `column` (or of its metric without region, from runs that scored
    one region), keyed by (sample id, occurrence) so repeated ids pair in order."""
    seen: Counter[str] = Counter()
    values = {}
    for sample in run.samples:
        value = sample.get(column, sample.get(column.split("_")[0]))
        if value in (None, ""):
            continue
        values[(sample["id"], seen[sample["id"]])] = float(value)
        seen[sample["id"]] += 1
    return values
