"""editbay shared runtime library."""
