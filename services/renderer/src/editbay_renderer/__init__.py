"""editbay renderer service."""
