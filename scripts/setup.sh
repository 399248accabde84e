# Shared set-up for scripts/serve and scripts/test: sourced, not run.
# Idempotent: a second run installs nothing and takes a second.

PYTHON=${PYTHON:-python3}
VENV=.venv

ensure_python_env() {
    local extras=$1 stamp="$VENV/.installed-$1"
    if [ ! -x "$VENV/bin/python" ]; then
        echo "setup: creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    # Reinstall when the dependency list changed since the last install.
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "setup: installing patronkit[$extras] into $VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        "$VENV/bin/python" -m pip install --quiet -e ".[$extras]"
        touch "$stamp"
    fi
}

# ensure_debian_packages CHECK_COMMAND PACKAGE...: install the packages unless CHECK succeeds.
ensure_debian_packages() {
    local check=$1
    shift
    if eval "$check" >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: please install these Debian packages first: $*" >&2
        return 1
    fi
    echo "setup: installing Debian packages: $*"
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "${_APT_UPDATED:-}" ]; then
        apt-get update -qq
        _APT_UPDATED=1
    fi
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
