"""``gw.vectorize`` signatures are parsed with real checks (no ``assert``, which ``python -O`` drops)."""

import pytest

import graphwright as gw
from graphwright.transforms.vectorize import _parse_signature

GOOD = [
    ("(m,n),(n)->(m)", ([["m", "n"], ["n"]], [["m"]])),
    ("()->()", ([[]], [[]])),
    (" (m, n) -> (n, m) ", ([["m", "n"]], [["n", "m"]])),
    ("(n)->(),(n)", ([["n"]], [[], ["n"]])),
]
BAD = ["n->n", "(m,,n)->(m)", "(m)(n)->(m)", "(m)->(n)->(k)", "((m))->(m)", "(m),->(m)", "(m->(m)", "(m)",
       "", "(m)=>(m)", "(m-n)->(m)"]


@pytest.mark.parametrize(("signature", "parsed"), GOOD)
def test_good_signatures(signature, parsed):
    assert tuple(_parse_signature(signature)) == parsed


@pytest.mark.parametrize("signature", BAD)
def test_bad_signatures_raise_a_clear_value_error(signature):
    with pytest.raises(ValueError, match=r"is not a gufunc signature like '\(m,n\),\(n\)->\(m\)'"):
        gw.vectorize(lambda v: v, signature=signature)


def test_a_non_string_signature_is_refused():
    with pytest.raises(ValueError, match="not a gufunc signature"):
        gw.vectorize(lambda v: v, signature=None)
