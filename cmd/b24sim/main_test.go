package main

import (
	"testing"
	"time"

	"github.com/omniphone/omniphone/crm/b24sim"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	c, err := parseFlags(nil)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8024", c.addr)
	require.Equal(t, b24sim.ModeClassic, c.opts.Mode)
	require.Equal(t, 1, c.opts.WebhookUserID)

	c, err = parseFlags([]string{"--mode", "simple", "--webhook", "7:abc", "--app", "id:sec", "--token-ttl", "5m", "--limit", "2/50"})
	require.NoError(t, err)
	require.Equal(t, b24sim.ModeSimple, c.opts.Mode)
	require.Equal(t, 7, c.opts.WebhookUserID)
	require.Equal(t, "id", c.opts.ClientID)
	require.Equal(t, 5*time.Minute, c.opts.TokenTTL)
	require.Equal(t, 2.0, c.opts.RateLimit)
	require.Equal(t, 50, c.opts.RateBurst)

	for _, bad := range [][]string{
		{"--mode", "x"}, {"--webhook", "abc"}, {"--app", "x"}, {"--limit", "2"}, {"--limit", "a/b"},
		{"--tls-cert", "c"}, {"--token-ttl", "-1s"}, {"--nope"}, {"extra"}, {"--seed", "/nonexistent.json"},
	} {
		_, err := parseFlags(bad)
		require.Error(t, err, bad)
	}
}
