"""Mutation: the catalogue of known-bad variants of a reference backward pass, and the proof it is caught.

Receives a reference module; plants each registered operator's bug with Python's ast, judges
every mutant with the numerical check on the assignment's cases and profiles, and hands on a
MutationRun (statuses, differences) that grading uses for diagnosis and the report stage shows.
"""
