package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// MaxFileSize is the size past which the log is rotated when opened.
const MaxFileSize = 10 << 20

// Options configure a logger.
type Options struct {
	// Level is the lowest level written; the zero value is Info.
	Level slog.Leveler
	// Redactor masks secrets; nil makes a fresh one.
	Redactor *Redactor
}

// NewHandler returns a text handler writing to w with secrets redacted.
func NewHandler(w io.Writer, opts Options) slog.Handler {
	r := opts.Redactor
	if r == nil {
		r = NewRedactor()
	}
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: opts.Level, ReplaceAttr: r.replaceAttr})
}

// OpenFile opens (creating, 0600) the log file at path for appending. A file
// already over MaxFileSize is first moved to path.1, replacing the previous
// one, so at most two files are kept.
func OpenFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	if info, err := os.Stat(path); err == nil && info.Size() > MaxFileSize {
		if err := os.Rename(path, path+".1"); err != nil {
			return nil, fmt.Errorf("rotate log: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	return f, nil
}
