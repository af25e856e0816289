package calllog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/omniphone/omniphone/crm"
)

// HistoryItem is one finished call as History shows it.
type HistoryItem struct {
	Record crm.Call `json:"record"`
	// Name is the caller's CRM name when the card found one.
	Name string `json:"name,omitempty"`
	// Elsewhere: another device of the operator answered the call
	// (sip.CauseAnsweredElsewhere); it was not handed to the sync engine.
	Elsewhere bool `json:"elsewhere,omitempty"`
}

// History keeps the window's call list across restarts: one JSON line per
// call in a 0600 file of the profile, newest last. The sync state is not
// stored; the sync engine's ledger is asked for it.
type History struct {
	path string
	keep int
	mu   sync.Mutex
	// lines is how many calls the file holds, once read (-1 before):
	// Append trims only when it reaches twice keep, without re-reading
	// the file for every call.
	lines int
}

// HistoryFileName is the file in the profile directory.
const HistoryFileName = "history.jsonl"

// OpenHistory returns the history in dir, keeping about the last keep calls
// (the file is trimmed when it holds twice as many).
func OpenHistory(dir string, keep int) *History {
	return &History{path: filepath.Join(dir, HistoryFileName), keep: max(keep, 1), lines: -1}
}

// Append adds a finished call.
func (h *History) Append(it HistoryItem) error {
	line, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	f, err := os.OpenFile(h.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	_, werr := f.Write(append(line, '\n'))
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if h.lines < 0 {
		items, bad, err := h.readLocked()
		if err != nil {
			return err
		}
		h.lines = len(items) + bad
	} else {
		h.lines++
	}
	if h.lines < 2*h.keep {
		return nil
	}
	return h.trimLocked()
}

// Recent returns up to the last n calls, oldest first. Lines that do not
// parse (a crash mid-write, a hand edit) are skipped and counted in bad.
func (h *History) Recent(n int) (items []HistoryItem, bad int, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	items, bad, err = h.readLocked()
	if err == nil {
		h.lines = len(items) + bad
	}
	if len(items) > n {
		items = items[len(items)-n:]
	}
	return items, bad, err
}

func (h *History) readLocked() ([]HistoryItem, int, error) {
	data, err := os.ReadFile(h.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("history: %w", err)
	}
	var items []HistoryItem
	bad := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var it HistoryItem
		if json.Unmarshal(line, &it) != nil || it.Record.ID == "" {
			bad++
			continue
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		return items, bad, fmt.Errorf("history: %w", err)
	}
	return items, bad, nil
}

// trimLocked rewrites the file with the last keep calls (write to a
// temporary file, then rename); unreadable lines go with the trim.
func (h *History) trimLocked() error {
	items, _, err := h.readLocked()
	if err != nil {
		return err
	}
	if len(items) > h.keep {
		items = items[len(items)-h.keep:]
	}
	var buf bytes.Buffer
	for _, it := range items {
		line, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		buf.Write(append(line, '\n'))
	}
	tmp := h.path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if err := os.Rename(tmp, h.path); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	h.lines = len(items)
	return nil
}
