"""Small statistics shared by the published records (deployments), the reports (oversight)
and the public annual report: kept here because no app may import oversight."""

import math

Z95 = 1.959963984540054
# "Too few to conclude": fewer than MIN_N decided alerts in the group, or a 95 % interval
# wider than MAX_CI_WIDTH (20 percentage points). Either way the rate could move a lot
# with a handful more alerts, so no comparison between groups should be drawn from it.
MIN_N = 30
MAX_CI_WIDTH = 0.2


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (well behaved near 0 and small n)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def too_few(n: int, low: float, high: float) -> bool:
    return n < MIN_N or (high - low) > MAX_CI_WIDTH
