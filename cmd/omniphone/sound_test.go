package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/audio"
)

func (t *ringTone) open() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dev != nil
}

// TestRingTone_OpensTheDeviceOnlyWhileRinging runs the ring on miniaudio's
// null device: open while ringing, closed after Stop, also when Stop
// overtakes a slow open.
func TestRingTone_OpensTheDeviceOnlyWhileRinging(t *testing.T) {
	_, outs, err := audio.Devices(audio.BackendNull)
	require.NoError(t, err)
	r := &ringTone{cfg: audio.RingerConfig{Backend: audio.BackendNull, Output: outs[0].Name}, log: slog.New(slog.DiscardHandler)}
	require.False(t, r.open(), "idle: no audio stream")

	r.Ring()
	require.Eventually(t, r.open, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.dev != nil && r.dev.Frames() > 0
	}, 5*time.Second, 10*time.Millisecond, "the ring plays")
	r.Ring() // a second Ring while ringing changes nothing
	r.Stop()
	require.False(t, r.open())

	r.Ring()
	r.Stop() // before the device is open
	time.Sleep(500 * time.Millisecond)
	require.False(t, r.open(), "a Stop that overtakes the open leaves nothing open")
}
