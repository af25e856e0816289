package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/omniphone/omniphone/settings"
)

const settingsUsage = `Usage: omniphone [--config-dir DIR] settings COMMAND
  path             print the settings file's path
  validate FILE    check a settings document; prints every problem, exits 1 if any
  import FILE      validate FILE and make it the settings (the previous file is kept as a backup)
  export [FILE]    write the settings (never secrets) to FILE, or to standard output
`

// runSettings is "omniphone settings …".
func runSettings(dir string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("settings", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configDir := fs.String("config-dir", "", "profile directory (overrides the one given before \"settings\")")
	fs.Usage = func() { fmt.Fprint(stderr, settingsUsage) }
	if len(args) == 0 {
		fs.Usage()
		return 2
	}
	cmd := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage(err)
	}
	if *configDir != "" {
		d, err := profileDir(*configDir)
		if err != nil {
			fmt.Fprintln(stderr, "omniphone:", err)
			return 1
		}
		dir = d
	}
	d := settings.Dir{Path: dir}
	rest := fs.Args()
	want := func(n int, shape string) bool {
		if len(rest) != n {
			fmt.Fprintf(stderr, "omniphone settings %s: expected %s\n", cmd, shape)
			return false
		}
		return true
	}
	switch cmd {
	case "path":
		if !want(0, "no arguments") {
			return 2
		}
		fmt.Fprintln(stdout, d.File())
		return 0
	case "validate":
		if !want(1, "one FILE") {
			return 2
		}
		return validateFile(rest[0], stdout, stderr)
	case "import":
		if !want(1, "one FILE") {
			return 2
		}
		return importFile(d, rest[0], stdout, stderr)
	case "export":
		if len(rest) > 1 {
			fmt.Fprintf(stderr, "omniphone settings export: expected at most one FILE\n")
			return 2
		}
		return exportTo(d, rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "omniphone settings: unknown command %q\n", cmd)
		fs.Usage()
		return 2
	}
}

func validateFile(path string, stdout, stderr io.Writer) int {
	s, err := settings.ReadFile(path)
	if err != nil {
		printProblems(path, err, stderr)
		return 1
	}
	fmt.Fprintf(stdout, "%s: valid\n", path)
	for _, w := range s.Warnings() {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	return 0
}

func importFile(d settings.Dir, path string, stdout, stderr io.Writer) int {
	s, err := settings.ReadFile(path)
	if err != nil {
		printProblems(path, err, stderr)
		return 1
	}
	if err := d.Save(s); err != nil {
		fmt.Fprintln(stderr, "omniphone:", err)
		return 1
	}
	fmt.Fprintf(stdout, "imported %s into %s\n", path, d.File())
	return 0
}

func exportTo(d settings.Dir, rest []string, stdout, stderr io.Writer) int {
	s, err := d.Load()
	if err != nil {
		printProblems(d.File(), err, stderr)
		return 1
	}
	if len(rest) == 0 {
		if err := settings.Write(stdout, s); err != nil {
			fmt.Fprintln(stderr, "omniphone:", err)
			return 1
		}
		return 0
	}
	f, err := os.OpenFile(rest[0], os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintln(stderr, "omniphone:", err)
		return 1
	}
	if err := settings.Write(f, s); err != nil {
		_ = f.Close()
		fmt.Fprintln(stderr, "omniphone:", err)
		return 1
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(stderr, "omniphone:", err)
		return 1
	}
	fmt.Fprintf(stdout, "exported %s to %s\n", d.File(), rest[0])
	return 0
}

// printProblems prints each validation problem on its own line, prefixed by
// the file, or the single parse error.
func printProblems(path string, err error, stderr io.Writer) {
	var ps settings.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintf(stderr, "%s: %s\n", path, p)
		}
		return
	}
	fmt.Fprintln(stderr, err)
}
