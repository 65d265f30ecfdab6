"""Jupyter widgets (to come with the workbench issue)."""
