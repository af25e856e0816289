#!/usr/bin/env bash
# Usage: scripts/bench.sh [go test flags…]   (make bench runs it after scripts/deps.sh bench)
# Every benchmark (go test -run '^$' -bench . -benchmem ./...), with the
# peers the desktop ones need: Xvfb, a private D-Bus session with
# gnome-keyring (the app's secrets go there, never into the user's
# keyring), and, as root, a network namespace with nothing but loopback:
# Linphone desktop, measured as the anchor, probes Internet addresses
# (shared/reference/anchor-baselines.md §3.5), and nothing here may send
# anywhere but 127.0.0.1. BENCH narrows the run (default "."), PKGS the
# packages (default ./...). Extra arguments go to go test.
set -euo pipefail
cd "$(dirname "$0")/.."

export OMNIPHONE_REQUIRE_PEERS=1 OMNIPHONE_BENCH_SANDBOX=1
case "${LANG:-C}" in C|C.*|POSIX) export LANG=en_US.UTF-8 ;; esac
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS
read -r -a pkgs <<<"${PKGS:-./...}"
# with_opus_c links libopus for Opus (make exports GOTAGS).
tags=(-tags "${GOTAGS-with_opus_c,no_emoji}")

# Compile first, with the network: inside the namespace nothing can be
# downloaded, so the go command must find every module in its cache.
go test "${tags[@]}" -run '^$' -count=1 "${pkgs[@]}" >/dev/null
isolate=()
if [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then
  isolate=(unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh)
  export GOPROXY=off
else
  echo "bench: not root or no network namespaces: Linphone desktop will be skipped" >&2
fi

"${isolate[@]}" dbus-run-session -- scripts/with-keyring.sh \
  xvfb-run -a -n $((200 + $$ % 500)) -s "-screen 0 1280x1024x24 -nolisten tcp -noreset" \
  go test "${tags[@]}" -run '^$' -bench "${BENCH:-.}" -benchmem -count=1 "$@" "${pkgs[@]}" \
  2> >(grep -v 'Failed to set fd limit' >&2)
