#!/usr/bin/env bash
# Usage: scripts/test.sh   (make test runs it after scripts/deps.sh test)
# Every test, with its real peers: a private D-Bus session with
# gnome-keyring's Secret Service, an Xvfb display for the real-window test,
# Chromium for the simulator's page. Tests that need a peer fail rather
# than skip here (OMNIPHONE_REQUIRE_PEERS=1). Then the race detector on the
# packages without cgo UI, and a short fuzz of every parser.
set -euo pipefail
cd "$(dirname "$0")/.."

export OMNIPHONE_REQUIRE_PEERS=1
# The keyring below is a fresh one on a private D-Bus session: tests may
# write the app's own secrets into it (never into a user's keyring).
export OMNIPHONE_TEST_KEYRING=private
export OMNIPHONE_ARTIFACTS="$PWD/artifacts"
case "${LANG:-C}" in C|C.*|POSIX) export LANG=en_US.UTF-8 ;; esac
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS
# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# report a spurious "context deadline exceeded" when the time runs out while
# a worker is mid-input (golang/go#75804, fixed in Go 1.27).
FUZZTIME=${FUZZTIME:-20000x}
# PKGS narrows the run while you work on a few packages (default: all).
read -r -a pkgs <<<"${PKGS:-./...}"
# Build tags for every step: with_opus_c (Opus) and no_emoji (make
# exports GOTAGS; GOTAGS= tests the build without it).
tags=(-tags "${GOTAGS-with_opus_c,no_emoji}")

step() { printf '\n== %s\n' "$*"; }

step "go vet"
go vet "${tags[@]}" "${pkgs[@]}"

step "build without the Opus tag (opus is then refused with a clear error)"
go build ./...
go test -count=1 -run '^(TestConfigOpusIssue10|TestCodecOrderIssue10)$' ./sip

step "go test (Secret Service on a private D-Bus, Xvfb)"
# -noreset: by default Xvfb resets when its last client disconnects, and an
# app that connects during the reset fails with "Failed to open display"
# (seen when one window test's app quit as the next one started).
dbus-run-session -- scripts/with-keyring.sh \
  xvfb-run -a -s "-screen 0 1280x1024x24 -nolisten tcp -noreset" \
  go test "${tags[@]}" -count=1 "${pkgs[@]}" 2> >(grep -v 'Failed to set fd limit' >&2)

step "go test -race (packages without the cgo UI)"
# PKGS=./cmd/omniphone leaves none: go test would then test the directory.
mapfile -t racy < <(go list "${tags[@]}" "${pkgs[@]}" | grep -v -e '/app$' -e '/cmd/omniphone$' || true)
if [ "${#racy[@]}" -gt 0 ]; then
  dbus-run-session -- scripts/with-keyring.sh go test "${tags[@]}" -race -count=1 "${racy[@]}" \
    2> >(grep -v 'Failed to set fd limit' >&2)
else
  echo "none in PKGS"
fi

step "fuzz ($FUZZTIME inputs each)"
fuzzlog=$(mktemp); trap 'rm -f "$fuzzlog"' EXIT
# shellcheck disable=SC2046
grep -l '^func Fuzz' $(go list "${tags[@]}" -f '{{$d := .Dir}}{{range .TestGoFiles}}{{$d}}/{{.}} {{end}}' "${pkgs[@]}") 2>/dev/null | while read -r file; do
  dir=$(dirname "$file")
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -d' ' -f2); do
    echo "fuzz $dir $fn"
    if ! go test "${tags[@]}" -run '^$' -fuzz "^${fn}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 100x "$dir" >"$fuzzlog" 2>&1; then
      cat "$fuzzlog"; exit 1
    fi
  done
done
echo "fuzz: no failures"
