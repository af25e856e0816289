package b24sim

import (
	"sync"
	"time"
)

// logEntry is one line of the request log served at /_sim/requests.
type logEntry struct {
	Time       time.Time `json:"time"`
	HTTPMethod string    `json:"http_method"`
	Method     string    `json:"method"`
	Auth       string    `json:"auth,omitempty"`
	Status     int       `json:"status"`
	Error      string    `json:"error,omitempty"`
	Fault      string    `json:"fault,omitempty"`
	DurationUS int64     `json:"duration_us"`
	Commands   []string  `json:"commands,omitempty"`
}

// requestLog keeps the last N requests and per-method counters.
type requestLog struct {
	mu       sync.Mutex
	size     int
	entries  []logEntry // ring buffer of size entries; head is the oldest
	head     int
	counts   map[string]int
	commands map[string]int
	total    int
	// locked is the time methods held the state lock: the simulator's
	// serial part, which bounds its throughput whatever the client does.
	locked time.Duration
}

// addLocked adds time a method held the state lock.
func (l *requestLog) addLocked(d time.Duration) {
	l.mu.Lock()
	l.locked += d
	l.mu.Unlock()
}

func newRequestLog(size int) *requestLog {
	return &requestLog{size: size, counts: map[string]int{}, commands: map[string]int{}}
}

func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries, l.head = nil, 0
	l.counts = map[string]int{}
	l.commands = map[string]int{}
	l.total = 0
	l.locked = 0
}

func (l *requestLog) add(now time.Time, e logEntry) {
	if e.Time.IsZero() {
		e.Time = now
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	l.counts[e.Method]++
	for _, c := range e.Commands {
		l.commands[c]++
	}
	if len(l.entries) < l.size {
		l.entries = append(l.entries, e)
		return
	}
	l.entries[l.head] = e
	l.head = (l.head + 1) % l.size
}

// snapshot returns a JSON-ready copy of the log.
func (l *requestLog) snapshot() obj {
	l.mu.Lock()
	defer l.mu.Unlock()
	counts := obj{}
	for k, v := range l.counts {
		counts[k] = v
	}
	cmds := obj{}
	for k, v := range l.commands {
		cmds[k] = v
	}
	return obj{
		"total":          l.total,
		"locked_us":      l.locked.Microseconds(),
		"counts":         counts,
		"batch_commands": cmds,
		"requests":       append(append([]logEntry{}, l.entries[l.head:]...), l.entries[:l.head]...),
	}
}
