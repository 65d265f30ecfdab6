"""Graph drawing (to come with the workbench issue)."""
