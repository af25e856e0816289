package sip

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
)

// mediaPipe moves audio between the RTP session and the AudioDevice for one
// call: a receive goroutine (RTP → DTMF detection / decode → device and
// recording) and a send goroutine paced at 20 ms (device → mute → encode →
// RTP). The frameCodec is G.711 or Opus (codec.go, opus.go). The RTP
// session is plain or SDES (diago.DialogMedia) or WebRTC
// (diago.DialogWebrtc, webrtc.go).
type mediaPipe struct {
	c *Call
	// pr is the RTP reader under r, whose PacketHeader tells the payload type.
	pr *media.RTPPacketReader
	// closeMedia closes the RTP session, which ends r with io.EOF.
	closeMedia func() error
	codec      media.Codec
	coder      frameCodec
	dtmfPT     uint8
	hasTE      bool
	r          io.Reader
	w          io.Writer
	dtmfW      *diago.DTMFWriter
	rec        *wavWriter
	held       atomic.Bool
	sendMu     sync.Mutex // held while a frame is written; see waitAnswerAfterEarly

	rxMu sync.Mutex
	rxQ  [][]int16 // decoded received frames waiting for the recorder

	quit     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
}

// rxQueueMax bounds the frames buffered for the recorder (200 ms).
const rxQueueMax = 10

// startMedia builds the pipeline for an answered call and starts it.
func (c *Call) startMedia(med *diago.DialogMedia) error {
	p := c.p
	ms := med.MediaSession()
	if ms == nil {
		return errors.New("no media session")
	}
	mp := newMediaPipe(c, media.CodecAudioFromSession(ms), ms.CommonCodecs())
	if err := mp.checkCodec(); err != nil {
		return err
	}

	var ropts []diago.AudioReaderOption
	if p.jitter {
		ropts = append(ropts, diago.WithAudioReaderJitterBuffer(media.RTPJitterBufferOptions{DelayPackets: 3, MaxPackets: 10}))
	}
	r, err := med.AudioReader(ropts...)
	if err != nil {
		return fmt.Errorf("audio reader: %w", err)
	}
	mp.r = r
	var wopts []diago.AudioWriterOption
	if mp.hasTE {
		mp.dtmfW = &diago.DTMFWriter{}
		wopts = append(wopts, diago.WithAudioWriterDTMF(mp.dtmfW))
	}
	w, err := med.AudioWriter(wopts...)
	if err != nil {
		return fmt.Errorf("audio writer: %w", err)
	}
	mp.w = w
	mp.pr, mp.closeMedia = med.RTPPacketReader, med.Close
	return c.runPipe(mp)
}

// newMediaPipe is a pipe for codec, taking the telephone-event payload
// type from the negotiated codecs.
func newMediaPipe(c *Call, codec media.Codec, common []media.Codec) *mediaPipe {
	mp := &mediaPipe{c: c, codec: codec, quit: make(chan struct{})}
	for _, cd := range common {
		if cd.Matches(media.CodecTelephoneEvent8000) {
			mp.dtmfPT, mp.hasTE = cd.PayloadTypeRecv(), true
		}
	}
	return mp
}

// checkCodec sets up the negotiated codec's encoder and decoder (G.711
// or Opus), or says why it cannot.
func (mp *mediaPipe) checkCodec() error {
	coder, err := newFrameCodec(mp.codec)
	if err != nil {
		return err
	}
	mp.coder = coder
	return nil
}

// runPipe opens the call's recording, if asked for, and starts mp.
func (c *Call) runPipe(mp *mediaPipe) error {
	p := c.p
	if dir := p.cfg.RecordDir; dir != "" {
		name := fmt.Sprintf("%s-%s-%s.wav", time.Now().Format("20060102-150405"), c.dir, safeName(c.remoteUser))
		path := filepath.Join(dir, name)
		rec, err := newWAVWriter(path, SampleRate, 2)
		if err != nil {
			return err
		}
		mp.rec = rec
		c.mu.Lock()
		c.recordPath = path
		c.mu.Unlock()
	}

	c.mu.Lock()
	c.pipe = mp
	c.mu.Unlock()
	mp.wg.Add(2)
	go mp.receive()
	go mp.send()
	return nil
}

func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '+' || r == '-' {
			return r
		}
		return '_'
	}, s)
	if s == "" {
		return "unknown"
	}
	return s
}

// receive reads RTP payloads until the media session closes.
func (mp *mediaPipe) receive() {
	defer mp.wg.Done()
	buf := make([]byte, media.RTPBufSize)
	var det dtmfDetector
	pr := mp.pr
	for {
		n, err := mp.r.Read(buf)
		if err != nil {
			return // io.EOF when the session is closed
		}
		if n == 0 {
			continue
		}
		// PacketHeader is valid in the goroutine that called Read.
		hdr := pr.PacketHeader
		if mp.hasTE && hdr.PayloadType == mp.dtmfPT {
			if d, ok := det.packet(buf[:n], hdr.Timestamp); ok {
				mp.c.p.emitDTMF(DTMFEvent{Call: mp.c, Digit: d, Via: DTMFRFC4733})
			}
			continue
		}
		if hdr.PayloadType != mp.codec.PayloadTypeRecv() {
			continue // comfort noise or an unexpected payload type
		}
		frame, err := mp.coder.decode(buf[:n])
		if err != nil || len(frame) == 0 {
			continue // a damaged packet: play nothing for it
		}
		if mp.owned() {
			mp.c.p.audio.WriteFrame(frame)
		}
		if mp.rec != nil {
			mp.rxMu.Lock()
			if len(mp.rxQ) >= rxQueueMax {
				mp.rxQ = mp.rxQ[1:]
			}
			mp.rxQ = append(mp.rxQ, frame)
			mp.rxMu.Unlock()
		}
	}
}

// send writes one 20 ms frame per tick until stopped.
func (mp *mediaPipe) send() {
	defer mp.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	frame := make([]int16, FrameSamples)
	silence := make([]int16, FrameSamples)
	enc := make([]byte, maxPayload)
	for {
		select {
		case <-mp.quit:
			return
		case <-tick.C:
		}
		out := silence
		// Early media is one-way: we send silence until the answer.
		if !mp.c.early.Load() && !mp.c.muted.Load() && mp.owned() {
			mp.c.p.audio.ReadFrame(frame)
			out = frame
		}
		n, err := mp.coder.encode(enc, out)
		if err == nil {
			mp.sendMu.Lock()
			_, err = mp.w.Write(enc[:n])
			mp.sendMu.Unlock()
			if err != nil && errors.Is(err, io.ErrClosedPipe) {
				return
			}
		}
		if mp.rec != nil {
			rx := silence
			mp.rxMu.Lock()
			if len(mp.rxQ) > 0 {
				rx = mp.rxQ[0]
				mp.rxQ = mp.rxQ[1:]
			}
			mp.rxMu.Unlock()
			if len(rx) != len(out) {
				rx = fitFrame(rx, len(out))
			}
			if err := mp.rec.writeStereo(out, rx); err != nil && !errors.Is(err, os.ErrClosed) {
				mp.c.p.log.Warn("recording write failed", "call", mp.c.id, "error", err)
			}
		}
	}
}

// owned reports whether this call has the audio device: it is the active
// call and not on hold, or it plays early media while no call is active.
func (mp *mediaPipe) owned() bool {
	if mp.held.Load() {
		return false
	}
	active := mp.c.p.activeCall()
	return active == mp.c || active == nil && mp.c.early.Load()
}

// stop ends both goroutines, closes the media session and the recording.
func (mp *mediaPipe) stop() error {
	mp.stopOnce.Do(func() {
		close(mp.quit)
		errs := []error{mp.closeMedia()} // unblocks receive with EOF
		mp.wg.Wait()
		if mp.rec != nil {
			errs = append(errs, mp.rec.Close())
		}
		mp.stopErr = errors.Join(errs...)
	})
	return mp.stopErr
}

func bytesToSamples(b []byte) []int16 {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
	}
	return s
}

func samplesToBytes(dst []byte, s []int16) {
	for i, v := range s {
		dst[2*i] = byte(v)
		dst[2*i+1] = byte(uint16(v) >> 8)
	}
}

// fitFrame pads or cuts f to n samples.
func fitFrame(f []int16, n int) []int16 {
	out := make([]int16, n)
	copy(out, f)
	return out
}
