// Command omnisync is the Omniphone team sync service (crm/sync):
//
//	omnisync serve   --db sqlite:PATH|postgres://… --listen ADDR --config-dir DIR
//	omnisync migrate --db …
//	omnisync status  --db …
//	omnisync decide  --settings S.json --call C.json --snapshot X.json
//
// serve runs the engine and its HTTP API; migrate creates or updates the
// tables; status prints the ledger's and the queue's counts; decide prints,
// as indented JSON, the plan the rules engine (crm/rules) makes for a call
// and the trace that says why. Bad input exits with status 2 and one line
// on stderr.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/crm/rules"
	"github.com/omniphone/omniphone/settings"
)

const usage = `usage: omnisync <command> [flags]

commands:
  serve    run the sync engine and its HTTP API:
           omnisync serve --db sqlite:PATH|postgres://... --listen ADDR --config-dir DIR
  migrate  create or update the database tables: omnisync migrate --db ...
  status   print calls and jobs by state: omnisync status --db ...
  decide   print the plan and trace for one call:
           omnisync decide --settings S.json --call C.json --snapshot X.json
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one subcommand and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "decide":
		return decide(args[1:], stdout, stderr)
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "migrate":
		return migrate(args[1:], stdout, stderr)
	case "status":
		return status(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "omnisync: unknown command %q; run \"omnisync help\"\n", args[0])
		return 2
	}
}

func decide(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("decide", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line below
	settingsPath := fs.String("settings", "", "settings document (JSON)")
	callPath := fs.String("call", "", "call record (JSON, SPEC §11)")
	snapshotPath := fs.String("snapshot", "", "CRM snapshot of the client (JSON)")
	fail := func(err error) int {
		fmt.Fprintf(stderr, "omnisync decide: %s\n", oneLine(err))
		return 2
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	} else if err != nil {
		return fail(err)
	}
	if *settingsPath == "" || *callPath == "" || *snapshotPath == "" || fs.NArg() > 0 {
		return fail(errors.New("--settings, --call and --snapshot are required, and nothing else"))
	}
	s, err := settings.ReadFile(*settingsPath)
	if err != nil {
		return fail(fmt.Errorf("settings: %w", err))
	}
	call, err := readCall(*callPath)
	if err != nil {
		return fail(err)
	}
	snap, err := readSnapshot(*snapshotPath)
	if err != nil {
		return fail(err)
	}
	plan, trace := rules.Decide(s, call, snap)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	out := struct {
		Plan  rules.Plan  `json:"plan"`
		Trace rules.Trace `json:"trace"`
	}{plan, trace}
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stderr, "omnisync decide: write: %v\n", err)
		return 1
	}
	return 0
}

func readCall(path string) (crm.Call, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return crm.Call{}, fmt.Errorf("call: %w", err)
	}
	c, err := crm.DecodeCall(data)
	if err != nil {
		return crm.Call{}, fmt.Errorf("call %s: %w", path, err)
	}
	return c, nil
}

func readSnapshot(path string) (rules.Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return rules.Snapshot{}, err
	}
	s, err := rules.DecodeSnapshot(data)
	if err != nil {
		return rules.Snapshot{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// oneLine joins a multi-line error (settings.Problems) into one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}
