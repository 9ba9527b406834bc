#!/usr/bin/env bash
# Install reconciler for the GitHub Action into its own virtual environment and put it on PATH.
# VERSION empty: the copy of this repository the action was used at; else that version of the
# reconciler-gitops distribution from the configured package index.
set -euo pipefail
venv="${RUNNER_TEMP:?}/reconciler-venv"
python -m venv "$venv"
if [ -z "${VERSION:-}" ]; then
  spec="${GITHUB_ACTION_PATH:?}[postgres]"  # the postgres extra, for shared state
else
  spec="reconciler-gitops[postgres]==${VERSION#==}"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
echo "$venv/bin" >>"${GITHUB_PATH:?}"
"$venv/bin/reconciler" --version
