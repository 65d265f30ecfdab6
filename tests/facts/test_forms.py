"""The expression forms that the fact rules and the stabilize rules share live once, in graphwright.facts.forms."""

import graphwright as gw
from graphwright.facts import forms, value_facts
from graphwright.rules import stabilize, stabilize_algebra, stabilize_special


def test_the_rules_use_the_facts_forms_not_copies():
    assert stabilize.is_float is forms.is_float and stabilize.square_base is forms.square_base
    assert stabilize_algebra.square_base is forms.square_base and stabilize_special.is_float is forms.is_float
    assert not hasattr(value_facts, "_float") and not hasattr(value_facts, "_square")


def test_squares_and_even_powers():
    x = gw.vector("x")
    for square in (x * x, gw.sqr(x), x**2):
        assert forms.square_base(square) is x and forms.even_power_base(square) is x
    for even in (x**4, x**-2.0, x**0.0):
        assert forms.square_base(even) is None and forms.even_power_base(even) is x
    for other in (x**3, x * gw.exp(x), x**gw.vector("e"), x**gw.constant([2.0, 3.0]), x):
        assert forms.even_power_base(other) is None
