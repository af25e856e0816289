package audio

import (
	"fmt"

	"github.com/gen2brain/malgo"
)

// Backend selects the audio system.
type Backend int

// Backends.
const (
	// BackendAuto lets miniaudio pick (PulseAudio, then ALSA, … on Linux).
	BackendAuto Backend = iota
	// BackendNull is miniaudio's null device: no sound card, silence in,
	// output discarded, real-time pacing. For tests and headless runs.
	BackendNull
	BackendPulseAudio
	BackendALSA
)

// String returns the backend's name.
func (b Backend) String() string {
	switch b {
	case BackendAuto:
		return "auto"
	case BackendNull:
		return "null"
	case BackendPulseAudio:
		return "pulseaudio"
	case BackendALSA:
		return "alsa"
	default:
		return fmt.Sprintf("Backend(%d)", int(b))
	}
}

// malgoNull is miniaudio's real null backend.
//
// Workaround for malgo v0.11.24: its Backend enum lacks ma_backend_custom,
// so malgo.BackendNull (13) is miniaudio's ma_backend_custom and
// InitContext fails with "No backend"; the null backend is 14
// (shared/reference/feasibility-fyne.md §6; upstream malgo enumerations.go
// versus miniaudio.h ma_backend).
const malgoNull = malgo.BackendNull + 1

func (b Backend) malgo() []malgo.Backend {
	switch b {
	case BackendNull:
		return []malgo.Backend{malgoNull}
	case BackendPulseAudio:
		return []malgo.Backend{malgo.BackendPulseaudio}
	case BackendALSA:
		return []malgo.Backend{malgo.BackendAlsa}
	default:
		return nil
	}
}
