package audio

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/gen2brain/malgo"
)

// Frame format shared with package sip: 20 ms of 8 kHz mono S16.
const (
	SampleRate   = 8000
	FrameSamples = SampleRate / 50
)

// DeviceInfo describes a capture or playback device.
type DeviceInfo struct {
	// Name is what the user sees and what Config refers to.
	Name string
	// Default marks the system default device.
	Default bool
}

// Devices lists the capture (inputs) and playback (outputs) devices of a backend.
func Devices(b Backend) (inputs, outputs []DeviceInfo, err error) {
	ctx, err := malgo.InitContext(b.malgo(), malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("audio %s: %w", b, err)
	}
	defer func() { _ = ctx.Uninit(); ctx.Free() }()
	list := func(kind malgo.DeviceType) ([]DeviceInfo, error) {
		infos, err := ctx.Devices(kind)
		if err != nil {
			return nil, err
		}
		out := make([]DeviceInfo, 0, len(infos))
		for _, i := range infos {
			out = append(out, DeviceInfo{Name: i.Name(), Default: i.IsDefault != 0})
		}
		return out, nil
	}
	if inputs, err = list(malgo.Capture); err != nil {
		return nil, nil, fmt.Errorf("list inputs: %w", err)
	}
	if outputs, err = list(malgo.Playback); err != nil {
		return nil, nil, fmt.Errorf("list outputs: %w", err)
	}
	return inputs, outputs, nil
}

// Config chooses the devices of a Device.
type Config struct {
	Backend Backend
	// Input and Output are device names from Devices; empty means the default.
	Input, Output string
	// BufferFrames bounds each direction's queue in 20 ms frames; 0 means 10.
	BufferFrames int
}

// ErrDeviceNotFound is returned when a configured device name does not exist.
var ErrDeviceNotFound = errors.New("audio device not found")

// Device is an open duplex stream. It implements sip.AudioDevice.
type Device struct {
	ctx *malgo.AllocatedContext
	dev *malgo.Device
	pin runtime.Pinner

	mu       sync.Mutex
	capture  ring // captured samples waiting for ReadFrame
	playback ring // samples waiting for the card
	tone     *ToneGenerator
	frames   uint64 // callback frames seen, for tests
}

// Open opens and starts the duplex device.
func Open(cfg Config) (*Device, error) {
	if cfg.BufferFrames <= 0 {
		cfg.BufferFrames = 10
	}
	ctx, err := malgo.InitContext(cfg.Backend.malgo(), malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("audio %s: %w", cfg.Backend, err)
	}
	d := &Device{
		ctx:      ctx,
		capture:  newRing(cfg.BufferFrames * FrameSamples),
		playback: newRing(cfg.BufferFrames * FrameSamples),
	}
	dc := malgo.DefaultDeviceConfig(malgo.Duplex)
	dc.Capture.Format, dc.Capture.Channels = malgo.FormatS16, 1
	dc.Playback.Format, dc.Playback.Channels = malgo.FormatS16, 1
	dc.SampleRate = SampleRate
	dc.PeriodSizeInMilliseconds = 20
	if cfg.Input != "" {
		id, err := d.find(malgo.Capture, cfg.Input)
		if err != nil {
			d.free()
			return nil, err
		}
		dc.Capture.DeviceID = id.Pointer()
	}
	if cfg.Output != "" {
		id, err := d.find(malgo.Playback, cfg.Output)
		if err != nil {
			d.free()
			return nil, err
		}
		dc.Playback.DeviceID = id.Pointer()
	}
	dev, err := malgo.InitDevice(ctx.Context, dc, malgo.DeviceCallbacks{Data: d.onData})
	if err != nil {
		d.free()
		return nil, fmt.Errorf("open audio device: %w", err)
	}
	d.dev = dev
	if err := dev.Start(); err != nil {
		d.free()
		return nil, fmt.Errorf("start audio device: %w", err)
	}
	return d, nil
}

// find returns the (pinned) ID of the device called name.
func (d *Device) find(kind malgo.DeviceType, name string) (*malgo.DeviceID, error) {
	return findDevice(d.ctx, &d.pin, kind, name)
}

// onData is miniaudio's callback: S16 mono little-endian in both directions.
func (d *Device) onData(out, in []byte, frames uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.frames += uint64(frames)
	for i := 0; i+1 < len(in); i += 2 {
		d.capture.push(int16(uint16(in[i]) | uint16(in[i+1])<<8))
	}
	for i := 0; i+1 < len(out); i += 2 {
		v, ok := d.playback.pop()
		if !ok && d.tone != nil {
			v = d.tone.next()
		}
		out[i], out[i+1] = byte(v), byte(uint16(v)>>8)
	}
}

// ReadFrame fills dst with captured samples, silence where none are buffered.
func (d *Device) ReadFrame(dst []int16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range dst {
		v, _ := d.capture.pop()
		dst[i] = v
	}
}

// WriteFrame queues samples for playback; the oldest are dropped when full.
func (d *Device) WriteFrame(src []int16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, v := range src {
		d.playback.push(v)
	}
}

// PlayTone plays g whenever no call audio is queued (ringback, ring);
// nil stops it.
func (d *Device) PlayTone(g *ToneGenerator) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tone = g
}

// Frames returns how many frames the card has processed, for health checks.
func (d *Device) Frames() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.frames
}

// Close stops the device and frees it.
func (d *Device) Close() error {
	var err error
	if d.dev != nil {
		err = d.dev.Stop()
	}
	d.free()
	return err
}

func (d *Device) free() {
	if d.dev != nil {
		d.dev.Uninit()
		d.dev = nil
	}
	if d.ctx != nil {
		_ = d.ctx.Uninit()
		d.ctx.Free()
		d.ctx = nil
	}
	d.pin.Unpin()
}

// ring is a fixed-size FIFO of samples that overwrites the oldest when full.
type ring struct {
	buf        []int16
	head, size int
}

func newRing(n int) ring { return ring{buf: make([]int16, n)} }

func (r *ring) push(v int16) {
	if r.size == len(r.buf) {
		r.head = (r.head + 1) % len(r.buf)
		r.size--
	}
	r.buf[(r.head+r.size)%len(r.buf)] = v
	r.size++
}

func (r *ring) pop() (int16, bool) {
	if r.size == 0 {
		return 0, false
	}
	v := r.buf[r.head]
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	return v, true
}
