package audio

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Switcher is a duplex device whose microphone and speaker can be changed
// while calls use it (a headset plugged in mid-call). It implements
// sip.AudioDevice; frames go to whichever Device is current.
type Switcher struct {
	cur atomic.Pointer[Device]
	mu  sync.Mutex // serialises Use and Close
	cfg Config
}

// OpenSwitcher opens the devices of cfg.
func OpenSwitcher(cfg Config) (*Switcher, error) {
	d, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	s := &Switcher{cfg: cfg}
	s.cur.Store(d)
	return s, nil
}

// ReadFrame reads from the current device; silence once closed.
func (s *Switcher) ReadFrame(dst []int16) {
	if d := s.cur.Load(); d != nil {
		d.ReadFrame(dst)
		return
	}
	clear(dst)
}

// WriteFrame plays on the current device.
func (s *Switcher) WriteFrame(src []int16) {
	if d := s.cur.Load(); d != nil {
		d.WriteFrame(src)
	}
}

// Current returns the configuration in use.
func (s *Switcher) Current() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Use switches to the input and output of cfg (same backend). The new
// device is opened before the old one closes, so a name that does not
// exist, or a device that fails to open, leaves the call on the old one.
func (s *Switcher) Use(input, output string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	if old == nil {
		return fmt.Errorf("audio: switcher closed")
	}
	cfg := s.cfg
	cfg.Input, cfg.Output = input, output
	d, err := Open(cfg)
	if err != nil {
		return fmt.Errorf("switch to %q / %q: %w", input, output, err)
	}
	s.cur.Store(d)
	s.cfg = cfg
	// A ReadFrame or WriteFrame that loaded old just before the swap only
	// touches its rings, which Close leaves valid.
	return old.Close()
}

// Frames returns how many frames the current device has processed.
func (s *Switcher) Frames() uint64 {
	if d := s.cur.Load(); d != nil {
		return d.Frames()
	}
	return 0
}

// Close closes the current device.
func (s *Switcher) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.cur.Swap(nil); d != nil {
		return d.Close()
	}
	return nil
}
