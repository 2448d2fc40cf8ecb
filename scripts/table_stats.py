"""Small statistics shared by the results-table scripts: 95% Student-t intervals of a mean and of
a paired mean difference (no SciPy in the venv; the quantiles are the textbook table)."""
import math

# Two-sided 97.5% quantiles of Student's t by degrees of freedom (a df between entries uses the
# next smaller one, which is conservative).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
        10: 2.228, 14: 2.145, 19: 2.093, 29: 2.045}


def t975(df):
    keys = sorted(k for k in T975 if k <= df)
    return T975[keys[-1]] if keys else float("nan")


def mean_ci(xs):
    """(mean, half-width of the 95% t-interval); the half-width is nan for fewer than 2 values."""
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan")
    m = sum(xs) / n
    if n < 2:
        return m, float("nan")
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return m, t975(n - 1) * sd / math.sqrt(n)


def fmt(m, h, digits=3):
    if math.isnan(m):
        return "-"
    return f"{m:.{digits}f} ± {h:.{digits}f}" if not math.isnan(h) else f"{m:.{digits}f}"
