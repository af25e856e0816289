package audio

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// idleClose is how long the sound card stays open after the last frame.
const idleClose = 2 * time.Second

// Switcher is the phone's sound card as calls see it (sip.AudioDevice):
//   - open only while frames flow: the first ReadFrame or WriteFrame opens
//     the device (off the caller's goroutine; silence until it is up) and
//     it closes idleClose after the last one, so an idle phone keeps no
//     audio stream — a running stream wakes the process every 20 ms
//     (measured: 7.5 % of a core idle in the window);
//   - the microphone and speaker can be changed during a call (Use).
type Switcher struct {
	cur      atomic.Pointer[Device]
	lastUse  atomic.Int64 // unix nanoseconds of the last frame
	opening  atomic.Bool
	mu       sync.Mutex // serialises open, close and Use
	cfg      Config
	closed   bool
	failedAt atomic.Int64  // unix nanoseconds of the last failed open
	opened   chan struct{} // a device was opened: the idle watch starts
	stop     chan struct{}
	watchers sync.WaitGroup
}

// OpenSwitcher checks that the devices of cfg open (then closes them
// until frames flow) and starts the idle watch; Close stops it.
func OpenSwitcher(cfg Config) (*Switcher, error) {
	d, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	if err := d.Close(); err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	s := &Switcher{cfg: cfg, opened: make(chan struct{}, 1), stop: make(chan struct{})}
	s.watchers.Add(1)
	go s.closeWhenIdle()
	return s, nil
}

// ReadFrame reads from the device; silence while it is not open.
func (s *Switcher) ReadFrame(dst []int16) {
	if d := s.use(); d != nil {
		d.ReadFrame(dst)
		return
	}
	clear(dst)
}

// WriteFrame plays on the device; dropped while it is not open.
func (s *Switcher) WriteFrame(src []int16) {
	if d := s.use(); d != nil {
		d.WriteFrame(src)
	}
}

// use notes a frame and returns the open device, opening it in the
// background when there is none.
func (s *Switcher) use() *Device {
	s.lastUse.Store(time.Now().UnixNano())
	d := s.cur.Load()
	// A device that failed to open (unplugged) is retried once a second,
	// not at every frame.
	if d == nil && time.Since(time.Unix(0, s.failedAt.Load())) > time.Second && s.opening.CompareAndSwap(false, true) {
		s.watchers.Add(1)
		go func() {
			defer s.watchers.Done()
			defer s.opening.Store(false)
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.closed || s.cur.Load() != nil {
				return
			}
			nd, err := Open(s.cfg)
			if err != nil {
				s.failedAt.Store(time.Now().UnixNano())
				return
			}
			s.cur.Store(nd)
			s.watchIdle()
		}()
	}
	return d
}

// watchIdle wakes the idle watch after a device was opened.
func (s *Switcher) watchIdle() {
	select {
	case s.opened <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// closeWhenIdle closes the device idleClose after the last frame. While
// the card is closed it sleeps until one opens: an idle phone has no
// timer of its own here.
func (s *Switcher) closeWhenIdle() {
	defer s.watchers.Done()
	t := time.NewTimer(idleClose / 4)
	defer t.Stop()
	for {
		if s.cur.Load() == nil {
			select {
			case <-s.stop:
				return
			case <-s.opened:
			}
		}
		t.Reset(idleClose / 4)
		select {
		case <-s.stop:
			return
		case <-t.C:
			if s.cur.Load() == nil || time.Since(time.Unix(0, s.lastUse.Load())) < idleClose {
				continue
			}
			s.mu.Lock()
			if d := s.cur.Swap(nil); d != nil {
				_ = d.Close()
			}
			s.mu.Unlock()
		}
	}
}

// IsOpen reports whether the sound card is open now.
func (s *Switcher) IsOpen() bool { return s.cur.Load() != nil }

// Current returns the configuration in use.
func (s *Switcher) Current() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Use switches to input and output (same backend). The new devices are
// opened before the old ones close, so a name that does not exist, or a
// device that fails to open, leaves everything as it was.
func (s *Switcher) Use(input, output string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("audio: switcher closed")
	}
	cfg := s.cfg
	cfg.Input, cfg.Output = input, output
	d, err := Open(cfg)
	if err != nil {
		return fmt.Errorf("switch to %q / %q: %w", input, output, err)
	}
	s.cfg = cfg
	// A ReadFrame or WriteFrame that loaded the old device just before the
	// swap only touches its rings, which Close leaves valid. When no call
	// was using the card, the new one closes when idle like any other.
	old := s.cur.Swap(d)
	s.watchIdle()
	if old != nil {
		return old.Close()
	}
	return nil
}

// Frames returns how many frames the open device has processed (0 when
// closed).
func (s *Switcher) Frames() uint64 {
	if d := s.cur.Load(); d != nil {
		return d.Frames()
	}
	return 0
}

// Close closes the device and stops the idle watch.
func (s *Switcher) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	var err error
	if d := s.cur.Swap(nil); d != nil {
		err = d.Close()
	}
	s.mu.Unlock()
	s.watchers.Wait()
	return err
}
