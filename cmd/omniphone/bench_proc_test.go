package main

// Process measurements for the desktop benchmarks, the same way
// shared/reference/anchor-baselines.md measured Linphone: CPU is
// Δ(utime+stime) of the process and its descendants from /proc, RSS is
// VmRSS summed over them.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omniphone/omniphone/sip/siptest"
)

// clockTicks is USER_HZ: /proc's CPU times are in these units (100 on Linux).
const clockTicks = 100

// procTree is a process and its descendants, as found in /proc now.
func procTree(root int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f, ok := statFields(pid); ok {
			if ppid, err := strconv.Atoi(f[1]); err == nil {
				children[ppid] = append(children[ppid], pid)
			}
		}
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree
}

// statFields are /proc/PID/stat's fields after the command name: [0] is
// the state, [1] the parent, [11] utime and [12] stime.
func statFields(pid int) ([]string, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil, false
	}
	i := bytes.LastIndexByte(b, ')') // the name may hold spaces and parentheses
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(string(b[i+1:]))
	return f, len(f) > 12
}

// cpuTime is the CPU time used so far by root and its descendants.
func cpuTime(root int) time.Duration {
	var ticks int64
	for _, pid := range procTree(root) {
		if f, ok := statFields(pid); ok {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// rssMiB is VmRSS summed over root and its descendants, in MiB.
func rssMiB(root int) float64 {
	var kb int64
	for _, pid := range procTree(root) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				kb += n
			}
		}
	}
	return float64(kb) / 1024
}

// idleCPU is the CPU pid's tree uses over window, in percent of one core.
func idleCPU(pid int, window time.Duration) float64 {
	before, start := cpuTime(pid), time.Now()
	time.Sleep(window)
	used, wall := cpuTime(pid)-before, time.Since(start)
	return 100 * used.Seconds() / wall.Seconds()
}

// percentile is the nearest-rank p-th percentile of samples (ms).
func percentile(samples []float64, p float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// xViewable reports whether a top-level window called name is mapped and
// viewable on DISPLAY.
func xViewable(name string) bool {
	out, err := exec.Command("xwininfo", "-name", name).Output()
	return err == nil && bytes.Contains(out, []byte("IsViewable"))
}

// launched is a desktop app started by a benchmark, in its own process group.
type launched struct {
	cmd    *exec.Cmd
	exited chan struct{}
	log    string
}

// launch starts bin with env in dir, its output in dir/name.log; the
// benchmark's cleanup stops it.
func launch(b testing.TB, name, dir string, env []string, bin string, args ...string) *launched {
	b.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		b.Fatalf("%s log: %v", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		b.Fatalf("start %s: %v", name, err)
	}
	l := &launched{cmd: cmd, exited: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(l.exited) }()
	b.Cleanup(l.stop)
	return l
}

// waitViewable polls every 10 ms (the anchor used 20 ms) until the window
// is viewable and returns the time since start.
func (l *launched) waitViewable(window string, start time.Time) (time.Duration, error) {
	deadline := start.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if xViewable(window) {
			return time.Since(start), nil
		}
		select {
		case <-l.exited:
			return 0, fmt.Errorf("%s exited before its window %q appeared:\n%s", l.cmd.Path, window, l.logTail())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("%s: no viewable window %q within 60 s:\n%s", l.cmd.Path, window, l.logTail())
}

// logTail is the end of the app's output.
func (l *launched) logTail() string {
	out, _ := os.ReadFile(l.log)
	return siptest.Tail(string(out), 3000)
}

// stop ends the app's process group: SIGTERM, then SIGKILL after 10 s.
func (l *launched) stop() {
	select {
	case <-l.exited:
		return // its process group may be gone, and its id reused
	default:
	}
	pgid := l.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-l.exited:
	case <-time.After(10 * time.Second):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-l.exited
}
