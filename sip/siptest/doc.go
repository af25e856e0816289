// Package siptest is for tests only: it starts real SIP peers on 127.0.0.1
// — Kamailio with digest users, baresip answering or calling and recording
// what it hears — finds free ports, writes and reads tone WAV files and
// measures how long a tone is heard. Every process runs from a temporary
// directory in its own process group and is stopped in t.Cleanup.
//
// A missing peer binary skips the test, or fails it when the environment
// has OMNIPHONE_REQUIRE_PEERS=1 (make test sets it). Of our packages it
// imports only sip/audio, a leaf, for tone detection.
package siptest
