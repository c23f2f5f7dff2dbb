"""Grading: one submission from file to SubmissionResult.

Receives a submission and the resolved Assignment with Settings; loads it, runs the student's
functions in the sandbox, checks each against the numerical gradients (backward, forward, the
student's own checker), diagnoses failures against the mutant catalogue and scores them. Hands
on a frozen SubmissionResult (results.py).
"""
