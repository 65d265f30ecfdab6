"""``under_index`` tries only the rules the running pass selected (include/exclude are honoured under an index)."""

import graphwright as gw


def test_an_excluded_rule_does_not_fire_under_an_index():
    x = gw.vector("x")
    y = gw.log(gw.softmax(x)[1])
    g, trace = gw.rewrite(y, phases="stabilize")
    assert [s.rule_name for s in trace] == ["under_index"]
    assert gw.short_str(g.outputs[0]).startswith("log_softmax")
    g, trace = gw.rewrite(y, phases="stabilize", exclude=["log_softmax"])
    assert list(trace) == [] and g.outputs[0] is y


def test_include_selects_the_rules_tried_under_an_index():
    x = gw.vector("x")
    y = gw.log(gw.softmax(x)[1])
    _, trace = gw.rewrite(y, phases="stabilize", include=["under_index"])  # log_softmax itself not selected
    assert list(trace) == []
    _, trace = gw.rewrite(y, phases="stabilize", include=["under_index", "log_softmax"])
    assert [s.rule_name for s in trace] == ["under_index"]
