package sip

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSRTP_StripBestEffortCrypto: only the a=crypto lines of RTP/AVP audio
// sections go; SAVP sections, other media and line endings stay.
func TestSRTP_StripBestEffortCrypto(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"best effort, CRLF",
			"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:y\r\na=sendrecv\r\n",
			"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n", true},
		{"best effort, LF, last line without newline",
			"v=0\nm=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x",
			"v=0\nm=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n", true},
		{"SAVP keeps its keys",
			"v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n",
			"v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n", false},
		{"video section untouched",
			"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\nm=video 4002 RTP/AVP 96\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:z\r\n",
			"v=0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:z\r\n", true},
		{"plain offer", "v=0\r\nm=audio 4000 RTP/AVP 0\r\n", "v=0\r\nm=audio 4000 RTP/AVP 0\r\n", false},
		{"empty", "", "", false},
		{"garbage", "m=\x00\xff\na=crypto:", "m=\x00\xff\na=crypto:", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := stripBestEffortCrypto([]byte(tc.in))
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, string(got))
		})
	}
}

func TestSRTP_HasSDESKey(t *testing.T) {
	for _, tc := range []struct {
		name, sdp string
		want      bool
	}{
		{"SAVP with the suite", "m=audio 1 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:k\r\n", true},
		{"non-compliant AVP answer with a key", "m=audio 1 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:k\r\n", true},
		{"other suite only", "m=audio 1 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:k\r\n", false},
		{"key of another section", "m=audio 1 RTP/SAVP 0\r\nm=video 2 RTP/SAVP 96\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:k\r\n", false},
		{"no inline", "m=audio 1 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80\r\n", false},
		{"no SDP", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, hasSDESKey([]byte(tc.sdp))) })
	}
}

func TestSRTP_RefusalsThatFallBackToPlain(t *testing.T) {
	for code, want := range map[int]bool{488: true, 606: true, 415: true, 486: false, 403: false, 404: false, 500: false, 603: false} {
		require.Equal(t, want, refusedSRTP(code), "%d", code)
	}
}
