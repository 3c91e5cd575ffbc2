#!/bin/bash
# Install, upgrade or roll back evkiosk on a Debian 13 / Raspberry Pi OS (64-bit) panel.
#
#   sudo deploy/install.sh [--source DIR|WHEEL] [--cage] [--no-start]
#   sudo deploy/install.sh --backend [--source DIR|WHEEL]   (the operator's server instead)
#   sudo deploy/install.sh --upgrade [--source DIR|WHEEL]
#   sudo deploy/install.sh --rollback
#   add --dry-run to print what would be done
#
# Layout: code in /opt/evkiosk/venv-<stamp> (the "venv" symlink points at the live one),
# config in /etc/evkiosk, journal and backups in /var/lib/evkiosk, logs in the system journal
# (journalctl -u evkiosk). An upgrade stops the kiosk, backs the journal up with the running
# version, installs the new version beside the old one, switches the symlink and starts it:
# the new version migrates the journal when it opens it. --rollback switches back and restores
# the backup taken by the last upgrade (the migrated journal is kept beside it).
set -euo pipefail

# The locations can be moved for a staging tree (the units themselves name the defaults).
PREFIX=${EVKIOSK_PREFIX:-/opt/evkiosk}
CONF=${EVKIOSK_ETC:-/etc/evkiosk}
DATA=${EVKIOSK_DATA:-/var/lib/evkiosk}
UNIT_DIR=${EVKIOSK_UNIT_DIR:-/etc/systemd/system}
USER_NAME=evkiosk
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE=$(dirname "$HERE")
MODE=install
CAGE=0
BACKEND=0
START=1
DRY=0

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --source) SOURCE=${2:?--source needs a directory or wheel}; shift ;;
        --upgrade) MODE=upgrade ;;
        --rollback) MODE=rollback ;;
        --cage) CAGE=1 ;;
        --backend) BACKEND=1 ;;
        --no-start) START=0 ;;
        --dry-run) DRY=1 ;;
        -h|--help) usage ;;
        *) echo "install.sh: unknown option $1" >&2; usage ;;
    esac
    shift
done

say() { echo "== $*"; }
run() {  # every change goes through here, so --dry-run shows the whole plan in order
    if [ "$DRY" = 1 ]; then echo "+ $*"; else "$@"; fi
}
die() { echo "install.sh: $*" >&2; exit 1; }

[ "$DRY" = 1 ] || [ "$(id -u)" = 0 ] || die "run as root (sudo), or add --dry-run"

kiosk_unit() {
    if [ "$CAGE" = 1 ] || [ -e "$UNIT_DIR/evkiosk-cage.service" ]; then
        echo evkiosk-cage.service
    else
        echo evkiosk.service
    fi
}

as_kiosk() { run runuser -u "$USER_NAME" -- "$@"; }

system_packages() {
    say "system packages (Qt runtime libraries, research §1.3/§2.5)"
    local pkgs="python3 python3-venv libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3 libglib2.0-0 libdrm2"
    if [ "$CAGE" = 1 ]; then
        pkgs="$pkgs cage libwayland-client0 libwayland-cursor0 libwayland-egl1"
    fi
    # shellcheck disable=SC2086 # a word list on purpose
    run apt-get install -y --no-install-recommends $pkgs
}

service_user() {
    say "user $USER_NAME (groups dialout, video, input)"
    if ! id "$USER_NAME" >/dev/null 2>&1; then
        run useradd --system --user-group --home-dir "$DATA" --no-create-home \
            --shell /usr/sbin/nologin "$USER_NAME"
    fi
    run usermod -aG dialout,video,input "$USER_NAME"
}

new_venv() {  # prints nothing; sets NEW_VENV
    NEW_VENV="$PREFIX/venv-$(date -u +%Y%m%dT%H%M%SZ)"
    say "code into $NEW_VENV from $SOURCE"
    run install -d -m 0755 "$PREFIX"
    run python3 -m venv "$NEW_VENV"
    run "$NEW_VENV/bin/pip" install --no-cache-dir --upgrade pip
    if [ "$BACKEND" = 1 ]; then
        run "$NEW_VENV/bin/pip" install --no-cache-dir "$SOURCE[backend]"
    else
        run "$NEW_VENV/bin/pip" install --no-cache-dir "$SOURCE"
    fi
    run "$NEW_VENV/bin/evkiosk" --version
}

switch_to() {  # atomically point $PREFIX/venv at $1, remembering the old target
    local target=$1
    if [ -L "$PREFIX/venv" ]; then
        run ln -sfn "$(readlink "$PREFIX/venv")" "$PREFIX/venv.previous"
    fi
    run ln -sfn "$target" "$PREFIX/venv.new"
    run mv -T "$PREFIX/venv.new" "$PREFIX/venv"
}

config_and_data() {
    say "config in $CONF, data in $DATA"
    run install -d -m 0750 -o "$USER_NAME" -g "$USER_NAME" "$DATA" "$DATA/backups"
    run install -d -m 0750 -o root -g "$USER_NAME" "$CONF"
    if [ ! -e "$CONF/station.toml" ]; then
        local sample="$PREFIX/venv/lib/python3*/site-packages/assets/samples"
        # The journal lives in the state directory (writable under ProtectSystem=strict).
        run sh -c "cp $sample/tariff.json '$CONF/tariff.json' && sed \
            -e 's|^journal = .*|journal = \"$DATA/journal.db\"|' \
            $sample/station.toml > '$CONF/station.toml'"
        run chown root:"$USER_NAME" "$CONF/station.toml" "$CONF/tariff.json"
        run chmod 0640 "$CONF/station.toml" "$CONF/tariff.json"  # holds the backend token
        # A fresh sample describes simulated hardware: nothing is started until it is edited.
        START=0
        echo "   edit $CONF/station.toml (devices, backend token), run evkiosk doctor, then"
        echo "   systemctl start $(kiosk_unit)"
    fi
}

units() {
    say "systemd units"
    local unit wanted
    if [ "$BACKEND" = 1 ]; then
        wanted=evkiosk-backend.service
    else
        wanted="$(kiosk_unit) evkiosk-backup.service evkiosk-backup.timer"
    fi
    for unit in $wanted; do
        run sh -c "sed 's|@VENV@|$PREFIX/venv|g' '$HERE/$unit' > '$UNIT_DIR/$unit'"
    done
    if [ "$BACKEND" = 1 ] && ! id evkiosk-backend >/dev/null 2>&1; then
        run useradd --system --user-group --home-dir /var/lib/evkiosk-backend --no-create-home \
            --shell /usr/sbin/nologin evkiosk-backend
    fi
    run systemctl daemon-reload
    if [ "$BACKEND" = 1 ]; then
        run systemctl enable evkiosk-backend.service
    else
        run systemctl enable "$(kiosk_unit)"
        run systemctl enable --now evkiosk-backup.timer
    fi
}

journal_path() {  # the journal named by the installed config, or nothing
    [ -x "$PREFIX/venv/bin/python" ] || return 0
    "$PREFIX/venv/bin/python" -c "from kiosk.config import load_config; \
print(load_config('$CONF/station.toml').journal_path)" 2>/dev/null || true
}

backup_journal() {
    local journal
    journal=$(journal_path)
    if [ -n "$journal" ] && [ -e "$journal" ]; then
        say "journal backup with the running version (before anything changes)"
        as_kiosk "$PREFIX/venv/bin/evkiosk" journal backup "$DATA/backups" \
            --config "$CONF/station.toml"
        # The newest backup is the one a rollback restores.
        run sh -c "ls -t '$DATA'/backups/*.db | head -n 1 > '$DATA/backups/LAST'"
    else
        say "no journal yet: nothing to back up"
    fi
}

start_and_watch() {
    local unit
    unit=$(kiosk_unit)
    if [ "$BACKEND" = 1 ]; then unit=evkiosk-backend.service; fi
    if [ "$START" = 0 ]; then say "not started (--no-start): systemctl start $unit"; return; fi
    say "start $unit (a newer version migrates the journal when it opens it)"
    run systemctl start "$unit"
    if [ "$DRY" = 1 ]; then return; fi
    sleep 10
    if ! systemctl is-active --quiet "$unit"; then
        echo "install.sh: $unit is not running; see journalctl -u $unit -n 50" >&2
        [ "$MODE" = upgrade ] && echo "  to go back: $0 --rollback" >&2
        exit 1
    fi
}

doctor() {
    say "doctor (as the kiosk's user would see it)"
    run "$PREFIX/venv/bin/evkiosk" doctor --config "$CONF/station.toml" --user "$USER_NAME" || true
}

case "$MODE" in
    install)
        if [ "$BACKEND" = 1 ]; then
            run apt-get install -y --no-install-recommends python3 python3-venv
            new_venv
            switch_to "$NEW_VENV"
            units
            echo "   set the database and public URL in $CONF/backend.env (see docs/backend.md)"
        else
            system_packages
            service_user
            new_venv
            switch_to "$NEW_VENV"
            config_and_data
            units
            doctor
        fi
        start_and_watch
        ;;
    upgrade)
        [ -L "$PREFIX/venv" ] || [ "$DRY" = 1 ] || die "no installation in $PREFIX (run without --upgrade)"
        say "stop the kiosk"
        run systemctl stop "$(kiosk_unit)"
        backup_journal
        new_venv
        switch_to "$NEW_VENV"
        units
        start_and_watch
        echo "the previous version stays in $(readlink "$PREFIX/venv.previous" 2>/dev/null || echo "$PREFIX/venv.previous")"
        ;;
    rollback)
        [ -L "$PREFIX/venv.previous" ] || [ "$DRY" = 1 ] || die "no previous version to go back to"
        last=$(cat "$DATA/backups/LAST" 2>/dev/null || true)
        say "stop the kiosk"
        run systemctl stop "$(kiosk_unit)"
        switch_to "$(readlink "$PREFIX/venv.previous" 2>/dev/null || echo "$PREFIX/venv.previous")"
        if [ -n "$last" ]; then
            say "restore $last (the migrated journal is kept beside it as .replaced-*)"
            as_kiosk "$PREFIX/venv/bin/evkiosk" journal restore "$last" --config "$CONF/station.toml"
        fi
        start_and_watch
        echo "sessions recorded after the upgrade are in the kept journal: evkiosk status --journal FILE"
        ;;
esac
say "done"
