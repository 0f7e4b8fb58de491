"""editbay planner service."""
