package settings

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJSON_RoundTrip(t *testing.T) {
	for name, s := range map[string]Settings{"default": Default(), "configured": configured()} {
		t.Run(name, func(t *testing.T) {
			data, err := Marshal(s)
			require.NoError(t, err)
			got, err := Parse(data)
			require.NoError(t, err)
			require.Equal(t, s, got)
			again, err := Marshal(got)
			require.NoError(t, err)
			require.Equal(t, string(data), string(again), "encoding is stable")
		})
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		line, col int
		field     string
		message   string
	}{
		{"syntax error names line and column", "{\n  \"version\": 1,\n  \"portals\": [,]\n}", 3, 15, "", "not valid JSON"},
		{"truncated file", `{"version": 1, "portals": [`, 1, 27, "", "not valid JSON"},
		{"wrong type names the field", "{\n \"version\": 1,\n \"click_to_call\": {\"enabled\": \"yes\"}\n}", 3, 20, "click_to_call.enabled", "must be true or false, not a JSON string"},
		{"unknown field", "{\n \"version\": 1,\n \"sip\": {\"accounts\": [{\"id\": \"a\", \"password\": \"x\"}]}\n}", 3, 35, "password", "unknown setting"},
		{"newer version", `{"version": 99}`, 0, 0, "version", "newer Omniphone"},
		{"bad version", `{"version": "one"}`, 0, 0, "version", "whole number"},
		{"not an object", `[1, 2]`, 0, 0, "", "JSON object"},
		{"null", `null`, 0, 0, "", "JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "got %v", err)
			require.Equal(t, tt.line, pe.Line, "line")
			require.Equal(t, tt.col, pe.Column, "column")
			require.Equal(t, tt.field, pe.Field)
			require.Contains(t, pe.Error(), tt.message)
		})
	}
}

func TestParse_MigratesVersionZero(t *testing.T) {
	s, err := Parse([]byte(`{"app": {"language": "en"}}`))
	require.NoError(t, err)
	require.Equal(t, CurrentVersion, s.Version)
	require.Equal(t, LanguageEN, s.App.Language)
	require.Equal(t, TalkerLast, s.Responsibles.Talker, "missing sections keep their defaults")
}

func TestParse_InvalidSettingsReportProblems(t *testing.T) {
	_, err := Parse([]byte(`{"version": 1, "click_to_call": {"enabled": true}}`))
	var ps Problems
	require.True(t, errors.As(err, &ps))
	require.Equal(t, "click_to_call.number", ps[0].Path)
}

func TestDir_LoadMissingGivesDefaults(t *testing.T) {
	s, err := Dir{Path: t.TempDir()}.Load()
	require.NoError(t, err)
	require.Equal(t, Default(), s)
}

func TestDir_SaveLoadAndBackup(t *testing.T) {
	d := Dir{Path: filepath.Join(t.TempDir(), "profile")}
	first := configured()
	require.NoError(t, d.Save(first))
	info, err := os.Stat(d.File())
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	_, err = os.Stat(d.Backup())
	require.True(t, os.IsNotExist(err), "no backup before there is a previous file")

	second := configured()
	second.App.Language = LanguageRU
	require.NoError(t, d.Save(second))
	got, err := d.Load()
	require.NoError(t, err)
	require.Equal(t, second, got)
	backup, err := d.LoadBackup()
	require.NoError(t, err)
	require.Equal(t, first, backup, "the previous file is kept as the backup")
	requireNoTempFiles(t, d)
}

func TestDir_P4SaveIsAllOrNothing(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	require.NoError(t, d.Save(configured()))
	before, err := os.ReadFile(d.File())
	require.NoError(t, err)

	bad := configured()
	bad.Responsibles.DefaultOutgoing = 0
	err = d.Save(bad)
	var ps Problems
	require.True(t, errors.As(err, &ps))
	require.Contains(t, err.Error(), "settings not saved")
	after, err := os.ReadFile(d.File())
	require.NoError(t, err)
	require.Equal(t, before, after, "an invalid save writes nothing")
	requireNoTempFiles(t, d)
}

func TestDir_P4CrashBetweenWriteAndRename(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	old := configured()
	require.NoError(t, d.Save(old))
	before, err := os.ReadFile(d.File())
	require.NoError(t, err)

	next := configured()
	next.App.Language = LanguageRU
	d.beforeRename = func() error { return errors.New("power cut") }
	require.ErrorContains(t, d.Save(next), "power cut")
	after, err := os.ReadFile(d.File())
	require.NoError(t, err)
	require.Equal(t, before, after)
	requireNoTempFiles(t, d)
}

// TestDir_P4ProcessKilledBeforeRename kills a real process between writing
// the new file and renaming it, then checks the survivor's view.
func TestDir_P4ProcessKilledBeforeRename(t *testing.T) {
	if dir := os.Getenv("OMNIPHONE_TEST_CRASH_DIR"); dir != "" {
		d := Dir{Path: dir, beforeRename: func() error { os.Exit(3); return nil }}
		next := configured()
		next.App.Language = LanguageRU
		_ = d.Save(next)
		t.Fatal("unreachable: the process exits before the rename")
	}
	d := Dir{Path: t.TempDir()}
	old := configured()
	require.NoError(t, d.Save(old))
	cmd := exec.Command(os.Args[0], "-test.run=^TestDir_P4ProcessKilledBeforeRename$")
	cmd.Env = append(os.Environ(), "OMNIPHONE_TEST_CRASH_DIR="+d.Path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%s", out)
	require.Equal(t, 3, exit.ExitCode(), "%s", out)

	got, err := d.Load()
	require.NoError(t, err)
	require.Equal(t, old, got, "the old settings survive the crash whole")
	_, err = os.Stat(d.File() + tempSuffix)
	require.NoError(t, err, "the half-done write is left aside, not over the real file")

	next := configured()
	next.App.Language = LanguageRU
	require.NoError(t, d.Save(next), "the next save works despite the leftover")
	got, err = d.Load()
	require.NoError(t, err)
	require.Equal(t, next, got)
	requireNoTempFiles(t, d)
}

func TestDir_CorruptFileIsLeftUntouched(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	require.NoError(t, d.Save(configured()))
	good := configured()
	good.App.Language = LanguageRU
	require.NoError(t, d.Save(good)) // the backup now holds configured()

	broken := []byte("{\n  \"version\": 1,\n  \"app\": {\"language\": \"en\",}\n}\n")
	require.NoError(t, os.WriteFile(d.File(), broken, 0o600))
	_, err := d.Load()
	var pe *ParseError
	require.True(t, errors.As(err, &pe))
	require.Equal(t, d.File(), pe.Path)
	require.Equal(t, 3, pe.Line)
	require.True(t, strings.HasPrefix(err.Error(), d.File()+":3:"), err.Error())
	data, err := os.ReadFile(d.File())
	require.NoError(t, err)
	require.Equal(t, broken, data, "loading never rewrites a broken file")

	restored, err := d.RestoreBackup()
	require.NoError(t, err)
	require.Equal(t, configured(), restored)
	got, err := d.Load()
	require.NoError(t, err)
	require.Equal(t, configured(), got)
	kept, err := os.ReadFile(d.File() + ".broken")
	require.NoError(t, err)
	require.Equal(t, broken, kept, "the hand-edited file is kept aside")
}

func TestDir_SaveOverBrokenFileKeepsItAndTheBackup(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	require.NoError(t, d.Save(configured()))
	require.NoError(t, d.Save(Default()))
	require.NoError(t, os.WriteFile(d.File(), []byte("{oops"), 0o600))
	require.NoError(t, d.Save(configured()))
	backup, err := d.LoadBackup()
	require.NoError(t, err)
	require.Equal(t, configured(), backup, "a broken file never replaces the last good backup")
	kept, err := os.ReadFile(d.File() + ".broken")
	require.NoError(t, err)
	require.Equal(t, "{oops", string(kept))
}

func TestReadFileAndWrite_ImportExport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "export.json")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, Write(f, configured()))
	require.NoError(t, f.Close())
	got, err := ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, configured(), got)

	_, err = ReadFile(filepath.Join(t.TempDir(), "missing.json"))
	require.ErrorContains(t, err, "missing.json")
}

func requireNoTempFiles(t *testing.T, d Dir) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(d.Path, "*"+tempSuffix))
	require.NoError(t, err)
	require.Empty(t, matches)
}

func FuzzParse(f *testing.F) {
	for _, s := range []Settings{Default(), configured()} {
		data, err := Marshal(s)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(`{"version": 0}`))
	f.Add([]byte(`{"portals": [{"id": "a", "domain": "https://x"}]}`))
	f.Add([]byte(`{"version": 1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		out, err := Marshal(s)
		require.NoError(t, err)
		again, err := Parse(out)
		require.NoError(t, err)
		require.Equal(t, s, again)
	})
}
