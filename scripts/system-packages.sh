#!/usr/bin/env bash
# Print the Debian packages of scripts/system-packages.txt, space separated.
# Usage: scripts/system-packages.sh [--peers | --all] [--missing]
#   (default) what the kiosk needs; --peers the optional test peers; --all both;
#   --missing only those dpkg does not list as installed.
# E.g.  sudo apt-get install $(scripts/system-packages.sh)
set -euo pipefail
list="$(dirname "$0")/system-packages.txt"
which=needed
missing=
for arg in "$@"; do
  case "$arg" in
    --peers) which=peers ;;
    --all) which=all ;;
    --missing) missing=1 ;;
    *) echo "usage: $0 [--peers | --all] [--missing]" >&2; exit 2 ;;
  esac
done
out=()
while read -r name tag _; do
  case "$name" in ''|'#'*) continue ;; esac
  [ "$tag" = "#" ] && tag=
  if [ "$which" = needed ] && [ "$tag" = peer ]; then continue; fi
  if [ "$which" = peers ] && [ "$tag" != peer ]; then continue; fi
  if [ -n "$missing" ] && dpkg-query -W -f='${Status}' "$name" 2>/dev/null \
      | grep -q "install ok installed"; then
    continue
  fi
  out+=("$name")
done < "$list"
echo "${out[*]}"
