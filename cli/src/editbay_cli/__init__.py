"""The editbay command line."""
