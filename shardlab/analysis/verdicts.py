"""The judgement rule: how a claim's data become one of four verdicts.

A claim is judged by one or more **tests** and guarded by **preconditions**:

- a *superiority* test (a predicted effect) is **supported** when its 95% CI excludes 0 in the
  predicted direction and the point effect reaches the margin (the smallest effect of interest),
  **not supported** when the CI lies entirely below the margin, and **inconclusive** otherwise;
- an *equivalence* test (a predicted null, TOST at α = 0.05) is **supported** when its 90% CI
  lies inside ±margin, **not supported** when its 95% CI lies entirely outside ±margin, and
  **inconclusive** otherwise;
- a *precondition* (a positive control or manipulation check) passes when its 95% CI clears its
  threshold in the required direction. Any failed precondition makes the claim **not testable**,
  whatever its tests say;
- the claim's verdict combines its tests with `all_of`.

Intervals come from `statistics` (studentized bootstrap over the unit of analysis). `paired`
is for arms that share random keys (common random numbers) and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator

from shardlab.analysis.statistics import Interval, diff_ci, mean_ci, sample

Verdict = Literal["supported", "not supported", "inconclusive", "not testable"]
VERDICTS: tuple[Verdict, ...] = ("supported", "not supported", "inconclusive", "not testable")
Kind = Literal["superiority", "equivalence"]
Direction = Literal[1, -1]


class Claim(BaseModel):
    """A claim from CLAIMS.md with its prediction and contrast, stated before anything runs."""

    model_config = ConfigDict(frozen=True)

    id: str
    claim: str
    prediction: str
    contrast: str


class Test(BaseModel):
    """One predicted effect (superiority) or predicted null (equivalence), judged on its own.

    `ci` is the 95% interval; `ci90` the 90% interval an equivalence test (TOST) needs.
    `direction` is the predicted sign of a superiority effect.
    """

    model_config = ConfigDict(frozen=True)
    __test__ = False  # not a pytest test class

    name: str
    kind: Kind
    effect: float
    ci: tuple[float, float]
    margin: PositiveFloat
    direction: Direction = 1
    ci90: tuple[float, float] | None = None
    verdict: Verdict = "inconclusive"

    @model_validator(mode="after")
    def _judge(self) -> Test:
        if self.kind == "equivalence" and self.ci90 is None:
            raise ValueError(f"equivalence test {self.name!r} needs its 90% CI (ci90)")
        object.__setattr__(self, "verdict", _judge_test(self))
        return self


def _judge_test(test: Test) -> Verdict:
    lo, hi = test.ci
    if test.kind == "equivalence":
        lo90, hi90 = test.ci90 or test.ci
        if -test.margin < lo90 and hi90 < test.margin:
            return "supported"
        if lo > test.margin or hi < -test.margin:
            return "not supported"
        return "inconclusive"
    lo, hi = sorted((test.direction * lo, test.direction * hi))
    if lo > 0 and test.direction * test.effect >= test.margin:
        return "supported"
    if hi < test.margin:
        return "not supported"
    return "inconclusive"


class Precondition(BaseModel):
    """A positive control or manipulation check: passes when its CI clears `threshold` in
    `direction` (+1: above, −1: below)."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: float
    ci: tuple[float, float]
    threshold: float
    direction: Direction = 1
    passed: bool = False

    @model_validator(mode="after")
    def _check(self) -> Precondition:
        lo, hi = self.ci
        passed = lo > self.threshold if self.direction == 1 else hi < self.threshold
        object.__setattr__(self, "passed", passed)
        return self


class ClaimResult(BaseModel):
    """What the data say about one claim: its tests, preconditions, verdict and why.

    `effect` and `ci` repeat the primary (first) test's, for readers of the older shape.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    prediction: str
    verdict: Verdict
    reason: str
    tests: tuple[Test, ...] = Field(min_length=1)
    preconditions: tuple[Precondition, ...] = ()
    effect: float
    ci: tuple[float, float]
    n: int
    unit: str
    detail: str = ""


def all_of(verdicts: Sequence[Verdict]) -> Verdict:
    """Several predicted effects: supported only if every one is; not supported if any is."""
    if "not testable" in verdicts:
        return "not testable"
    if all(v == "supported" for v in verdicts):
        return "supported"
    return "not supported" if "not supported" in verdicts else "inconclusive"


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _span(ci: Interval) -> str:
    return f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"


def _reason(verdict: Verdict, tests: Sequence[Test], failed: Sequence[Precondition]) -> str:
    if failed:
        return "; ".join(
            f"precondition '{p.name}' failed: {_fmt(p.value)} {_span(p.ci)} does not clear "
            f"{'>' if p.direction == 1 else '<'} {_fmt(p.threshold)}" for p in failed
        )
    if verdict == "supported":
        return "every test supported: " + "; ".join(
            f"'{t.name}' {_fmt(t.effect)} {_span(t.ci)}, margin {_fmt(t.margin)}" for t in tests
        )
    culprits = [t for t in tests if t.verdict == verdict]
    parts = []
    for t in culprits:
        if t.kind == "equivalence":
            outside = verdict == "not supported"
            why, ci = ("95% CI lies outside", t.ci) if outside else ("90% CI is not inside",
                                                                     t.ci90 or t.ci)
            parts.append(f"'{t.name}' {why} ±{_fmt(t.margin)}: {_fmt(t.effect)} {_span(ci)}")
        elif verdict == "not supported":
            parts.append(f"'{t.name}' CI {_span(t.ci)} lies below its margin {_fmt(t.margin)}")
        else:
            parts.append(f"'{t.name}' {_fmt(t.effect)} {_span(t.ci)} neither clears 0 with "
                         f"margin {_fmt(t.margin)} nor lies below it")
    return "; ".join(parts)


def judge(
    claim: Claim,
    tests: Sequence[Test],
    preconditions: Sequence[Precondition] = (),
    *,
    n: int,
    unit: str = "seed",
    detail: str = "",
) -> ClaimResult:
    """Combine tests and preconditions into the claim's verdict and a one-sentence reason."""
    if not tests:
        raise ValueError(f"claim {claim.id} needs at least one test")
    failed = [p for p in preconditions if not p.passed]
    verdict = "not testable" if failed else all_of([t.verdict for t in tests])
    return ClaimResult(
        id=claim.id, prediction=claim.prediction, verdict=verdict,
        reason=f"{verdict}: {_reason(verdict, tests, failed)}",
        tests=tuple(tests), preconditions=tuple(preconditions),
        effect=tests[0].effect, ci=tests[0].ci, n=n, unit=unit, detail=detail,
    )  # fmt: skip


def _effect(a: ArrayLike, b: ArrayLike | None, paired: bool, level: float, seed: int
            ) -> tuple[float, Interval]:
    x = sample(a, "a")
    if b is None:
        return float(x.mean()), mean_ci(x, level, seed=seed)
    y = sample(b, "b")
    return float(x.mean() - y.mean()), diff_ci(x, y, paired=paired, level=level, seed=seed)


def _within(ci: Interval, bounds: Interval | None) -> Interval:
    """The CI cut to the range the mean can take (e.g. [−1, 1] for a mean correlation). The
    true mean lies in that range, so the cut interval covers it whenever the whole one does."""
    if bounds is None:
        return ci
    lo, hi = bounds
    return float(np.clip(ci[0], lo, hi)), float(np.clip(ci[1], lo, hi))


def superiority(
    name: str,
    a: ArrayLike,
    b: ArrayLike | None = None,
    *,
    margin: float,
    paired: bool = False,
    direction: Direction = 1,
    bounds: Interval | None = None,
    seed: int = 0,
) -> Test:
    """A predicted effect: mean(a), or mean(a) − mean(b), exceeds `margin` in `direction`.
    `bounds`: the range the effect can take, if it is bounded (the CI is cut to it)."""
    effect, ci = _effect(a, b, paired, 0.95, seed)
    return Test(name=name, kind="superiority", effect=effect, ci=_within(ci, bounds),
                margin=margin, direction=direction)


def equivalence(
    name: str,
    a: ArrayLike,
    b: ArrayLike | None = None,
    *,
    margin: float,
    paired: bool = False,
    seed: int = 0,
) -> Test:
    """A predicted null: mean(a), or mean(a) − mean(b), lies within ±`margin` (TOST)."""
    effect, ci = _effect(a, b, paired, 0.95, seed)
    _, ci90 = _effect(a, b, paired, 0.90, seed)
    return Test(name=name, kind="equivalence", effect=effect, ci=ci, ci90=ci90, margin=margin)


def precondition(
    name: str,
    a: ArrayLike,
    b: ArrayLike | None = None,
    *,
    threshold: float = 0.0,
    paired: bool = False,
    direction: Direction = 1,
    seed: int = 0,
) -> Precondition:
    """A check on mean(a), or mean(a) − mean(b), against `threshold` in `direction`."""
    value, ci = _effect(a, b, paired, 0.95, seed)
    return Precondition(name=name, value=value, ci=ci, threshold=threshold, direction=direction)


def exact(name: str, value: float, *, threshold: float, direction: Direction = 1) -> Precondition:
    """A deterministic check (no sampling): its CI is the point itself."""
    value = float(np.asarray(value))
    return Precondition(name=name, value=value, ci=(value, value), threshold=threshold,
                        direction=direction)
