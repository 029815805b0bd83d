#!/bin/sh
# install.sh — install renewer for the current user (no root needed), or set up
# a contributor environment with --dev.
#
#   ./install.sh             venv in ~/.local/share/renewer/venv, ~/.local/bin/renewer,
#                            systemd user units, a commented config (never overwritten);
#                            enables the timer when the config validates
#   ./install.sh --dev       .venv in this checkout: editable install + test tools
#   ./install.sh --uninstall remove what was installed; keep config and state
#   ./install.sh --uninstall --purge   also remove config and state
#
# Idempotent: running it again upgrades the venv and units and changes nothing else.
set -eu

say() { printf 'renewer-install: %s\n' "$*"; }
err() { printf 'renewer-install: error: %s\n' "$*" >&2; exit 1; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || err "need '$1' (not found on PATH)"; }
ensure() { "$@" || err "command failed: $*"; }

SRC_DIR=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
HOME_DIR=${HOME:?HOME is not set}
DATA_DIR=${XDG_DATA_HOME:-$HOME_DIR/.local/share}/renewer
CONFIG_DIR=${XDG_CONFIG_HOME:-$HOME_DIR/.config}/renewer
STATE_DIR=${XDG_STATE_HOME:-$HOME_DIR/.local/state}/renewer
UNIT_DIR=${XDG_CONFIG_HOME:-$HOME_DIR/.config}/systemd/user
BIN_DIR=$HOME_DIR/.local/bin
VENV=$DATA_DIR/venv
UNITS="renewer.service renewer.timer renewer-notify@.service"

check_python() {
    need_cmd "$PYTHON"
    "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
        || err "renewer needs Python 3.11 or newer ($PYTHON is $("$PYTHON" -V 2>&1))"
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null \
        || err "Python's venv support is missing; on Debian/Ubuntu: sudo apt-get install python3-venv"
}

have_libsystemd() {
    command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libsystemd 2>/dev/null
}

install_build_deps() {
    # systemd-python builds from source against libsystemd; as root we can add it.
    have_libsystemd && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing libsystemd-dev and pkg-config (for systemd-python)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q libsystemd-dev pkg-config >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 \
                 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libsystemd-dev pkg-config >/dev/null 2>&1; } \
            || say "could not install libsystemd-dev; journald support stays off (logs go to stderr)"
    fi
}

extras() {
    # $1: extras always wanted (may be empty). journald support when it can build.
    if have_libsystemd; then
        if [ -n "$1" ]; then printf '[%s,journal]' "$1"; else printf '[journal]'; fi
    elif [ -n "$1" ]; then
        printf '[%s]' "$1"
    fi
}

make_venv() {
    # $1: venv path
    if [ ! -x "$1/bin/python" ]; then
        say "creating venv $1"
        ensure "$PYTHON" -m venv "$1"
    fi
    ensure "$1/bin/python" -m pip install -q --upgrade pip
}

compile_bytecode() {
    # A cold bytecode cache costs ~700 ms a run; compile once here.
    "$1/bin/python" -m compileall -q -j 0 "$1/lib" >/dev/null 2>&1 || true
}

install_dev() {
    check_python
    install_build_deps
    make_venv "$SRC_DIR/.venv"
    say "installing renewer (editable) with test tools into .venv"
    ensure "$SRC_DIR/.venv/bin/python" -m pip install -q -e "$SRC_DIR$(extras dev)"
    compile_bytecode "$SRC_DIR/.venv"
    say "done: run the tests with tests/check.sh"
}

install_units() {
    mkdir -p "$UNIT_DIR"
    for unit in $UNITS; do
        sed -e "s|%h/.local/share/renewer|$DATA_DIR|g" \
            "$SRC_DIR/units/$unit" >"$UNIT_DIR/$unit.tmp"
        mv "$UNIT_DIR/$unit.tmp" "$UNIT_DIR/$unit"
    done
    mkdir -p "$DATA_DIR/runbooks"
    cp "$SRC_DIR"/runbooks/*.md "$DATA_DIR/runbooks/"
}

install_config() {
    mkdir -p "$CONFIG_DIR"
    chmod 700 "$CONFIG_DIR"
    if [ -e "$CONFIG_DIR/config.yaml" ]; then
        say "keeping existing config $CONFIG_DIR/config.yaml"
        return 0
    fi
    (
        umask 077
        if [ -n "${VAULT_ADDR:-}" ]; then
            sed "s|^  # addr: https://vault.example.com:8200|  addr: $VAULT_ADDR|" \
                "$SRC_DIR/docs/config.example.yaml" >"$CONFIG_DIR/config.yaml.tmp"
        else
            cat "$SRC_DIR/docs/config.example.yaml" >"$CONFIG_DIR/config.yaml.tmp"
        fi
        chmod 600 "$CONFIG_DIR/config.yaml.tmp"
        mv "$CONFIG_DIR/config.yaml.tmp" "$CONFIG_DIR/config.yaml"
    )
    say "wrote a commented config: $CONFIG_DIR/config.yaml (edit it, then run: renewer check)"
}

user_manager_reachable() {
    command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1
}

enable_timer() {
    if ! user_manager_reachable; then
        say "no systemd user manager reachable from here; when there is one, run:"
        say "  systemctl --user daemon-reload && systemctl --user enable --now renewer.timer"
        say "  loginctl enable-linger $(id -un)   # so the timer runs without a login session"
        return 0
    fi
    systemctl --user daemon-reload
    if "$VENV/bin/renewer" check >/dev/null 2>&1; then
        systemctl --user enable --now renewer.timer >/dev/null 2>&1 \
            && say "enabled renewer.timer (systemctl --user list-timers renewer.timer)"
    else
        say "the config does not validate yet, so the timer is not enabled; fix it with:"
        say "  renewer check   then   systemctl --user enable --now renewer.timer"
    fi
    if command -v loginctl >/dev/null 2>&1 \
        && [ "$(loginctl show-user "$(id -un)" -p Linger --value 2>/dev/null)" != "yes" ]; then
        say "for the timer to run while you are logged out: loginctl enable-linger $(id -un)"
    fi
}

install_user() {
    check_python
    make_venv "$VENV"
    say "installing renewer into $VENV"
    ensure "$VENV/bin/python" -m pip install -q --upgrade "$SRC_DIR$(extras '')"
    compile_bytecode "$VENV"
    mkdir -p "$BIN_DIR"
    ln -sf "$VENV/bin/renewer" "$BIN_DIR/renewer"
    install_units
    install_config
    enable_timer
    say "installed: $BIN_DIR/renewer ($("$VENV/bin/renewer" --version))"
    say "shell banner (add to ~/.bashrc): command -v renewer >/dev/null && renewer status --brief"
    case ":$PATH:" in
        *":$BIN_DIR:"*) ;;
        *) say "note: $BIN_DIR is not on PATH; add it, or call $BIN_DIR/renewer" ;;
    esac
}

uninstall() {
    # $1: "purge" to remove config and state as well
    if user_manager_reachable; then
        systemctl --user disable --now renewer.timer >/dev/null 2>&1 || true
    fi
    for unit in $UNITS; do rm -f "$UNIT_DIR/$unit"; done
    if user_manager_reachable; then systemctl --user daemon-reload || true; fi
    if [ -L "$BIN_DIR/renewer" ]; then rm -f "$BIN_DIR/renewer"; fi
    rm -rf "$VENV" "$DATA_DIR/runbooks"
    rmdir "$DATA_DIR" 2>/dev/null || true
    if [ "$1" = "purge" ]; then
        rm -rf "$CONFIG_DIR" "$STATE_DIR"
        say "removed renewer, its config and its state"
    else
        say "removed renewer; kept $CONFIG_DIR and $STATE_DIR (use --purge to remove them)"
    fi
}

main() {
    mode=user
    purge=""
    for arg in "$@"; do
        case "$arg" in
            --dev) mode=dev ;;
            --uninstall) mode=uninstall ;;
            --purge) purge=purge ;;
            -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
            *) err "unknown option: $arg (see --help)" ;;
        esac
    done
    case "$mode" in
        dev) install_dev ;;
        uninstall) uninstall "$purge" ;;
        *) install_user ;;
    esac
}

main "$@"
