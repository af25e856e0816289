package logging

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedactor_String(t *testing.T) {
	r := NewRedactor()
	r.Add("hunter2-sip", "ab") // "ab" is too short to register
	tests := []struct{ in, want string }{
		{"password is hunter2-sip!", "password is [redacted]!"},
		{"POST https://c.bitrix24.ru/rest/1/abc123secret/crm.lead.add", "POST https://c.bitrix24.ru/rest/1/[redacted]/crm.lead.add"},
		{"GET /rest/crm.lead.list?auth=tok123&start=50", "GET /rest/crm.lead.list?auth=[redacted]&start=50"},
		{"body auth[application_token]=zzz&event=x", "body auth[application_token]=[redacted]&event=x"},
		{"grant_type=refresh_token&refresh_token=rrr&client_secret=sss", "grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]"},
		{"Authorization: Bearer eyJhbGciOi.x-y_z", "Authorization: Bearer [redacted]"},
		{"about ab and cd", "about ab and cd"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, r.String(tt.in))
	}
}

func TestHandler_NoSecretReachesTheLog(t *testing.T) {
	r := NewRedactor()
	r.Add("s3cret-sip-pass")
	var buf bytes.Buffer
	log := slog.New(NewHandler(&buf, Options{Redactor: r}))
	log.Info("registering with s3cret-sip-pass",
		"password", "anything", "client_secret", "cs", "refresh_token", "rt",
		"url", "https://x.bitrix24.ru/rest/7/webhookcode/user.get",
		"err", errors.New("dial: bad password s3cret-sip-pass"),
		slog.Group("portal", "webhook_code", "wc"))
	out := buf.String()
	for _, secret := range []string{"s3cret-sip-pass", "anything", "=cs", "=rt", "webhookcode", "=wc"} {
		require.NotContains(t, out, secret)
	}
	require.Contains(t, out, "/rest/7/[redacted]/user.get")
	// message, password, client_secret, refresh_token, url, err, webhook_code
	require.Equal(t, 7, strings.Count(out, Mask), out)
}

func TestOpenFile_Rotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "omniphone.log")
	f, err := OpenFile(path)
	require.NoError(t, err)
	_, err = f.Write(bytes.Repeat([]byte("x"), MaxFileSize+1))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	f, err = OpenFile(path)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Zero(t, info.Size())
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	old, err := os.Stat(path + ".1")
	require.NoError(t, err)
	require.EqualValues(t, MaxFileSize+1, old.Size())
}
