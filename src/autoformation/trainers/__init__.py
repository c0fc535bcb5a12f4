"""The trainers\x27 side: dashboards, exports and manual grading (a JupyterHub service)."""
