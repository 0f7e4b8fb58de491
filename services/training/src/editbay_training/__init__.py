"""editbay training service."""
