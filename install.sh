#!/bin/sh
# install.sh — install renewer for the current user (no root needed), or set up
# a contributor environment with --dev.
#
#   ./install.sh                     venv in ~/.local/share/renewer/venv, ~/.local/bin/renewer,
#                                    the systemd user units, a commented config (never
#                                    overwritten); enables the timer when `renewer check` passes
#   ./install.sh --dev               .venv in this checkout: editable install + test tools
#                                    (as root: apt-installs what systemd-python needs to build)
#   ./install.sh --uninstall         remove what was installed; keep config and state
#   ./install.sh --uninstall --purge also remove the config and the state (ledger, state.json)
#
# Idempotent: running it again upgrades the venv and the units and changes nothing
# else. Honours XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME and PYTHON (default
# python3). Exit 0 on success, 1 on failure, 2 on a usage error.
set -eu

say() { printf 'renewer-install: %s\n' "$*"; }
err() { printf 'renewer-install: error: %s\n' "$*" >&2; exit 1; }
usage_err() { printf 'renewer-install: error: %s (see --help)\n' "$*" >&2; exit 2; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || err "need '$1' (not found on PATH)"; }
ensure() { "$@" || err "command failed: $*"; }

SRC_DIR=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
HOME_DIR=${HOME:?HOME is not set}
DATA_DIR=${XDG_DATA_HOME:-$HOME_DIR/.local/share}/renewer
CONFIG_DIR=${XDG_CONFIG_HOME:-$HOME_DIR/.config}/renewer
STATE_DIR=${XDG_STATE_HOME:-$HOME_DIR/.local/state}/renewer
CACHE_DIR=${XDG_CACHE_HOME:-$HOME_DIR/.cache}/renewer
UNIT_DIR=${XDG_CONFIG_HOME:-$HOME_DIR/.config}/systemd/user
BIN_DIR=$HOME_DIR/.local/bin
VENV=$DATA_DIR/venv
UNITS="renewer.service renewer.timer renewer-notify@.service renewer-retry@.timer"
# systemd keeps the Persistent= stamp of renewer.timer here.
TIMER_STAMP_DIR=${XDG_DATA_HOME:-$HOME_DIR/.local/share}/systemd/timers
# Every directory install.sh created (one per line), kept in the state dir: uninstall
# removes them again once empty, and never one that was there before.
MANIFEST=$STATE_DIR/install-dirs
CREATED_DIRS=""
NL='
'
BANNER='command -v renewer >/dev/null 2>&1 && renewer status --brief'

make_dirs() {
    # mkdir -p each argument, remembering which directories this creates.
    for target in "$@"; do
        dir=$target
        missing=""
        while [ ! -d "$dir" ]; do
            missing="$dir$NL$missing"
            dir=$(dirname "$dir")
        done
        ensure mkdir -p "$target"
        CREATED_DIRS="$CREATED_DIRS$missing"
    done
}

record_created_dirs() {
    [ -n "$CREATED_DIRS" ] || return 0
    { cat "$MANIFEST" 2>/dev/null || true; printf '%s' "$CREATED_DIRS"; } | sed '/^$/d' | sort -u \
        >"$MANIFEST.tmp"
    mv "$MANIFEST.tmp" "$MANIFEST"
}

remove_created_dirs() {
    # $1: the manifest's content. Deepest first; only empty directories go.
    printf '%s\n' "$1" | awk 'NF { print length($0) "\t" $0 }' | sort -rn | cut -f2- \
        | while IFS= read -r dir; do rmdir "$dir" 2>/dev/null || true; done
}

# --- Python ------------------------------------------------------------------

check_python() {
    need_cmd "$PYTHON"
    "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null \
        || err "renewer needs Python 3.11 or newer, and '$PYTHON' is not that ($("$PYTHON" -V 2>&1 || true)); set PYTHON=/path/to/python3.11"
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null \
        || err "Python's venv support is missing for $PYTHON; on Debian/Ubuntu: sudo apt-get install python3-venv"
}

make_venv() {
    # $1: venv path. Created once; later runs reuse it (pip upgrades what is in it).
    if [ ! -x "$1/bin/python" ]; then
        say "creating venv $1"
        "$PYTHON" -m venv "$1" \
            || err "could not create a venv with $PYTHON; on Debian/Ubuntu: sudo apt-get install python3-venv"
    fi
}

compile_bytecode() {
    # A cold bytecode cache costs ~700 ms a run (and PYTHONDONTWRITEBYTECODE is
    # common in dev shells): compile everything once, here.
    "$1/bin/python" -m compileall -q -j 0 "$1/lib" >/dev/null 2>&1 || true
}

# --- journald support (systemd-python builds from source) -------------------

have_journal_build_deps() {
    command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libsystemd 2>/dev/null \
        && { command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; } \
        && "$PYTHON" -c 'import os, sys, sysconfig
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)' \
            2>/dev/null
}

missing_dev_packages() {
    # The Debian packages --dev needs and lacks: venv support and the build
    # dependencies of systemd-python.
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || printf ' python3-venv'
    { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libsystemd 2>/dev/null; } \
        || printf ' libsystemd-dev pkg-config'
    { command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; } || printf ' gcc'
    "$PYTHON" -c 'import os, sys, sysconfig
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)' \
        2>/dev/null || printf ' python3-dev'
}

install_dev_packages() {
    # As root on Debian/Ubuntu (CI, a fresh container): add what is missing.
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 || return 0
    packages=$(missing_dev_packages)
    [ -n "$packages" ] || return 0
    say "installing${packages} (apt-get, as root)"
    # shellcheck disable=SC2086 # word splitting of the package list is wanted
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $packages >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 \
             && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $packages >/dev/null 2>&1; } \
        || say "could not install${packages}; continuing without what they provide"
}

venv_pip() {
    # pip install into $venv. --no-compile: compile_bytecode does it afterwards,
    # on every core (pip uses one).
    "$venv/bin/python" -m pip install -q --no-compile --disable-pip-version-check "$@"
}

pip_install() {
    # $1: venv, $2: "runtime" or "dev" (which lock), $3: "editable" or "copy".
    # Everything comes from the hash-locked requirements/*.txt (refreshed by
    # requirements/refresh.sh): what a user installs next month is what CI ran.
    # renewer itself is built with the locked setuptools (--no-build-isolation),
    # so nothing unlocked is fetched to build it either.
    venv=$1 lock=$2 how=$3
    ensure venv_pip --require-hashes -r "$SRC_DIR/requirements/$lock.txt"
    # journald support needs systemd-python, which builds from source: try it
    # when its build dependencies are there, and go on without it, saying so.
    if have_journal_build_deps; then
        venv_pip --require-hashes --no-build-isolation -r "$SRC_DIR/requirements/journal.txt" \
            || say "building systemd-python failed; installing without journald support"
    else
        say "journald support off: systemd-python cannot build here (needs libsystemd-dev, pkg-config, gcc, python3-dev);"
        say "  renewer logs to stderr instead, which systemd also captures"
    fi
    if [ "$how" = editable ]; then
        ensure venv_pip --no-deps --no-build-isolation -e "$SRC_DIR"
        return 0
    fi
    # A plain `pip install DIR` builds inside DIR (build/, renewer.egg-info/):
    # build from a copy so the checkout stays as it was.
    copy=$(mktemp -d)
    cp -R "$SRC_DIR/renewer" "$SRC_DIR/pyproject.toml" "$SRC_DIR/README.md" "$copy/"
    venv_pip --no-deps --no-build-isolation --force-reinstall "$copy" \
        || { rm -rf "$copy"; err "command failed: pip install renewer from $SRC_DIR"; }
    rm -rf "$copy"
}

# --- --dev -------------------------------------------------------------------

install_dev() {
    need_cmd "$PYTHON"
    install_dev_packages
    check_python
    make_venv "$SRC_DIR/.venv"
    say "installing renewer (editable) with test tools into $SRC_DIR/.venv"
    pip_install "$SRC_DIR/.venv" dev editable
    compile_bytecode "$SRC_DIR/.venv"
    # The editable package runs from this checkout: compile it too (tests start
    # many renewer processes).
    "$SRC_DIR/.venv/bin/python" -m compileall -q -j 0 "$SRC_DIR/renewer" >/dev/null 2>&1 || true
    say "done: run the tests with tests/check.sh"
}

# --- user install ------------------------------------------------------------

check_paths() {
    # Unit files split ExecStart= on whitespace and treat % as a specifier.
    case "$DATA_DIR" in
        *[[:space:]]*|*%*) err "the install directory $DATA_DIR contains a space or %; set XDG_DATA_HOME to a plain path" ;;
    esac
}

sed_escape() {
    printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'
}

source_stamp() {
    # What decides the installed program: this source tree, the Python, and
    # whether journald support can build. Same stamp, same result: skip pip.
    {
        "$PYTHON" -V 2>&1
        have_journal_build_deps && echo journal
        find "$SRC_DIR/renewer" "$SRC_DIR/requirements" "$SRC_DIR/pyproject.toml" "$SRC_DIR/README.md" -type f \
            ! -path '*/__pycache__/*' -exec cksum {} + | LC_ALL=C sort
    } | cksum
}

install_program() {
    check_python
    check_paths
    make_dirs "$DATA_DIR"
    make_venv "$VENV"
    stamp=$(source_stamp)
    if [ "$(cat "$VENV/.renewer-source" 2>/dev/null || true)" = "$stamp" ] \
        && "$VENV/bin/renewer" --version >/dev/null 2>&1; then
        say "renewer in $VENV is up to date with $SRC_DIR"
    else
        say "installing renewer into $VENV"
        rm -f "$VENV/.renewer-source"
        pip_install "$VENV" runtime copy
        compile_bytecode "$VENV"
        printf '%s\n' "$stamp" >"$VENV/.renewer-source"
    fi
    make_dirs "$BIN_DIR"
    if [ -e "$BIN_DIR/renewer" ] && [ ! -L "$BIN_DIR/renewer" ]; then
        say "keeping $BIN_DIR/renewer: it is not a link made by this script; call $VENV/bin/renewer"
    else
        ln -sf "$VENV/bin/renewer" "$BIN_DIR/renewer"
    fi
}

install_units() {
    # The shipped units say %h/.local/share/renewer; fill in the real directory.
    make_dirs "$UNIT_DIR" "$TIMER_STAMP_DIR"
    data=$(sed_escape "$DATA_DIR")
    for unit in $UNITS; do
        sed -e "s|%h/.local/share/renewer|$data|g" "$SRC_DIR/units/$unit" >"$UNIT_DIR/.$unit.tmp"
        mv "$UNIT_DIR/.$unit.tmp" "$UNIT_DIR/$unit"
    done
    # Documentation= points at these copies (a checkout may move or go away).
    make_dirs "$DATA_DIR/runbooks" "$DATA_DIR/docs"
    cp "$SRC_DIR"/runbooks/*.md "$DATA_DIR/runbooks/"
    cp "$SRC_DIR"/docs/*.md "$DATA_DIR/docs/"
}

install_config() {
    # Written once, never overwritten: the config is the user's. The state and cache
    # dirs are renewer's (0700); made here so uninstall knows it made them.
    make_dirs "$CONFIG_DIR" "$STATE_DIR" "$CACHE_DIR"
    chmod 700 "$CONFIG_DIR" "$STATE_DIR" "$CACHE_DIR"
    if [ -e "$CONFIG_DIR/config.yaml" ]; then
        say "keeping the existing config $CONFIG_DIR/config.yaml"
        return 0
    fi
    (
        umask 077
        if [ -n "${VAULT_ADDR:-}" ]; then
            addr=$(sed_escape "$VAULT_ADDR")
            sed -e "s|^  # addr: https://vault.example.com:8200$|  addr: $addr|" \
                "$SRC_DIR/docs/config.example.yaml" >"$CONFIG_DIR/.config.yaml.tmp"
        else
            cat "$SRC_DIR/docs/config.example.yaml" >"$CONFIG_DIR/.config.yaml.tmp"
        fi
        chmod 600 "$CONFIG_DIR/.config.yaml.tmp"
        mv "$CONFIG_DIR/.config.yaml.tmp" "$CONFIG_DIR/config.yaml"
    )
    say "wrote a commented config: $CONFIG_DIR/config.yaml${VAULT_ADDR:+ (vault.addr: $VAULT_ADDR)}"
    say "  edit its tokens: section, then run: renewer check"
}

user_manager_reachable() {
    command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1
}

linger_hint() {
    user=$(id -un)
    if command -v loginctl >/dev/null 2>&1 \
        && [ "$(loginctl show-user "$user" -p Linger --value 2>/dev/null || true)" = "yes" ]; then
        return 0
    fi
    say "so the timer also runs while you are logged out (a VM nobody is logged into):"
    say "  loginctl enable-linger $user"
}

enable_timer() {
    if ! user_manager_reachable; then
        say "no systemd user manager is reachable from here, so the timer is not enabled."
        say "next steps, in a login session of this user:"
        say "  renewer check"
        say "  systemctl --user daemon-reload"
        say "  systemctl --user enable --now renewer.timer"
        linger_hint
        return 0
    fi
    ensure systemctl --user daemon-reload
    if check=$("$VENV/bin/renewer" check 2>&1); then
        printf '%s\n' "$check" | sed 's/^/  /'
        if printf '%s\n' "$check" | grep -q '^warn  tokens: none configured'; then
            # A daily run with nothing to do would look like protection that is not there.
            say "the config has nothing to keep alive yet, so the timer is not enabled;"
            say "  once its tokens: (or credentials:) are filled in: renewer check && systemctl --user enable --now renewer.timer"
        else
            ensure systemctl --user enable --now renewer.timer
            say "enabled renewer.timer (systemctl --user list-timers renewer.timer)"
        fi
    else
        printf '%s\n' "$check" | sed 's/^/  /'
        say "renewer check did not pass, so the timer is not enabled; once it passes:"
        say "  systemctl --user enable --now renewer.timer"
    fi
    linger_hint
}

install_user() {
    install_program
    install_units
    install_config
    record_created_dirs
    enable_timer
    say "installed: $BIN_DIR/renewer ($("$VENV/bin/renewer" --version))"
    say "login banner (one line only when something needs you), add to ~/.bashrc or ~/.profile:"
    say "  $BANNER"
    case ":$PATH:" in
        *":$BIN_DIR:"*) ;;
        *) say "note: $BIN_DIR is not on PATH; add it, or call $BIN_DIR/renewer" ;;
    esac
}

# --- uninstall ---------------------------------------------------------------

uninstall_token_helper() {
    # ~/.vault / ~/.bao must stop naming the token helper before the venv goes:
    # a helper that cannot run makes every vault/bao command fail.
    [ -e "$DATA_DIR/token-helper" ] || return 0
    if [ -x "$VENV/bin/renewer" ] && "$VENV/bin/renewer" token-helper uninstall; then
        return 0
    fi
    say "warning: remove the token_helper line from ~/.vault and ~/.bao by hand (it names $DATA_DIR/token-helper)"
}

uninstall() {
    # $1: "purge" to remove the config and the state as well
    created=$(cat "$MANIFEST" 2>/dev/null || true)
    if user_manager_reachable; then
        systemctl --user disable --now renewer.timer >/dev/null 2>&1 || true
        systemctl --user stop 'renewer-retry@*.timer' renewer.service >/dev/null 2>&1 || true
    fi
    for unit in $UNITS; do rm -f "$UNIT_DIR/$unit"; done
    # What `disable` removes, for when no user manager was reachable to do it.
    rm -f "$UNIT_DIR/timers.target.wants/renewer.timer"
    rmdir "$UNIT_DIR/timers.target.wants" "$UNIT_DIR" 2>/dev/null || true
    # systemd's Persistent= stamp for the timer.
    rm -f "$TIMER_STAMP_DIR/stamp-renewer.timer"
    if user_manager_reachable; then
        systemctl --user daemon-reload || true
        systemctl --user reset-failed renewer.service 'renewer-notify@*.service' >/dev/null 2>&1 || true
    fi
    if [ -L "$BIN_DIR/renewer" ] && [ "$(readlink "$BIN_DIR/renewer")" = "$VENV/bin/renewer" ]; then
        rm -f "$BIN_DIR/renewer"
    fi
    uninstall_token_helper
    rm -rf "$VENV" "$DATA_DIR/runbooks" "$DATA_DIR/docs" "$CACHE_DIR"
    if [ "$1" = "purge" ]; then
        # The encrypted store is useless without its key, which lives in the config dir.
        # kept/ holds the login tokens the CLI token helper set aside.
        rm -rf "$CONFIG_DIR" "$STATE_DIR" "$DATA_DIR/store" "$DATA_DIR/kept"
        rmdir "$DATA_DIR" 2>/dev/null || true
        remove_created_dirs "$created"
        say "removed renewer, its config, its state and its secret store"
    else
        rmdir "$DATA_DIR" 2>/dev/null || true  # kept when it holds the secret store
        remove_created_dirs "$created"
        say "removed renewer; kept $CONFIG_DIR, $STATE_DIR and any secret store in $DATA_DIR (./install.sh --uninstall --purge removes them)"
    fi
}

main() {
    mode=user
    purge=""
    for arg in "$@"; do
        case "$arg" in
            --dev) [ "$mode" = user ] || usage_err "--dev and --uninstall exclude each other"; mode=dev ;;
            --uninstall) [ "$mode" = user ] || usage_err "--dev and --uninstall exclude each other"; mode=uninstall ;;
            --purge) purge=purge ;;
            -h|--help) sed -n '2,/^set /p' "$0" | sed -e '/^set /d' -e 's/^# \{0,1\}//'; exit 0 ;;
            *) usage_err "unknown option: $arg" ;;
        esac
    done
    # Purging deletes the config and the ledger of tokens renewer minted: only
    # on purpose, never implied by a typo of --uninstall.
    if [ -n "$purge" ] && [ "$mode" != uninstall ]; then
        usage_err "--purge only goes with --uninstall (./install.sh --uninstall --purge)"
    fi
    case "$mode" in
        dev) install_dev ;;
        uninstall) uninstall "$purge" ;;
        *) install_user ;;
    esac
}

main "$@"
