"""`autoformation courses`: list, check and release the courses (nbgrader source notebooks)."""
