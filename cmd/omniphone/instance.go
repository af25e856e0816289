package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// One running omniphone per profile (SPEC C5). The first instance locks
// omniphone.lock in the profile directory and listens on a unix socket
// there (mode 0600: only this user connects). A later launch finds the lock
// taken, hands its link — or, without one, a request to raise the window —
// to the socket and exits. The lock is the kernel's (flock, LockFileEx), so
// a crashed instance leaves no lock behind; the socket file it leaves is
// stale and the next instance replaces it. This also keeps one process per
// profile's SQLite sync database.

const (
	lockFile   = "omniphone.lock"
	socketFile = "omniphone.sock"
	// maxSocketPath is below the smallest sun_path (104 bytes on macOS).
	maxSocketPath = 100
	// handOverWait is how long the running instance gives one hand-over,
	// reading it and carrying it out (a later launch waits up to quitWait
	// in all, claimOrHandOver).
	handOverWait = 20 * time.Second
	// requestLimit bounds one hand-over message.
	requestLimit = 8 << 10
)

// errAlreadyRunning means another omniphone holds this profile.
var errAlreadyRunning = errors.New("omniphone is already running with this profile")

// instanceRequest is what a second launch hands over: a link to dial, a
// call action (--answer, --hangup), or nothing (raise the window).
type instanceRequest struct {
	Link   string `json:"link,omitempty"`
	Action string `json:"action,omitempty"`
}

// Call actions a later launch can hand over: a desktop binds them to
// global keys (Fyne has none of its own).
const (
	actionAnswer = "answer"
	actionHangup = "hangup"
)

// instanceReply is the running instance's answer.
type instanceReply struct {
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

// instanceHandler carries out a hand-over and says what it did.
type instanceHandler func(ctx context.Context, req instanceRequest) (string, error)

// instance is this profile's running omniphone: it holds the lock and
// serves hand-overs from later launches. Close releases both.
type instance struct {
	lock *os.File
	ln   *net.UnixListener
	path string

	mu      sync.Mutex
	serving bool
	stopped bool
	wg      sync.WaitGroup
}

// socketPath is where the instance of profile dir listens: in the profile,
// or — when that path is too long for a unix socket — in the user's
// runtime directory (else the user's cache directory, not a shared /tmp),
// named by a hash of the profile.
func socketPath(dir string) string {
	p := filepath.Join(dir, socketFile)
	if len(p) <= maxSocketPath {
		return p
	}
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" {
		if cache, err := os.UserCacheDir(); err == nil {
			base = filepath.Join(cache, "omniphone")
		} else {
			base = dir // too long: Listen says so
		}
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(base, "omniphone-"+hex.EncodeToString(sum[:8])+".sock")
}

// claimInstance makes this process the profile's instance, or returns
// errAlreadyRunning. The socket listens at once, so hand-overs queue until
// Serve.
func claimInstance(dir string) (*instance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("profile directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("instance lock: %w", err)
	}
	if err := lockExclusive(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	in := &instance{lock: f, path: socketPath(dir)}
	if err := os.MkdirAll(filepath.Dir(in.path), 0o700); err != nil {
		in.release()
		return nil, fmt.Errorf("instance socket: %w", err)
	}
	// We hold the lock: a socket file left here is a crashed instance's.
	if err := os.Remove(in.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		in.release()
		return nil, fmt.Errorf("remove the stale instance socket: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: in.path, Net: "unix"})
	if err != nil {
		in.release()
		return nil, fmt.Errorf("instance socket: %w", err)
	}
	in.ln = ln
	if err := os.Chmod(in.path, 0o600); err != nil {
		_ = in.Close()
		return nil, fmt.Errorf("instance socket: %w", err)
	}
	return in, nil
}

func (in *instance) release() {
	_ = unlock(in.lock)
	_ = in.lock.Close()
}

// Serve answers hand-overs with h until Close; it returns at once.
func (in *instance) Serve(h instanceHandler) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.serving {
		return
	}
	in.serving = true
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		for {
			c, err := in.ln.Accept()
			if err != nil {
				return // closed
			}
			in.wg.Add(1)
			go func() {
				defer in.wg.Done()
				serveHandOver(c, h)
			}()
		}
	}()
}

func serveHandOver(c net.Conn, h instanceHandler) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(handOverWait))
	line, err := bufio.NewReader(io.LimitReader(c, requestLimit)).ReadBytes('\n')
	var rep instanceReply
	var req instanceRequest
	if err != nil {
		rep.Error = fmt.Sprintf("read the request: %v", err)
	} else if err := json.Unmarshal(line, &req); err != nil {
		rep.Error = fmt.Sprintf("bad request: %v", err)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), handOverWait-2*time.Second)
		rep.Note, err = h(ctx, req)
		cancel()
		if err != nil {
			rep.Error = err.Error()
		}
	}
	_ = json.NewEncoder(c).Encode(rep)
}

// StopServing stops taking hand-overs and waits for those in progress,
// but keeps the lock: the app is quitting (its window is gone, its calls
// are ending and their records going to the sync engine). A launch from
// then on waits for the lock instead of handing its link to an app that
// can no longer act on it (claimOrHandOver).
func (in *instance) StopServing() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.stopped {
		return nil
	}
	in.stopped = true
	err := in.ln.Close() // removes the socket file too
	in.wg.Wait()
	return err
}

// Close stops serving, waits for the hand-overs in progress, removes the
// socket and releases the lock.
func (in *instance) Close() error {
	err := in.StopServing()
	in.release()
	return err
}

// quitWait is how long a launch waits for an instance that has stopped
// serving to exit: ending its calls (a BYE may wait 10 s for its answer)
// and handing their records over.
const quitWait = 30 * time.Second

// claimOrHandOver makes this process the profile's instance or hands req
// to the running one. It returns the instance, or the running one's note.
// An instance that holds the lock without listening is starting (it is
// about to listen) or quitting (it has stopped): both are waited for —
// the first until it listens, the second until it exits and this process
// takes its place.
func claimOrHandOver(ctx context.Context, dir string, req instanceRequest) (*instance, string, error) {
	ctx, cancel := context.WithTimeout(ctx, quitWait)
	defer cancel()
	for {
		in, err := claimInstance(dir)
		if !errors.Is(err, errAlreadyRunning) {
			return in, "", err
		}
		var d net.Dialer
		if c, err := d.DialContext(ctx, "unix", socketPath(dir)); err == nil {
			note, err := handOver(ctx, c, req)
			return nil, note, err
		}
		select {
		case <-ctx.Done():
			return nil, "", fmt.Errorf("the running omniphone neither answers on %s nor exits", socketPath(dir))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// handOver sends req over c, a connection to the running instance, and
// returns its note; it closes c.
func handOver(ctx context.Context, c net.Conn, req instanceRequest) (string, error) {
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return "", fmt.Errorf("hand over to the running omniphone: %w", err)
	}
	var rep instanceReply
	if err := json.NewDecoder(c).Decode(&rep); err != nil {
		return "", fmt.Errorf("the running omniphone's answer: %w", err)
	}
	if rep.Error != "" {
		return "", fmt.Errorf("the running omniphone: %s", rep.Error)
	}
	return rep.Note, nil
}
