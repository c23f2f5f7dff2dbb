"""Report: show results, from the Jinja2 templates in grader/templates/ and tabulate.

Receives SubmissionResults (and class summaries) and MutationRuns; hands on HTML pages, the terminal
tables, the result/v1 and mutation/v1 JSON and Stryker's report, each file written whole or not at all.
"""
