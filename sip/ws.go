package sip

import (
	"fmt"
	"net/url"
	"strings"

	gosip "github.com/emiago/sipgo/sip"
)

// wsTransports makes sipgo dial the gateway's WebSocket URL with the
// account's path (RFC 7118 §5: the SIP WebSocket server's URI is
// configured; Asterisk serves /ws, Kamailio and FreeSWITCH any path).
// sipgo's default URL has no path ("/").
func wsTransports(path string) gosip.TransportLayerOption {
	return gosip.WithTransportLayerTransports(gosip.TransportsConfig{
		WS: &gosip.TransportWS{DialURI: func(addr string) string { return "ws://" + addr + path }},
		WSS: &gosip.TransportWSS{TransportWS: &gosip.TransportWS{
			DialURI: func(addr string) string { return "wss://" + addr + path },
		}},
	})
}

// checkWSPath validates a WebSocket path: "/" followed by a URL path (and
// query), as in ws://host/path.
func checkWSPath(path string) error {
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " #\t\r\n") {
		return fmt.Errorf("WebSocket path %q must start with / and hold no spaces or #", path)
	}
	if _, err := url.ParseRequestURI("ws://h" + path); err != nil {
		return fmt.Errorf("WebSocket path %q: %w", path, err)
	}
	return nil
}
