#!/usr/bin/env bash
# Debian packages the app needs outside Python: Qt's X11 platform plugin libraries (for a real
# window), Xvfb (a virtual display for screenshot checks) and poppler-utils (PDF -> PNG in the
# report tests). Installed with apt when run as root and missing; otherwise we print the command.
set -u
command -v dpkg >/dev/null 2>&1 || exit 0   # not Debian/Ubuntu: nothing we can check
pkgs=(libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 libxkbcommon0 libxkbcommon-x11-0
      libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0 libxcb-render-util0
      libxcb-image0 libxcb-xinerama0 libxcb-xkb1 libx11-xcb1 poppler-utils xvfb)
# 'test': the suite also needs PostgreSQL's server binaries (it starts its own throwaway server).
[ "${1:-}" = test ] && pkgs+=(postgresql)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system libraries for Qt and reports: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [[ " ${missing[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    # Binaries only: no system-wide cluster listening on a port (the tests start their own).
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
  fi
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "warning: apt-get could not install ${missing[*]}; the dashboard window or PDF checks may not work."
  fi
else
  echo "note: missing system packages: ${missing[*]}"
  echo "      install them with: sudo apt-get install ${missing[*]}"
fi
exit 0
