"""Backends: each turns a whole graph into one generated function (see codegen.py); compile.py is the entry."""
