"""Sandbox: run a submission's functions in a contained child process and bring their results back as data.

Receives a loaded source and the calls to make (plain values and arrays); forks a child from the
fork server (or spawns one), contains it (namespaces, rlimits, an audit hook, a scratch folder),
runs the calls under timeouts, and hands on a SandboxRun of call outcomes decoded from the wire
format (never pickle). Imports nothing of gradgrade above it: the child uses it too.
"""
