"""The one-line function that bench_backends.py compiles with Numba to measure Numba's own start-up cost
(it lives in a file so that Numba can cache it)."""


def one_line(x):
    return x + 1
