#!/usr/bin/env bash
# Usage: scripts/deps.sh run|test|bench
# Installs the Debian packages that building (cgo: GL and X11 headers) and
# running the app, or running every test, need (libopus for the Opus codec,
# built in with the with_opus_c tag that make passes). As root it runs apt-get;
# otherwise it prints the exact command and fails. Elsewhere than Debian it
# names what to install and goes on.
set -euo pipefail

build=(gcc libc6-dev pkg-config libgl-dev libx11-dev libxcursor-dev libxrandr-dev
       libxinerama-dev libxi-dev libxxf86vm-dev libopus-dev libopusfile-dev)
run=("${build[@]}" libgl1-mesa-dri)
# Xvfb, screenshot tools and xdotool (the mouse) for the real-window tests,
# a private D-Bus session and gnome-keyring for the keyring tests, Chromium
# for the simulator's page,
# and the SIP peers: Kamailio (registrar/proxy), baresip (the other party),
# SIPp (Debian's sip-tester, load), PostgreSQL for team mode, and PulseAudio
# (a null sink plays a tone and captures it back), xdg-utils (xdg-mime) for
# the link-handler registration test, and sipvicious (the SIP scanners
# svmap, svwar and svcrack that the hostile-traffic tests run). The WebRTC
# tests need Kamailio's WebSocket module and rtpengine (userspace; the tests
# start their own on 127.0.0.1 with random ports, so the packaged service,
# ng on localhost:2223, may stay stopped).
test=("${run[@]}" xvfb xauth x11-utils imagemagick xdotool dbus dbus-bin dbus-daemon
      gnome-keyring libsecret-tools chromium kamailio kamailio-tls-modules kamailio-websocket-modules
      rtpengine-daemon baresip-core sip-tester postgresql-15 pulseaudio xdg-utils sipvicious)
# The benchmarks also measure Linphone desktop, the anchor they are
# compared with, in the same run (kamcmd, in kamailio, checks registrations;
# iproute2 brings up loopback in the benchmarks' network namespace).
bench=("${test[@]}" linphone-desktop iproute2)

case "${1:-}" in
  run) want=("${run[@]}") ;;
  test) want=("${test[@]}") ;;
  bench) want=("${bench[@]}") ;;
  *) echo "usage: $0 run|test|bench" >&2; exit 2 ;;
esac

[ "$(uname -s)" = Linux ] || exit 0
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps: not a Debian system; install the equivalents of: ${want[*]}" >&2
  exit 0
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing Debian packages; run: sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
