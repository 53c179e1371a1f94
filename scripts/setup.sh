#!/usr/bin/env bash
# Set up Cruxboard's virtual environment (.venv) with a Python >= 3.12; idempotent.
# Prints the path of the venv's python on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    local candidates=()
    [ -n "${CRUXBOARD_PYTHON:-}" ] && candidates+=("$CRUXBOARD_PYTHON")
    candidates+=(python3.13 python3.12 python3)
    if command -v pyenv >/dev/null 2>&1; then
        for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])' | sort -rV); do
            candidates+=("$(pyenv prefix "$v")/bin/python3")
        done
    fi
    for c in /usr/bin/python3.13 /usr/bin/python3.12; do candidates+=("$c"); done
    for c in "${candidates[@]}"; do
        # pyenv shims exist for versions that are not selected; a failing run skips them.
        if out=$("$c" -c 'import sys; print(sys.version_info >= (3, 12))' 2>/dev/null) \
            && [ "$out" = "True" ]; then
            command -v "$c" 2>/dev/null || echo "$c"
            return 0
        fi
    done
    return 1
}

if [ ! -x .venv/bin/python ]; then
    if ! PY=$(find_python); then
        echo "Cruxboard needs Python 3.12 or newer (PyMC 6 does) and found none." >&2
        echo "Install one (e.g. 'pyenv install 3.12', or apt's python3.13 on Debian 13)," >&2
        echo "or point CRUXBOARD_PYTHON at it, then run this again." >&2
        exit 1
    fi
    echo "setup: creating .venv with $PY ($("$PY" --version))" >&2
    "$PY" -m venv .venv
fi

stamp=".venv/.cruxboard-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing dependencies (about 30 s the first time)" >&2
    # pip warns about local mirror folders that do not exist here; keep the output readable
    set +e
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" 2>&1 \
        | grep -v "^WARNING: Location" >&2
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" != 0 ]; then
        echo "setup: pip install failed (exit $status); see the messages above" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi

# Compile the group model now (numba keeps it in PyTensor's on-disk cache), so an app process
# loads it in seconds instead of compiling for about a minute. Again only when the model's
# code, the pinned versions or the cache's place (PYTENSOR_FLAGS, NUMBA_CACHE_DIR) change.
compiled=".venv/.cruxboard-compiled"
want=$({ cat pyproject.toml model/*.py priors/*.py priors/*.toml 2>/dev/null
    echo "${PYTENSOR_FLAGS:-}|${NUMBA_CACHE_DIR:-}|$HOME"; } | sha256sum | cut -d' ' -f1)
if [ ! -f "$compiled" ] || [ "$(cat "$compiled")" != "$want" ]; then
    echo "setup: compiling the group model into the on-disk cache (about a minute after an" \
        "install or upgrade, seconds when it is cached)" >&2
    start=$(date +%s)
    if STREAMLIT_LOGGER_LEVEL=error .venv/bin/python -c \
        'from app_pages.common import compile_in_advance; compile_in_advance()' >&2; then
        echo "$want" > "$compiled"
        echo "setup: the group model is compiled ($(( $(date +%s) - start )) s)" >&2
    else
        echo "setup: compiling the group model failed (messages above); the app will" \
            "compile it as it starts" >&2
    fi
fi
echo "$PWD/.venv/bin/python"
