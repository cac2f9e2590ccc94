#!/usr/bin/env bash
# Runs PROGRAM ARGS... TEMP_DIR with a fresh temporary directory as its last argument,
# and removes the directory afterwards, also when the program fails.
set -u
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$@" "$dir"
