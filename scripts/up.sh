#!/usr/bin/env bash
# Set up (first run only) and start predictq on the embedded defaults:
#   bash scripts/up.sh [--workers N]
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec predictq up "$@"
