"""Batch: grade a whole class.

Receives a class folder or zip; discovers one submission per student (layouts, LMS names, groups),
grades what the SQLite gradebook lacks on a local pool or a Dask cluster, and hands every result
to the report stage as it arrives: the class page, a page per student, grades.csv, results.json.
"""
