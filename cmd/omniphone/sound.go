package main

import (
	"log/slog"
	"sync"

	"github.com/omniphone/omniphone/app"
	"github.com/omniphone/omniphone/settings"
	"github.com/omniphone/omniphone/sip/audio"
)

// openRinger prepares the ring of the preferences' ring device (the system
// default when unset), for the window: incoming calls ring there, on the
// loudspeakers even while calls use a headset. The device is opened only
// while a call rings, so an idle phone keeps no audio stream open.
func (svc *services) openRinger(s settings.Settings, log *slog.Logger) {
	if svc.phone == nil {
		return
	}
	svc.ringer = &ringTone{cfg: audio.RingerConfig{Output: s.App.RingDevice}, log: log}
	svc.stops = append(svc.stops, svc.ringer.Stop)
}

// ringTone rings with audio.RingTone on a device it opens for each ring.
type ringTone struct {
	cfg audio.RingerConfig
	log *slog.Logger

	mu  sync.Mutex
	gen int // Ring and Stop calls so far: a slow open that lost the race closes
	dev *audio.Ringer
}

var _ app.Ringer = (*ringTone)(nil)

// Ring starts the ring; opening the device happens off the caller's
// (UI) goroutine.
func (t *ringTone) Ring() {
	t.mu.Lock()
	t.gen++
	gen, ringing := t.gen, t.dev != nil
	t.mu.Unlock()
	if ringing {
		return
	}
	go func() {
		r, err := audio.OpenRinger(t.cfg)
		if err != nil {
			t.log.Error("ring device not opened; the call rings on screen only", "device", t.cfg.Output, "err", err)
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.gen != gen || t.dev != nil {
			_ = r.Close() // stopped (or rung again) meanwhile
			return
		}
		t.dev = r
		r.Ring(audio.NewToneGenerator(audio.RingTone))
	}()
}

// Stop silences the ring and closes the device.
func (t *ringTone) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	if t.dev != nil {
		_ = t.dev.Close()
		t.dev = nil
	}
}

// soundDevices lets the window switch the call's microphone and speaker.
type soundDevices struct{ s *audio.Switcher }

var _ app.SoundDevices = soundDevices{}

func (d soundDevices) Devices() (inputs, outputs []string, err error) {
	ins, outs, err := audio.Devices(d.s.Current().Backend)
	if err != nil {
		return nil, nil, err
	}
	for _, i := range ins {
		inputs = append(inputs, i.Name)
	}
	for _, o := range outs {
		outputs = append(outputs, o.Name)
	}
	return inputs, outputs, nil
}

func (d soundDevices) Current() (input, output string) {
	c := d.s.Current()
	return c.Input, c.Output
}

func (d soundDevices) Use(input, output string) error { return d.s.Use(input, output) }
