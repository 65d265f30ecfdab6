"""text_table and number_cell: the aligned text of the bench and numerics tables."""

from __future__ import annotations

import pytest

from graphwright.workbench.tables import number_cell, text_table


def test_columns_take_the_widest_cell_and_align_left_or_right():
    text = text_table(("a", "value"), [("long name", "1"), ("b", "12345678")], right={1})
    assert text.splitlines() == ["a             value",
                                 "---------  --------",
                                 "long name         1",
                                 "b          12345678"]


def test_notes_follow_their_row_and_lines_have_no_trailing_spaces():
    lines = text_table(("x", "y"), [("1", ""), ("2", "")], notes={0: "<- here"}).splitlines()
    assert lines[2] == "1  <- here" and lines[3] == "2"
    assert all(line == line.rstrip() for line in lines)


def test_no_rows_gives_the_head_and_a_wrong_row_length_is_named():
    assert text_table(("one", "two"), []) == "one  two\n---  ---"
    with pytest.raises(ValueError, match="row 1 has 1 cells, the head has 2 columns"):
        text_table(("one", "two"), [("a", "b"), ("c",)])


def test_number_cell():
    assert (number_cell(None), number_cell(float("inf")), number_cell(1 / 3, ".3g")) == ("-", "inf", "0.333")
