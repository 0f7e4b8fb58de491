"""editbay HTTP gateway."""
