// Package audio is the sound-card layer of the softphone, over miniaudio
// (github.com/gen2brain/malgo): it lists devices, opens the chosen input
// and output by name as one duplex stream of 8 kHz mono 16-bit PCM frames
// (miniaudio converts to and from the card's own format and rate), and
// generates tones for ringback and ring. A [Ringer] rings on a separate
// playback device chosen by name (e.g. loudspeakers while calls use a
// headset).
//
// A *Device satisfies sip.AudioDevice (ReadFrame/WriteFrame of 20 ms
// frames) without importing package sip.
//
// Tests run on miniaudio's null backend ([BackendNull]), which needs no
// sound card and paces callbacks in real time, and, when the pulseaudio
// binary is installed, on a private PulseAudio server whose null sink's
// monitor captures back what was played (a real loopback).
package audio
