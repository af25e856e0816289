package sync_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/b24sim"
)

// The throughput benchmarks run the simulator in a process of its own (this
// test binary again, see TestMain), so the CPU time of the node, of the
// simulator and of PostgreSQL can each be measured: on one machine of two
// shared cores they compete, and calls/s alone cannot say whose time it is.

// simChildEnv names the seed file a child simulator serves.
const simChildEnv = "OMNISYNC_TEST_SIM_SEED"

// Two aids for finding where a benchmark's CPU goes, set by hand:
// simProfileEnv names a file the child simulator writes its CPU profile
// to (the node's comes from go test -cpuprofile), and pgStatsEnv a file
// that gets PostgreSQL's pg_stat_statements (the statements by total time)
// and the ledger's row sizes when the benchmark's server stops.
const (
	simProfileEnv = "OMNISYNC_BENCH_SIM_CPUPROFILE"
	pgStatsEnv    = "OMNISYNC_BENCH_PGSTATS"
)

func TestMain(m *testing.M) {
	if seed := os.Getenv(simChildEnv); seed != "" {
		if err := serveSimChild(seed, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "simulator:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveSimChild serves a simulator with the seed on 127.0.0.1, writes its
// URL to out and stops when in closes.
func serveSimChild(seedFile string, in io.Reader, out io.Writer) error {
	seed, err := b24sim.LoadSeed(seedFile)
	if err != nil {
		return err
	}
	sim, err := b24sim.New(b24sim.Options{Mode: b24sim.ModeClassic, WebhookUserID: 1, WebhookCode: hookCode, Seed: seed, LogSize: 100000})
	if err != nil {
		return err
	}
	defer func() { _ = sim.Close() }()
	if prof := os.Getenv(simProfileEnv); prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	if _, err := fmt.Fprintf(out, "http://%s\n", ln.Addr()); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, in)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// simProcess is a simulator in a child process.
type simProcess struct {
	*portal
	pid int
}

// startSimProcess starts a classic-mode simulator with seed in a child
// process; the test's cleanup stops it.
func startSimProcess(t testing.TB, seed *b24sim.Seed) *simProcess {
	t.Helper()
	data, err := json.Marshal(seed)
	require.NoError(t, err)
	seedFile := filepath.Join(t.TempDir(), "seed.json")
	require.NoError(t, os.WriteFile(seedFile, data, 0o600))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// GOGC=400: the simulator stands in for Bitrix24, whose servers are
	// not on the node's cores; a fifth of its CPU was its garbage
	// collector marking a heap of every entity the run created. Collecting
	// a quarter as often keeps that off the node's share (its heap stays
	// far below the machine's memory).
	cmd.Env = append(os.Environ(), simChildEnv+"="+seedFile, "GOGC=400")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	url, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "the simulator did not start")
	// Only the URL is used: readLog and the node talk HTTP to it.
	return &simProcess{portal: &portal{srv: &httptest.Server{URL: strings.TrimSpace(url)}}, pid: cmd.Process.Pid}
}

// clockTick is Linux's USER_HZ, the unit of /proc/<pid>/stat times.
const clockTick = 10 * time.Millisecond

// procCPU is the CPU time (user + system) of pid and, with children, of
// the processes it started (PostgreSQL's backends), from /proc.
func procCPU(pid int, children bool) (time.Duration, error) {
	total, _, err := procStat(pid)
	if err != nil || !children {
		return total, err
	}
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	for _, d := range dirs {
		p, err := strconv.Atoi(filepath.Base(d))
		if err != nil || p == pid {
			continue
		}
		cpu, ppid, err := procStat(p)
		if err == nil && ppid == pid {
			total += cpu
		}
	}
	return total, nil
}

// procStat reads a process's CPU time and parent from /proc/<pid>/stat.
func procStat(pid int) (time.Duration, int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may hold spaces: the fields
	// after it are state, ppid, … utime (14th field), stime (15th).
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, 0, errors.New("short /proc stat")
	}
	ppid, _ := strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * clockTick, ppid, nil
}

// selfCPU is this process's CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postmasterPID reads the PostgreSQL cluster's postmaster.pid.
func postmasterPID(dataDir string) (int, error) {
	data, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}
