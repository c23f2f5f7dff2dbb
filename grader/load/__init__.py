"""Load: a submission file (.py or .ipynb) becomes the source the sandbox runs.

Receives a path or bytes; decodes them (PEP 263, BOMs, UTF-16), reads notebooks with nbformat,
neutralises magics, salvages what parses cell by cell or statement by statement, and keeps by
default only imports, definitions and constants. Hands on a Program: the source, where each
function came from (cell and line), and warnings. Imports nothing of gradgrade above it.
"""
