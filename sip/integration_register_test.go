package sip

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/sip/siptest"
)

func TestIntegrationRegister(t *testing.T) {
	k := siptest.StartKamailio(t, map[string]string{"alice": "alice123"})

	tests := []struct {
		name     string
		password string
		want     RegState
		code     int
	}{
		{"GoodPassword", "alice123", RegRegistered, 0},
		{"BadPassword", "WRONG", RegFailed, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startPhone(t, k, "alice", tt.password, 440, nil)
			ev := p.ev.waitReg(t, tt.want, 0)
			if tt.code == 0 {
				require.NoError(t, ev.Err)
				require.Equal(t, 60*time.Second, ev.Expires)
				require.Equal(t, RegRegistered, p.RegState())
				return
			}
			var re *RegisterError
			require.True(t, errors.As(ev.Err, &re), "error %v is not a *RegisterError", ev.Err)
			require.Equal(t, tt.code, re.StatusCode)
			require.True(t, re.AuthFailed())
			// Auth failures are not retried until Reregister.
			time.Sleep(1500 * time.Millisecond)
			require.Equal(t, RegFailed, p.RegState())
		})
	}
}
