#!/usr/bin/env bash
# Usage: dbus-run-session -- scripts/with-keyring.sh CMD...
# Starts gnome-keyring's Secret Service on the current (private) session bus
# with a fresh, unlocked "login" collection, waits until it is really ready
# (the daemon's --unlock returns before it owns the bus name; see
# shared/reference/feasibility-fyne.md §5), runs CMD, stops the daemon.
set -u
: "${DBUS_SESSION_BUS_ADDRESS:?run me under dbus-run-session}"
KR=$(mktemp -d)
# Only the daemon gets these XDG dirs: exporting XDG_CACHE_HOME to go test
# would give it an empty build cache.
echo -n "omniphone-test" | env XDG_DATA_HOME="$KR" XDG_CACHE_HOME="$KR/cache" \
  gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
GKD=$!
ready=0
for _ in $(seq 1 200); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
       org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' &&
     dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets/collection/login \
       org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Collection string:Locked 2>/dev/null | grep -q 'boolean false'
  then ready=1; break; fi
  sleep 0.05
done
[ "$ready" = 1 ] || echo "with-keyring: the Secret Service did not become ready in 10 s" >&2
"$@"; rc=$?
kill "$GKD" 2>/dev/null; wait "$GKD" 2>/dev/null
rm -rf "$KR"
exit $rc
