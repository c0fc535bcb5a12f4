"""Grading: submissions, sandboxed nbgrader autograding, feedback (a JupyterHub service)."""
