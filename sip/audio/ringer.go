package audio

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gen2brain/malgo"
)

// RingTone is the default incoming-call ring: 440 + 660 Hz, 1 s on, 2 s off.
var RingTone = Tone{Freqs: []float64{440, 660}, On: time.Second, Off: 2 * time.Second, Level: 0.5}

// RingerConfig chooses the ring device.
type RingerConfig struct {
	Backend Backend
	// Output is a playback device name from Devices; empty means the default.
	Output string
}

// Ringer plays the ring tone on its own playback device, so the phone can
// ring on the loudspeakers while calls use a headset. It is silent until
// Ring is called.
type Ringer struct {
	ctx *malgo.AllocatedContext
	dev *malgo.Device
	pin runtime.Pinner

	mu     sync.Mutex
	tone   *ToneGenerator
	frames uint64
}

// OpenRinger opens and starts the ring device.
func OpenRinger(cfg RingerConfig) (*Ringer, error) {
	ctx, err := malgo.InitContext(cfg.Backend.malgo(), malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("audio %s: %w", cfg.Backend, err)
	}
	r := &Ringer{ctx: ctx}
	dc := malgo.DefaultDeviceConfig(malgo.Playback)
	dc.Playback.Format, dc.Playback.Channels = malgo.FormatS16, 1
	dc.SampleRate = SampleRate
	dc.PeriodSizeInMilliseconds = 20
	if cfg.Output != "" {
		id, err := findDevice(ctx, &r.pin, malgo.Playback, cfg.Output)
		if err != nil {
			r.free()
			return nil, err
		}
		dc.Playback.DeviceID = id.Pointer()
	}
	dev, err := malgo.InitDevice(ctx.Context, dc, malgo.DeviceCallbacks{Data: r.onData})
	if err != nil {
		r.free()
		return nil, fmt.Errorf("open ring device: %w", err)
	}
	r.dev = dev
	if err := dev.Start(); err != nil {
		r.free()
		return nil, fmt.Errorf("start ring device: %w", err)
	}
	return r, nil
}

func (r *Ringer) onData(out, _ []byte, frames uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames += uint64(frames)
	for i := 0; i+1 < len(out); i += 2 {
		var v int16
		if r.tone != nil {
			v = r.tone.next()
		}
		out[i], out[i+1] = byte(v), byte(uint16(v)>>8)
	}
}

// Ring starts playing g from its beginning; nil stops ringing.
func (r *Ringer) Ring(g *ToneGenerator) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tone = g
}

// Stop stops ringing.
func (r *Ringer) Stop() { r.Ring(nil) }

// Frames returns how many frames the device has played, for health checks.
func (r *Ringer) Frames() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames
}

// Close stops the device and frees it.
func (r *Ringer) Close() error {
	var err error
	if r.dev != nil {
		err = r.dev.Stop()
	}
	r.free()
	return err
}

func (r *Ringer) free() {
	if r.dev != nil {
		r.dev.Uninit()
		r.dev = nil
	}
	if r.ctx != nil {
		_ = r.ctx.Uninit()
		r.ctx.Free()
		r.ctx = nil
	}
	r.pin.Unpin()
}

// findDevice returns the pinned ID of the device called name.
func findDevice(ctx *malgo.AllocatedContext, pin *runtime.Pinner, kind malgo.DeviceType, name string) (*malgo.DeviceID, error) {
	infos, err := ctx.Devices(kind)
	if err != nil {
		return nil, fmt.Errorf("list audio devices: %w", err)
	}
	for _, i := range infos {
		if i.Name() == name {
			id := new(malgo.DeviceID)
			*id = i.ID
			// The ID is handed to C through the device config.
			pin.Pin(id)
			return id, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrDeviceNotFound, name)
}
