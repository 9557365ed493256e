#!/usr/bin/env bash
# Set up (first run only), lint, and run the whole test suite:
#   bash scripts/test.sh [pytest arguments]
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ruff check .
if command -v docker-compose >/dev/null 2>&1; then
  docker-compose config --quiet
fi
exec python -m pytest "$@"
