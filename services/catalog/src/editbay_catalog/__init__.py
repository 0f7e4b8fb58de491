"""editbay catalog service."""
