package settings

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testStore checks the SecretStore contract on any implementation.
func testStore(t *testing.T, store SecretStore) {
	t.Helper()
	key := SIPPassword("office")
	_, err := store.Get(key)
	require.ErrorIs(t, err, ErrSecretNotFound)
	require.NoError(t, store.Set(key, "s3cret-one"))
	v, err := store.Get(key)
	require.NoError(t, err)
	require.Equal(t, "s3cret-one", v)
	require.NoError(t, store.Set(key, "s3cret-two"), "set replaces")
	v, err = store.Get(key)
	require.NoError(t, err)
	require.Equal(t, "s3cret-two", v)
	require.NoError(t, store.Delete(key))
	_, err = store.Get(key)
	require.ErrorIs(t, err, ErrSecretNotFound)
	require.NoError(t, store.Delete(key), "deleting a missing secret is fine")
}

func TestFileStore_Contract(t *testing.T) {
	path := filepath.Join(t.TempDir(), "omnisync", "secrets.json")
	testStore(t, NewFileStore(path))
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestFileStore_RefusesFileOthersCanRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"sync/token": "t"}`), 0o644))
	_, err := NewFileStore(path).Get(SyncToken)
	var ue *UnavailableError
	require.True(t, errors.As(err, &ue), "%v", err)
	require.Contains(t, err.Error(), "chmod 600")
	require.NotContains(t, err.Error(), `"t"`)

	require.NoError(t, os.WriteFile(path, []byte(`not json`), 0o600))
	_, err = NewFileStore(path).Get(SyncToken)
	require.True(t, errors.As(err, &ue))
}

func TestEnvStore(t *testing.T) {
	env := map[string]string{"OMNISYNC_SECRET_PORTAL_MAIN_CLIENT_SECRET": "from-env"}
	next := NewFileStore(filepath.Join(t.TempDir(), "s.json"))
	store := EnvStore{Next: next, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	require.Equal(t, "OMNISYNC_SECRET_SIP_OFFICE_1_PASSWORD", store.Var(SIPPassword("office-1")))
	v, err := store.Get(PortalClientSecret("main"))
	require.NoError(t, err)
	require.Equal(t, "from-env", v)
	testStore(t, store) // falls through to the file

	readOnly := EnvStore{Lookup: func(string) (string, bool) { return "", false }}
	_, err = readOnly.Get(SyncToken)
	require.ErrorIs(t, err, ErrSecretNotFound)
	require.ErrorContains(t, err, "OMNISYNC_SECRET_SYNC_TOKEN")
	require.ErrorContains(t, readOnly.Set(SyncToken, "x"), "read-only")
}

func TestSecretKeys(t *testing.T) {
	keys := configured().SecretKeys()
	require.Equal(t, []SecretKey{
		"portal/main/client_secret", "portal/main/access_token", "portal/main/refresh_token", "portal/main/application_token",
		"portal/branch/webhook_code", "portal/branch/application_token",
		"sip/office/password", "sip/backup/password", "sync/token",
	}, keys)
}

func TestParseWebhookURL(t *testing.T) {
	tests := []struct {
		raw  string
		want Webhook
		err  string
	}{
		{"https://company.bitrix24.ru/rest/1/abc123xyz/", Webhook{"https://company.bitrix24.ru", 1, "abc123xyz"}, ""},
		{" https://company.bitrix24.ru/rest/17/code/crm.lead.list.json ", Webhook{"https://company.bitrix24.ru", 17, "code"}, ""},
		{"http://127.0.0.1:8024/rest/1/SECRET", Webhook{"http://127.0.0.1:8024", 1, "SECRET"}, ""},
		{"http://company.bitrix24.ru/rest/1/x/", Webhook{}, "https://"},
		{"https://company.bitrix24.ru/rest/admin/x/", Webhook{}, "not a user ID"},
		{"https://company.bitrix24.ru/crm/", Webhook{}, "expected https://"},
		{"company", Webhook{}, "expected https://"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseWebhookURL(tt.raw)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestIntegration_KeyringRealSecretService goes through a real Secret
// Service (gnome-keyring on a private D-Bus session, started by make test)
// and checks the item with secret-tool, a separate libsecret client.
func TestIntegration_KeyringRealSecretService(t *testing.T) {
	requireSecretService(t)
	store := KeyringStore{Service: "omniphone-test"}
	testStore(t, store)

	key := PortalRefreshToken("main")
	require.NoError(t, store.Set(key, "refresh-XYZ"))
	out, err := exec.Command("secret-tool", "lookup", "service", "omniphone-test", "username", string(key)).Output()
	require.NoError(t, err, "secret-tool lookup")
	require.Equal(t, "refresh-XYZ", strings.TrimSpace(string(out)))
	require.NoError(t, store.Delete(key))
	err = exec.Command("secret-tool", "lookup", "service", "omniphone-test", "username", string(key)).Run()
	require.Error(t, err, "secret-tool no longer finds the deleted item")
}

// TestIntegration_KeyringUnavailable runs a child process with no usable
// session bus: the error must be an UnavailableError that says what to do,
// never a silent plaintext fallback.
func TestIntegration_KeyringUnavailable(t *testing.T) {
	if os.Getenv("OMNIPHONE_TEST_NO_KEYRING") == "1" {
		err := KeyringStore{Service: "omniphone-test"}.Set(SyncToken, "x")
		var ue *UnavailableError
		if !errors.As(err, &ue) {
			t.Fatalf("want UnavailableError, got %v", err)
		}
		if !strings.Contains(err.Error(), "Secret Service") {
			t.Fatalf("the message must name the way out: %v", err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIntegration_KeyringUnavailable$", "-test.v")
	cmd.Env = append(os.Environ(), "OMNIPHONE_TEST_NO_KEYRING=1",
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "--- PASS")
}

func requireSecretService(t *testing.T) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		if _, err := exec.LookPath("secret-tool"); err == nil {
			return
		}
	}
	if os.Getenv("OMNIPHONE_REQUIRE_PEERS") == "1" {
		t.Fatal("needs a Secret Service on a D-Bus session and secret-tool: run `make test` (it installs gnome-keyring and libsecret-tools and starts them)")
	}
	t.Skip("no D-Bus session with a Secret Service; `make test` provides one")
}

func TestWatchedStore_ReportsEverySecretItHandles(t *testing.T) {
	var seen []string
	store := WatchedStore{Store: NewFileStore(filepath.Join(t.TempDir(), "s.json")), OnSecret: func(v string) { seen = append(seen, v) }}
	testStore(t, store)
	require.Equal(t, []string{"s3cret-one", "s3cret-one", "s3cret-two", "s3cret-two"}, seen)
}

// TestSecrets_NeverInTheSettingsFile saves a configuration whose secrets
// went to a store and checks the settings file holds none of them.
func TestSecrets_NeverInTheSettingsFile(t *testing.T) {
	dir := t.TempDir()
	store := NewFileStore(filepath.Join(dir, "secrets.json"))
	s := configured()
	secrets := map[SecretKey]string{}
	for i, k := range s.SecretKeys() {
		secrets[k] = fmt.Sprintf("value-%d-%s", i, strings.ReplaceAll(string(k), "/", "-"))
		require.NoError(t, store.Set(k, secrets[k]))
	}
	d := Dir{Path: dir}
	require.NoError(t, d.Save(s))
	var out strings.Builder
	require.NoError(t, Write(&out, s))
	data, err := os.ReadFile(d.File())
	require.NoError(t, err)
	for _, v := range secrets {
		require.NotContains(t, string(data), v)
		require.NotContains(t, out.String(), v, "export")
	}
}
