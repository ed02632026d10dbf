#!/usr/bin/env bash
# Python virtualenv with the official OpenTelemetry Python SDK, for the cross-language
# propagation tests (tests/tests/python_propagation.rs drives scripts/python/*.py with it).
#
#   scripts/python-env.sh          create or update the venv, print its python
#
# The venv lives in ${OTEL_PYTHON_VENV:-$HOME/.cache/otel-adapters/venv} and is (re)built only
# when missing or when scripts/python/requirements.txt changed (its hash is stamped in the
# venv). Needs python3 with the venv module (Debian: python3-venv, installed with apt-get when
# missing) and access to PyPI.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQS="$ROOT/scripts/python/requirements.txt"
VENV="${OTEL_PYTHON_VENV:-$HOME/.cache/otel-adapters/venv}"
STAMP="$VENV/otel-adapters.requirements.sha256"

log() { echo "python-env.sh: $*" >&2; }

want=$(sha256sum "$REQS" | cut -d' ' -f1)
if [[ -x $VENV/bin/python3 && -f $STAMP && $(cat "$STAMP") == "$want" ]] &&
    "$VENV/bin/python3" -c 'import opentelemetry.sdk.trace, opentelemetry.propagate' 2>/dev/null; then
    echo "$VENV/bin/python3"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || {
    log "error: python3 not found (Debian: apt-get install python3 python3-venv)"
    exit 1
}
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    log "python3 has no venv/ensurepip module: installing python3-venv"
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv >&2
fi

log "creating $VENV from $REQS"
started=$SECONDS
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV"
"$VENV/bin/python3" -m pip install -q --disable-pip-version-check --no-input -r "$REQS" >&2
"$VENV/bin/python3" -c 'import opentelemetry.sdk.trace, opentelemetry.propagate'
echo "$want" >"$STAMP"
log "venv ready in $((SECONDS - started))s"
echo "$VENV/bin/python3"
