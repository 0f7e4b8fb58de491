"""``editbay demo``: the all-in-one mode and a guided run of the whole flow."""

from editbay_cli.demo.run import DemoError, DemoResult, run_demo

__all__ = ["DemoError", "DemoResult", "run_demo"]
