package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File names inside the profile directory.
const (
	FileName   = "settings.json"
	BackupName = "settings.json.bak"
	tempSuffix = ".tmp"
)

// ParseError says why a settings document could not be read, and where.
type ParseError struct {
	// Path is the file, if the document came from one.
	Path string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Field is the JSON path of the offending field, when known.
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
	} else {
		b.WriteString("settings")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads a settings document: JSON, a known version (older versions are
// migrated), no unknown fields, and valid (Validate). Problems from Validate
// are returned as Problems; anything else as *ParseError.
func Parse(data []byte) (Settings, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return Settings{}, syntaxError(data, err)
	}
	if doc == nil {
		return Settings{}, &ParseError{Err: errors.New("the document must be a JSON object {…}")}
	}
	if _, err := migrate(doc); err != nil {
		return Settings{}, &ParseError{Field: "version", Err: err}
	}
	migrated, err := json.Marshal(doc)
	if err != nil {
		return Settings{}, &ParseError{Err: err}
	}
	s := Default()
	dec := json.NewDecoder(bytes.NewReader(migrated))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		// Offsets refer to the migrated document; find the field in the
		// original text instead, which is what the person edits.
		return Settings{}, fieldError(data, err)
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	return s, nil
}

func syntaxError(data []byte, err error) error {
	pe := &ParseError{Err: err}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		pe.Line, pe.Column = lineCol(data, se.Offset)
		pe.Err = fmt.Errorf("not valid JSON: %s", se.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		pe.Err = errors.New("the document must be a JSON object {…}")
	}
	return pe
}

func fieldError(data []byte, err error) error {
	pe := &ParseError{Err: err}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		pe.Field = te.Field
		pe.Err = fmt.Errorf("must be %s, not a JSON %s", jsonKind(te.Type.Kind().String()), te.Value)
		pe.Line, pe.Column = locateKey(data, lastKey(te.Field))
		return pe
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, unknown) {
		name := strings.Trim(strings.TrimPrefix(msg, unknown), `"`)
		pe.Field = name
		pe.Err = errors.New("unknown setting: remove it (secrets such as passwords never belong in this file) or check its spelling")
		pe.Line, pe.Column = locateKey(data, name)
	}
	return pe
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "float64":
		return "a number"
	case "slice":
		return "a list [...]"
	case "struct", "map":
		return "an object {...}"
	default:
		return goKind
	}
}

func lastKey(field string) string {
	if i := strings.LastIndex(field, "."); i >= 0 {
		return field[i+1:]
	}
	return field
}

// locateKey finds the first "key": in data and returns its line and column.
func locateKey(data []byte, key string) (int, int) {
	if key == "" {
		return 0, 0
	}
	i := bytes.Index(data, []byte(`"`+key+`"`))
	if i < 0 {
		return 0, 0
	}
	return lineCol(data, int64(i)+1)
}

// lineCol turns a 1-based byte offset into a 1-based line and column.
func lineCol(data []byte, offset int64) (int, int) {
	if offset < 1 {
		offset = 1
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:max(offset-1, 0)]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// Marshal encodes settings as the JSON document Save writes and Export
// prints: indented, with a trailing newline.
func Marshal(s Settings) ([]byte, error) {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	return append(data, '\n'), nil
}

// Dir is a profile directory holding settings.json and its backup.
type Dir struct {
	Path string
	// beforeRename, when set, runs after the new file is written and synced
	// and before it replaces the old one (tests simulate a crash there).
	beforeRename func() error
}

// File returns the settings file's path.
func (d Dir) File() string { return filepath.Join(d.Path, FileName) }

// Backup returns the backup file's path.
func (d Dir) Backup() string { return filepath.Join(d.Path, BackupName) }

// Load reads settings.json. A missing file gives the defaults of a fresh
// install. A broken file is left untouched and the error (*ParseError or
// Problems) says what and where; the caller may offer LoadBackup.
func (d Dir) Load() (Settings, error) {
	return d.load(d.File(), true)
}

// LoadBackup reads the previous settings kept by the last Save.
func (d Dir) LoadBackup() (Settings, error) {
	return d.load(d.Backup(), false)
}

func (d Dir) load(path string, missingIsDefault bool) (Settings, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && missingIsDefault {
		return Default(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	s, err := Parse(data)
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.Path = path
	}
	var ps Problems
	if errors.As(err, &ps) {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, err
}

// RestoreBackup makes the backup the current settings file (after checking
// that it loads), keeping the broken file as settings.json.broken.
func (d Dir) RestoreBackup() (Settings, error) {
	s, err := d.LoadBackup()
	if err != nil {
		return Settings{}, fmt.Errorf("restore backup: %w", err)
	}
	if _, err := os.Stat(d.File()); err == nil {
		if err := os.Rename(d.File(), d.File()+".broken"); err != nil {
			return Settings{}, fmt.Errorf("restore backup: keep the broken file: %w", err)
		}
	}
	if err := d.write(s, false); err != nil {
		return Settings{}, fmt.Errorf("restore backup: %w", err)
	}
	return s, nil
}

// Save validates s and writes it all at once (SPEC P4): to a temporary file
// in the same directory, fsynced, then renamed over settings.json. The
// previous file is kept as settings.json.bak. On any error nothing changes.
func (d Dir) Save(s Settings) error {
	s.Version = CurrentVersion
	if err := s.Validate(); err != nil {
		return fmt.Errorf("settings not saved: %w", err)
	}
	return d.write(s, true)
}

func (d Dir) write(s Settings, keepBackup bool) error {
	data, err := Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return fmt.Errorf("create profile directory: %w", err)
	}
	tmp := d.File() + tempSuffix
	if err := writeSynced(tmp, data); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if keepBackup {
		if err := d.keepBackup(); err != nil {
			_ = os.Remove(tmp)
			return err
		}
	}
	if d.beforeRename != nil {
		if err := d.beforeRename(); err != nil {
			_ = os.Remove(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, d.File()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("replace settings file: %w", err)
	}
	return syncDir(d.Path)
}

// keepBackup makes settings.json.bak a copy of the current settings.json,
// itself written atomically, so at every instant both names hold a whole
// file. A current file that does not load goes to settings.json.broken.
func (d Dir) keepBackup() error {
	cur, err := os.ReadFile(d.File())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read current settings for the backup: %w", err)
	}
	target := d.Backup()
	if _, perr := Parse(cur); perr != nil {
		// Never let a broken file overwrite the last good backup; keep it
		// aside instead, so the hand edit is not lost.
		target = d.File() + ".broken"
	}
	tmp := target + tempSuffix
	if err := writeSynced(tmp, cur); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("keep settings backup: %w", err)
	}
	return nil
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write settings: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync settings to disk: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	return nil
}

func syncDir(path string) error {
	dir, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync profile directory: %w", err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return fmt.Errorf("sync profile directory: %w", err)
	}
	return nil
}

// ReadFile parses a settings document from a file (import, validate).
func ReadFile(path string) (Settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Settings{}, fmt.Errorf("read %s: %w", path, err)
	}
	s, err := Parse(data)
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.Path = path
	}
	return s, err
}

// Write encodes s to w (export). Secrets are never part of Settings, so an
// export never holds one.
func Write(w io.Writer, s Settings) error {
	data, err := Marshal(s)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	return nil
}
