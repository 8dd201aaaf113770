#!/usr/bin/env bash
# Create .venv with Python 3.12 and install requirements.txt; a no-op when nothing changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
find_python() {
  # pyenv's shim answers "command not found" when 3.12 is installed but not selected, so try it.
  if python3.12 -c 'import sys' >/dev/null 2>&1; then command -v python3.12; return; fi
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do
    [ -x "$candidate" ] && { echo "$candidate"; return; }
  done
  echo "Python 3.12 is required (Django 6.1 needs it); install it, e.g. 'pyenv install 3.12'" >&2
  exit 1
}
if [ ! -x .venv/bin/python ]; then
  "$(find_python)" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "venv: installing requirements.txt (first time: ~3 min, TensorFlow is large)"
  .venv/bin/pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi
