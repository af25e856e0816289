package sip

import (
	"testing"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

func TestCompletedElsewhere(t *testing.T) {
	for _, tc := range []struct {
		reasons []string
		want    bool
	}{
		{[]string{`SIP;cause=200;text="Call completed elsewhere"`}, true},
		{[]string{`sip ; Cause = 200`}, true},
		{[]string{`Q.850;cause=26;text="non-selected user clearing"`}, true},
		{[]string{`Q.850;cause=16;text="Normal call clearing", SIP;cause=200`}, true},
		{[]string{`Q.850;cause=16`, `SIP;cause=200`}, true},
		{[]string{`SIP;cause=487;text="Request Terminated"`}, false},
		{[]string{`Q.850;cause=200`}, false},
		{[]string{`SIP;text="cause=200"`}, false},
		{[]string{`SIP;cause=2000`}, false},
		{nil, false},
	} {
		var hs []gosip.Header
		for _, r := range tc.reasons {
			hs = append(hs, gosip.NewHeader("Reason", r))
		}
		require.Equal(t, tc.want, completedElsewhere(hs), "%q", tc.reasons)
	}
}
