package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestInstance_C5_SecondClaimHandsOver(t *testing.T) {
	dir := t.TempDir()
	first, err := claimInstance(dir)
	require.NoError(t, err)
	info, err := os.Stat(socketPath(dir))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "only this user may hand over links")

	_, err = claimInstance(dir)
	require.ErrorIs(t, err, errAlreadyRunning)

	got := make(chan instanceRequest, 2)
	first.Serve(func(_ context.Context, req instanceRequest) (string, error) {
		got <- req
		if req.Link == "tel:404" {
			return "", errors.New("call 404: not found")
		}
		return "dialling " + req.Link, nil
	})
	note, err := handOverTo(t, dir, instanceRequest{Link: "tel:+79123456789"})
	require.NoError(t, err)
	require.Equal(t, "dialling tel:+79123456789", note)
	require.Equal(t, instanceRequest{Link: "tel:+79123456789"}, <-got)

	_, err = handOverTo(t, dir, instanceRequest{Link: "tel:404"})
	require.ErrorContains(t, err, "the running omniphone: call 404: not found", "the first instance's error reaches the second launch")
	<-got

	require.NoError(t, first.Close())
	_, err = os.Stat(socketPath(dir))
	require.ErrorIs(t, err, os.ErrNotExist, "a clean exit removes the socket")
	again, err := claimInstance(dir)
	require.NoError(t, err, "the lock is free after Close")
	require.NoError(t, again.Close())
}

// TestInstance_C5_StaleSocketIsTakenOver: a crash leaves the socket file
// but not the lock; the next instance replaces the socket.
func TestInstance_C5_StaleSocketIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: socketPath(dir), Net: "unix"})
	require.NoError(t, err)
	ln.SetUnlinkOnClose(false)
	require.NoError(t, ln.Close())
	_, err = os.Stat(socketPath(dir))
	require.NoError(t, err, "the stale socket is there")

	in, err := claimInstance(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = in.Close() })
	in.Serve(func(context.Context, instanceRequest) (string, error) { return "window raised", nil })
	note, err := handOverTo(t, dir, instanceRequest{})
	require.NoError(t, err)
	require.Equal(t, "window raised", note)
}

func TestInstance_LongProfilePathUsesAHashedSocket(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir := filepath.Join(t.TempDir(), strings.Repeat("p", 120))
	p := socketPath(dir)
	require.LessOrEqual(t, len(p), maxSocketPath+20)
	require.True(t, strings.HasPrefix(p, os.Getenv("XDG_RUNTIME_DIR")))
	require.NotEqual(t, p, socketPath(dir+"2"), "each profile has its own")
	in, err := claimInstance(dir)
	require.NoError(t, err)
	in.Serve(func(context.Context, instanceRequest) (string, error) { return "ok", nil })
	_, err = handOverTo(t, dir, instanceRequest{})
	require.NoError(t, err)
	require.NoError(t, in.Close())

	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	require.True(t, strings.HasPrefix(socketPath(dir), filepath.Join(os.Getenv("XDG_CACHE_HOME"), "omniphone")+"/"),
		"without a runtime directory: the user's cache, not a shared /tmp")
	in, err = claimInstance(dir)
	require.NoError(t, err)
	require.NoError(t, in.Close())
}

func TestInstance_BadRequestIsAnswered(t *testing.T) {
	dir := t.TempDir()
	in, err := claimInstance(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = in.Close() })
	in.Serve(func(context.Context, instanceRequest) (string, error) {
		t.Error("no request should reach the handler")
		return "", nil
	})
	c, err := net.Dial("unix", socketPath(dir))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("{not json\n"))
	require.NoError(t, err)
	buf := make([]byte, 256)
	n, _ := c.Read(buf)
	require.Contains(t, string(buf[:n]), `"error":"bad request`)
}

// TestInstance_C5_LaunchWhileQuittingTakesOver: a launch while the running
// omniphone quits (it has stopped serving, it still ends its calls and
// holds the lock) does not hand its link to the quitting app: it waits,
// and becomes the instance once the other has exited.
func TestInstance_C5_LaunchWhileQuittingTakesOver(t *testing.T) {
	dir := t.TempDir()
	first, err := claimInstance(dir)
	require.NoError(t, err)
	first.Serve(func(context.Context, instanceRequest) (string, error) { return "window raised", nil })
	in, note, err := claimOrHandOver(context.Background(), dir, instanceRequest{})
	require.NoError(t, err)
	require.Nil(t, in)
	require.Equal(t, "window raised", note, "the serving instance took the hand-over")
	require.NoError(t, first.StopServing())

	type claimed struct {
		in   *instance
		note string
		err  error
	}
	done := make(chan claimed, 1)
	go func() {
		in, note, err := claimOrHandOver(context.Background(), dir, instanceRequest{Link: "tel:101"})
		done <- claimed{in, note, err}
	}()
	select {
	case c := <-done:
		t.Fatalf("the launch went ahead while the other instance held the profile: %+v", c)
	case <-time.After(500 * time.Millisecond): // several rounds of its 100 ms poll
	}
	require.NoError(t, first.Close())
	c := <-done
	require.NoError(t, c.err)
	require.NotNil(t, c.in, "the launch is the instance now")
	require.NoError(t, c.in.Close())
}

// handOverTo hands req to the running instance of dir, which must be
// running, and returns its note.
func handOverTo(t *testing.T, dir string, req instanceRequest) (string, error) {
	t.Helper()
	in, note, err := claimOrHandOver(context.Background(), dir, req)
	if in != nil {
		_ = in.Close()
		t.Fatal("no instance was running: this launch became it")
	}
	return note, err
}
