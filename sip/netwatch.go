package sip

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// resumeGap is how far the wall clock may run ahead of the monotonic clock
// between two polls before we call it a resume from suspend (the monotonic
// clock stops while the machine sleeps; the wall clock does not).
const resumeGap = 3 * time.Second

// netWatch polls the machine's interface addresses and the clocks, and
// calls changed when an address appeared or went away or the machine
// resumed from suspend. Polling is portable and costs one getifaddrs every
// few seconds.
type netWatch struct {
	every time.Duration
	addrs func() (string, error)
	// since is the address list to compare the first poll with (the one
	// the SIP stack was built with); empty means the list when run starts.
	since   string
	wall    func() time.Time // wall-clock reading without the monotonic part
	changed func(reason string)
}

func newNetWatch(every time.Duration, changed func(reason string)) *netWatch {
	return &netWatch{
		every:   every,
		addrs:   interfaceAddrs,
		wall:    func() time.Time { return time.Now().Round(0) },
		changed: changed,
	}
}

// run polls until ctx ends.
func (w *netWatch) run(ctx context.Context) {
	if w.every <= 0 {
		return
	}
	last := w.since
	if last == "" {
		last, _ = w.addrs()
	}
	lastMono, lastWall := time.Now(), w.wall()
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		mono, wall := time.Now(), w.wall()
		if gap := wall.Sub(lastWall) - mono.Sub(lastMono); gap > resumeGap {
			w.changed(fmt.Sprintf("resumed (wall clock %s ahead)", gap.Round(time.Second)))
		}
		lastMono, lastWall = mono, wall
		cur, err := w.addrs()
		if err != nil {
			continue // keep the last good list
		}
		if cur != last {
			w.changed("network addresses changed: " + cur)
			last = cur
		}
	}
}

// interfaceAddrs lists the addresses of the interfaces that are up, sorted.
func interfaceAddrs() (string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("list interfaces: %w", err)
	}
	var out []string
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			return "", fmt.Errorf("addresses of %s: %w", ifc.Name, err)
		}
		for _, a := range addrs {
			out = append(out, ifc.Name+"="+a.String())
		}
	}
	slices.Sort(out)
	return strings.Join(out, " "), nil
}
