"""Notebook helpers: everything a notebook cell calls, unit-tested here rather
than living in cells. Imports pandas, ipywidgets and matplotlib: never imported
by the Lambda handlers."""
