package sip

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
)

// wavWriter writes 16-bit PCM WAV (RIFF/WAVE, format tag 1) and fixes the
// chunk sizes on Close, so a file is valid whichever way a call ends.
type wavWriter struct {
	mu       sync.Mutex
	f        *os.File
	w        *bufio.Writer
	channels int
	rate     int
	data     uint32 // bytes of sample data written
	closed   bool
	buf      []byte
}

const wavHeaderSize = 44

func newWAVWriter(path string, rate, channels int) (*wavWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create recording: %w", err)
	}
	w := &wavWriter{f: f, w: bufio.NewWriterSize(f, 32<<10), channels: channels, rate: rate}
	if _, err := w.w.Write(w.header()); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write recording header: %w", err)
	}
	return w, nil
}

func (w *wavWriter) header() []byte {
	h := make([]byte, wavHeaderSize)
	blockAlign := w.channels * 2
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+w.data)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], uint16(w.channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(w.rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(w.rate*blockAlign))
	binary.LittleEndian.PutUint16(h[32:], uint16(blockAlign))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], w.data)
	return h
}

// writeStereo interleaves left and right (equal lengths) as one block of frames.
func (w *wavWriter) writeStereo(left, right []int16) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return os.ErrClosed
	}
	n := len(left) * 4
	if cap(w.buf) < n {
		w.buf = make([]byte, n)
	}
	b := w.buf[:n]
	for i := range left {
		binary.LittleEndian.PutUint16(b[i*4:], uint16(left[i]))
		binary.LittleEndian.PutUint16(b[i*4+2:], uint16(right[i]))
	}
	if _, err := w.w.Write(b); err != nil {
		return err
	}
	w.data += uint32(n)
	return nil
}

// Close flushes, writes the final sizes and closes the file. It is idempotent.
func (w *wavWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.w.Flush()
	if err == nil {
		_, err = w.f.WriteAt(w.header(), 0)
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
