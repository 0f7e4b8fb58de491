# The two commands: `make demo` runs editbay in its all-in-one mode, `make test` runs the tests.
.PHONY: demo test setup lint protos

setup:
	@bash scripts/setup.sh

demo: setup
	uv run editbay demo

test: setup lint
	uv run pytest

lint:
	uv run ruff check .
	uv run ruff format --check .
	uv run python scripts/protos.py check
	@if command -v npm >/dev/null 2>&1; then \
		npm install --no-audit --no-fund --silent && uv run python scripts/protos.py lint; \
	else echo "npm not found: skipping buf lint" >&2; exit 1; fi

protos:
	uv run python scripts/protos.py gen
