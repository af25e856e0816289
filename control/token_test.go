package control

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadToken_CreatesAPrivateRandomToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "profile")
	tok, err := LoadToken(dir)
	require.NoError(t, err)
	require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{64}$`), tok, "32 random bytes in hex")
	info, err := os.Stat(filepath.Join(dir, TokenFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	again, err := LoadToken(dir)
	require.NoError(t, err)
	require.Equal(t, tok, again, "the token is kept")

	other, err := LoadToken(t.TempDir())
	require.NoError(t, err)
	require.NotEqual(t, tok, other)
}

func TestLoadToken_RefusesAFileOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, TokenFile)
	require.NoError(t, os.WriteFile(path, []byte("0123456789abcdef0123\n"), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	_, err := LoadToken(dir)
	require.ErrorContains(t, err, "chmod 600")
}

func TestCheckAddr(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:8080", "127.0.0.2:0", "[::1]:9000", "localhost:7000"} {
		require.NoError(t, CheckAddr(ok), ok)
	}
	for _, bad := range []string{"0.0.0.0:8080", ":8080", "192.168.1.5:80", "[::]:80", "example.com:80"} {
		require.ErrorIs(t, CheckAddr(bad), ErrNotLoopback, bad)
	}
	require.Error(t, CheckAddr("127.0.0.1"), "a port is needed")
}

func TestListen_LoopbackOnly(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	_, err = Listen("0.0.0.0:0")
	require.ErrorIs(t, err, ErrNotLoopback)
}
