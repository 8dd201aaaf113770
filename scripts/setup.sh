#!/usr/bin/env bash
# Everything before serving: venv, services, schema, demo admin, demo catalogue, embeddings.
# Safe to re-run: each step skips what is already done.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/venv.sh
bash scripts/services.sh start
PY=.venv/bin/python
$PY manage.py migrate --noinput -v 0
$PY manage.py collectstatic --noinput -v 0
$PY manage.py ensure_demo_admin
# The demo catalogue ships in the repository, so this works without ../shared.
$PY manage.py import_catalogue demo/catalogue --if-empty --verbosity 0
# Whatever lacks an embedding of the current model (the demo catalogue on a fresh clone) gets one,
# so similar works appear without a manual step. A no-op when everything is embedded.
# A newer committed model (CURRENT moved, e.g. after a pull) becomes the served one first: the switch
# embeds the catalogue beside the old vectors, then flips search and the pipeline in one transaction.
$PY manage.py embed_catalogue --follow-configured
# Palettes of works embedded before palettes existed (new works get theirs while being embedded).
$PY manage.py fill_palettes --verbosity 0
# The map of the catalogue, once per model version (re-run build_catalogue_map after large imports).
$PY manage.py build_catalogue_map --if-missing --verbosity 0
