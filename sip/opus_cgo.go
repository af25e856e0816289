//go:build with_opus_c

package sip

// opusBuiltIn reports whether this binary links libopus: it was built with
// the with_opus_c tag (make passes it), which also switches diago's
// audio.OpusEncoder/OpusDecoder from placeholders to gopkg.in/hraban/opus.v2.
const opusBuiltIn = true
