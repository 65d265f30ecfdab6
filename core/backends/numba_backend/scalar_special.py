"""Numba helpers for the special-function rows of the scalar table (float64 in, float64 out).

Each ``_s_*`` function computes one element and follows the row's reference (NumPy or SciPy) on special values:
nan in gives nan out, infinities and the domain edges give what the reference gives. The kernels call them on
float64 arguments (float32 and integer inputs are converted first), so each compiles once. Without Numba the
helpers stay plain Python functions, so this module imports (for documentation and tests) either way.

The methods are textbook ones, noted at each function: asymptotic series, recurrences, reflection formulas,
Halley's iteration on ``erf``, and a Taylor series about the positive root of digamma whose coefficients
``(-1)**(k+1) * zeta(k+1, x0)`` were evaluated with mpmath for this module.
"""

from __future__ import annotations

import math

import numpy as np

try:
    import numba

    def _jit(fn):
        return numba.njit(error_model="numpy")(fn)
except ImportError:  # pragma: no cover - the module stays importable without Numba
    def _jit(fn):
        return fn

__all__ = ["SPECIAL_NAMESPACE"]

_INF = math.inf
_NAN = math.nan
_LN2 = math.log(2.0)
_SQRT_PI = math.sqrt(math.pi)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SPLIT = 134217729.0  # 2**27 + 1: Dekker's splitting constant for float64

# digamma's positive root x0 = _ROOT_HI + _ROOT_LO, and psi's Taylor coefficients about it (k = 1..38); the
# series converges for |x - x0| < x0 and is used on |x - x0| <= 1/2, where its 38th term is below 2e-18
_ROOT_HI = 1.4616321449683622
_ROOT_LO = 9.549995429965697e-17
_ROOT_COEFS = (
    0.9676722454476212, -0.4427631689835921, 0.258499760955651, -0.16394270544240652, 0.10782405069126237,
    -0.07219956125645471, 0.04880428816414311, -0.03316112647484736, 0.022597648232218104, -0.01542476590494896,
    0.010538791616612175, -0.007204534386356869, 0.004926781395729853, -0.003369801655439328,
    0.002305126326734928, -0.0015769367714301972, 0.0010788252019162967, -0.0007380709389960052,
    0.000504953265834602, -0.0003454680251063077, 0.00023635601564027053, -0.00016170622091974803,
    0.0001106337276874741, -7.569179582195066e-05, 5.178575795222081e-05, -3.5430070947659604e-05,
    2.424006611860132e-05, -1.6584242271854135e-05, 1.134638458466385e-05, -7.762817668462094e-06,
    5.3110609208898636e-06, -3.6336507898010456e-06, 2.486022733129538e-06, -1.7008538854332607e-06,
    1.1636675363548843e-06, -7.96142543124197e-07, 5.446941930669446e-07, -3.7266161283438227e-07)


@_jit
def _s_log1mexp(x):
    """log(1 - exp(x)) for x <= 0 (nan for x > 0): ``log(-expm1(x))`` above -log 2, ``log1p(-exp(x))`` below."""
    if x > -_LN2:
        return math.log(-math.expm1(x))
    return math.log1p(-math.exp(x))


@_jit
def _s_sigmoid(x):
    """1 / (1 + exp(-x)); for x < 0 the form e / (1 + e), e = exp(x), keeps the subnormal tail below -708."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # nan stays nan
    return e / (1.0 + e)


@_jit
def _s_logaddexp(x, y):
    """log(exp(x) + exp(y)) as max + log1p(exp(-|x - y|)); equal arguments (infinities too) give x + log 2."""
    if x == y:
        return x + _LN2
    d = x - y
    if d > 0.0:
        return x + math.log1p(math.exp(-d))
    if d <= 0.0:
        return y + math.log1p(math.exp(d))
    return d  # nan


@_jit
def _s_softplus(x):
    """log(1 + exp(x)), the reference's ``logaddexp(0, x)``."""
    return _s_logaddexp(0.0, x)


@_jit
def _s_logit(x):
    """log(x / (1 - x)) on [0, 1] (nan outside); within 1/4 of 1/2, where the quotient is near 1 and its
    rounding would dominate the small result, log1p(s) - log1p(-s) with s = 2x - 1 (exact there)."""
    s = 2.0 * x - 1.0
    if abs(s) < 0.5:
        return math.log1p(s) - math.log1p(-s)
    return math.log(x / (1.0 - x))


@_jit
def _s_xlogy(x, y):
    """x * log(y), and 0 for x == 0 unless y is nan (the reference's convention: 0 * log(0) is 0)."""
    if x == 0.0 and y == y:
        return 0.0
    return x * math.log(y)


@_jit
def _s_exp_sq(x):
    """exp(x * x) with the rounding error of the square carried (Dekker's exact product), for |x| < 2**500."""
    p = x * x
    c = _SPLIT * x
    hi = c - (c - x)
    lo = x - hi
    err = ((hi * hi - p) + 2.0 * hi * lo) + lo * lo
    e = math.exp(p)
    return e * (1.0 + err)


@_jit
def _s_erfcx(x):
    """exp(x**2) * erfc(x).

    Below 25 the product itself (erfc has full relative accuracy there and exp(x**2) is taken with the exact
    square); from 25 the asymptotic series ``1/(x sqrt(pi)) * sum (-1)**k (2k-1)!! / (2x**2)**k``, whose
    twelfth term is below 1e-25 there. Overflows to inf below about -26.63, as the reference does.
    """
    if x != x:
        return x
    if x < 25.0:
        if x < -27.0:
            return _INF
        return _s_exp_sq(x) * math.erfc(x)
    t = 0.5 / x / x
    term = 1.0
    total = 1.0
    for k in range(1, 13):
        term *= -(2 * k - 1) * t
        total += term
    return total * _INV_SQRT_PI / x


@_jit
def _s_erfinv(y):
    """The inverse of erf on (-1, 1): +-inf at +-1, nan outside; ``erfinv(-0.0)`` is 0.0 like the reference.

    A starting value (the Maclaurin series ``sqrt(pi)/2 (y + pi/12 y**3 + 7 pi**2/480 y**5)`` below 0.5,
    Winitzki's closed-form approximation with a = 0.147 above) is refined by Halley's iteration
    ``x -= f / (f' + x f)`` on f = erf(x) - |y| (written as (1 - |y|) - erfc(x) above 0.5, where that
    difference is exact), which converges cubically from the ~2e-3 starting error: two steps, at most four.
    """
    ay = abs(y)
    if not ay < 1.0:
        if ay == 1.0:
            return math.copysign(_INF, y)
        return _NAN
    if ay == 0.0:
        return 0.0
    if ay < 1e-8:  # the series' next term is below 3e-17 relative
        return y * (0.5 * _SQRT_PI) * (1.0 + (math.pi / 12.0) * y * y)
    q = 1.0 - ay  # exact for ay >= 0.5
    if ay < 0.5:
        y2 = ay * ay
        x = 0.5 * _SQRT_PI * ay * (1.0 + y2 * (math.pi / 12.0 + y2 * (7.0 * math.pi * math.pi / 480.0)))
    else:
        ln = math.log(q * (1.0 + ay))
        t = 2.0 / (math.pi * 0.147) + 0.5 * ln
        x = math.sqrt(math.sqrt(t * t - ln / 0.147) - t)
    for _ in range(4):
        if ay < 0.5:
            f = math.erf(x) - ay
        else:
            f = q - math.erfc(x)
        step = f / (_TWO_OVER_SQRT_PI * math.exp(-x * x) + x * f)
        x -= step
        if abs(step) <= 1e-7 * x:  # cubic convergence: the next step would be below 1e-20
            break
    return math.copysign(x, y)


@_jit
def _s_gammaln(x):
    """log|Gamma(x)| (libm's lgamma); inf at the poles, and -inf at -inf as the reference gives."""
    if x == -_INF:
        return x
    return math.lgamma(x)


@_jit
def _s_digamma_pos(x):
    """psi(x) for x > 0.

    From 10 on, the asymptotic series ``log x - 1/(2x) - sum B_2k / (2k x**2k)`` (Bernoulli numbers up to
    B_14). Below, the recurrence psi(x) = psi(x - 1) + 1/(x - 1) (or psi(x + 1) - 1/x) brings x within 1/2 of
    the positive root x0, where the Taylor series about x0 gives full relative accuracy, also near the root;
    the recurrence only adds terms of psi's sign there, so nothing cancels.
    """
    if x >= 10.0:
        z = 1.0 / (x * x)
        tail = z * (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240 - z * (
            1.0 / 132 - z * (691.0 / 32760 - z * (1.0 / 12)))))))
        return math.log(x) - 0.5 / x - tail
    shift = 0.0
    if x < _ROOT_HI - 0.5:
        shift = -1.0 / x
        x += 1.0
    while x >= _ROOT_HI + 0.5:
        x -= 1.0  # exact
        shift += 1.0 / x
    d = (x - _ROOT_HI) - _ROOT_LO
    total = 0.0
    for k in range(len(_ROOT_COEFS) - 1, -1, -1):
        total = (total + _ROOT_COEFS[k]) * d
    return total + shift


@_jit
def _s_digamma(x):
    """The digamma function psi = Gamma'/Gamma, with the reference's special values.

    psi(+0) = -inf, psi(-0) = +inf, nan at the negative integers and -inf. Negative non-integers use the
    reflection psi(x) = psi(1 - x) - pi / tan(pi x), with tan taken of x minus its nearest integer (exact).
    """
    if x > 0.0:
        return _s_digamma_pos(x)
    if x == 0.0:
        return -math.copysign(_INF, x)
    if x != x or x == np.floor(x):  # nan, -inf and the poles
        return _NAN
    r = x - np.floor(x + 0.5)
    return _s_digamma_pos(1.0 - x) - math.pi / math.tan(math.pi * r)


SPECIAL_NAMESPACE: dict = {name: value for name, value in globals().items() if name.startswith("_s_")}
