package sip

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

// baresipOpus is how baresip must name Opus (plain "opus" fails).
const baresipOpus = "opus/48000/2"

// requireOpus skips (or, under make test, fails) when this test binary was
// built without the with_opus_c tag.
func requireOpus(t *testing.T) {
	t.Helper()
	if opusBuiltIn {
		return
	}
	if os.Getenv("OMNIPHONE_REQUIRE_PEERS") == "1" {
		t.Fatal("Opus is not built in: run the tests with -tags with_opus_c (make test does)")
	}
	t.Skip("Opus is not built in (no with_opus_c tag)")
}

// opusCall runs one call between the phone (codecs opus, PCMU) and baresip
// (Opus only) in dir, and checks the tone each side heard and our recording.
func opusCall(t *testing.T, dir Direction) {
	requireOpus(t)
	k := siptest.StartKamailio(t, callUsers)
	alice := siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(),
		ToneHz: baresipHz, Codecs: []string{baresipOpus}, OpusTone: true})
	recDir := t.TempDir()
	p := startPhone(t, k, "gouac", "go123", phoneHz, func(c *Config) {
		c.RecordDir = recDir
		c.Account.Codecs = []string{"opus", "PCMU"}
	})
	p.ev.waitReg(t, RegRegistered, 0)

	c := connect(t, k, p, alice, dir)
	require.Equal(t, CodecOpus, c.Codec())
	// Talk until the phone has heard 3.5 s of baresip's tone: on a loaded
	// machine a fixed 4 s carried less than the checks below ask for.
	waitTone(t, "phone received", func() []int16 { return p.dev.heardSince(0) }, baresipHz, 3.5, 20*time.Second)
	hangUp(t, p, alice, c)

	requireTone(t, "phone received", p.dev.heardSince(0), SampleRate, baresipHz, 2.5)
	rx, rate := siptest.ReadWAV(t, alice.DecodedRecording(t), 0)
	require.Equal(t, 48000, rate, "baresip decoded Opus at 48 kHz")
	requireTone(t, "baresip received", rx, rate, phoneHz, 2.5)
	left, rate := siptest.ReadWAV(t, c.RecordingPath(), 0)
	right, _ := siptest.ReadWAV(t, c.RecordingPath(), 1)
	requireTone(t, "recording left (sent)", left, rate, phoneHz, 3)
	requireTone(t, "recording right (received)", right, rate, baresipHz, 2.5)
}

func TestIntegrationOpusCallOutIssue10(t *testing.T) { opusCall(t, Outbound) }

func TestIntegrationOpusCallInIssue10(t *testing.T) { opusCall(t, Inbound) }

// TestIntegrationCodecOrderIssue10: the account's codec order decides, in
// our offer (baresip answers with the offer's first codec it has) and in
// our answer to an offer listing both codecs in either order.
func TestIntegrationCodecOrderIssue10(t *testing.T) {
	requireOpus(t)
	k := siptest.StartKamailio(t, callUsers)
	tests := []struct {
		name   string
		ours   []string
		theirs []string
		dir    Direction
		want   string
		wantHz int // the rate of baresip's decoded recording
	}{
		{"offer PCMU first", []string{"PCMU", "opus"}, []string{baresipOpus, "PCMU"}, Outbound, CodecPCMU, 8000},
		{"offer opus first", []string{"opus", "PCMU"}, []string{"PCMU", baresipOpus}, Outbound, CodecOpus, 48000},
		{"answer PCMU to opus first", []string{"PCMU", "opus"}, []string{baresipOpus, "PCMU"}, Inbound, CodecPCMU, 8000},
		{"answer PCMU to PCMU first", []string{"PCMU", "opus"}, []string{"PCMU", baresipOpus}, Inbound, CodecPCMU, 8000},
		{"answer opus to PCMU first", []string{"opus", "PCMU"}, []string{"PCMU", baresipOpus}, Inbound, CodecOpus, 48000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alice := siptest.StartBaresip(t, siptest.BaresipOptions{User: "alice", Password: "alice123", Proxy: k.Addr(),
				ToneHz: baresipHz, Codecs: tt.theirs, OpusTone: tt.want == CodecOpus})
			p := startPhone(t, k, "gouac", "go123", phoneHz, func(c *Config) { c.Account.Codecs = tt.ours })
			p.ev.waitReg(t, RegRegistered, 0)
			c := connect(t, k, p, alice, tt.dir)
			require.Equal(t, tt.want, c.Codec())
			time.Sleep(time.Second)
			hangUp(t, p, alice, c)
			_, rate := siptest.ReadWAV(t, alice.DecodedRecording(t), 0)
			require.Equal(t, tt.wantHz, rate, "the codec baresip decoded")
		})
	}
}
