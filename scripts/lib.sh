# Shared helpers of the project's scripts (sourced, not run).
# Everything these scripts need is installed here, idempotently; caches live outside
# the clone under ~/.cache/searchgate so a fresh clone reuses them.

SG_CACHE="${SG_CACHE:-$HOME/.cache/searchgate}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$SG_CACHE/target}"
mkdir -p "$SG_CACHE"

sg_log() { echo "[searchgate] $*" >&2; }

# Debian packages the scripts and tests use. Installed only when a command is missing.
sg_apt_install() {
    sg_log "installing $*"
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    fi
}

sg_ensure_system() {
    local need=()
    command -v curl >/dev/null || need+=(curl)
    command -v jq >/dev/null || need+=(jq)
    command -v xz >/dev/null || need+=(xz-utils)
    command -v java >/dev/null || need+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null || need+=(maven)
    command -v python3 >/dev/null || need+=(python3 python3-venv)
    command -v cc >/dev/null || need+=(build-essential)
    if ((${#need[@]})); then
        sg_apt_install "${need[@]}"
    fi
}

# nginx, the reference proxy of the gateway benchmark (P5); only the full benchmark needs it.
sg_ensure_nginx() {
    command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || sg_apt_install nginx-light
}

# The Rust toolchain and the components the checks use.
sg_ensure_rust() {
    if ! command -v cargo >/dev/null; then
        [[ -x "$HOME/.cargo/bin/cargo" ]] && export PATH="$HOME/.cargo/bin:$PATH"
    fi
    command -v cargo >/dev/null || { sg_log "cargo not found: install Rust (rustup) first"; exit 1; }
    if command -v rustup >/dev/null; then
        local have
        have="$(rustup component list --installed 2>/dev/null || true)"
        for c in rustfmt clippy; do
            grep -q "^$c" <<<"$have" || rustup component add "$c" >/dev/null 2>&1 || sg_log "could not add $c"
        done
    fi
}
