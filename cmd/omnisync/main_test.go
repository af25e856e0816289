package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm/rules"
)

type output struct {
	Plan  rules.Plan  `json:"plan"`
	Trace rules.Trace `json:"trace"`
}

var decideArgs = []string{"decide", "--settings", "testdata/settings.json", "--call", "testdata/call.json", "--snapshot", "testdata/snapshot.json"}

// checkDecision checks the testdata call: an answered repeat call whose
// deal is closed, in simple CRM — a new deal on the contact's responsible.
func checkDecision(t *testing.T, stdout []byte) {
	t.Helper()
	var out output
	dec := json.NewDecoder(bytes.NewReader(stdout))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&out))
	require.Equal(t, "pbx-42", out.Plan.CallID)
	var kinds []rules.OpKind
	for _, op := range out.Plan.Ops {
		kinds = append(kinds, op.Kind)
	}
	require.Equal(t, []rules.OpKind{rules.OpCreate, rules.OpCompleteActivity, rules.OpAddActivity, rules.OpUploadRecording, rules.OpNotify}, kinds)
	deal := out.Plan.Ops[0]
	require.Equal(t, map[string]rules.ID{"CONTACT_ID": rules.Known(12)}, deal.Links)
	require.EqualValues(t, 7, deal.Fields["ASSIGNED_BY_ID"], "RS14: the contact's responsible")
	require.Equal(t, "C3:NEW", deal.Fields["STAGE_ID"], "F2")
	require.Equal(t, "Звонок +79161234567 (yandex)", deal.Fields["TITLE"], "T1")
	require.Equal(t, []rules.EntityRef{{Entity: "deal", ID: rules.RefID("$deal")}, {Entity: "contact", ID: rules.Known(12)}}, out.Plan.Ops[2].Bindings)
	require.True(t, out.Trace.Fired("RS14"))
	for _, r := range rules.Rules {
		require.NotEmpty(t, out.Trace.Rule(r), r)
	}
	require.True(t, strings.HasPrefix(string(stdout), "{\n  \"plan\": {"), "indented JSON")
}

func TestDecide_Run(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(decideArgs, &stdout, &stderr), stderr.String())
	require.Empty(t, stderr.String())
	checkDecision(t, stdout.Bytes())
}

func TestDecide_BadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	badCall := write("call.json", `{"id":"1","direction":"sideways"}`)
	badSnap := write("snap.json", `{"mode":"pro"}`)
	badSettings := write("settings.json", `{"version":1,"portals":[{"id":"x"}]}`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage: omnisync"},
		{"unknown command", []string{"serve-all"}, `unknown command "serve-all"`},
		{"missing flags", []string{"decide", "--settings", "testdata/settings.json"}, "--settings, --call and --snapshot are required"},
		{"unknown flag", []string{"decide", "--colour"}, "flag provided but not defined"},
		{"bad call", []string{"decide", "--settings", "testdata/settings.json", "--call", badCall, "--snapshot", "testdata/snapshot.json"}, "direction: must be"},
		{"bad snapshot", []string{"decide", "--settings", "testdata/settings.json", "--call", "testdata/call.json", "--snapshot", badSnap}, "snapshot: mode: must be"},
		{"bad settings", []string{"decide", "--settings", badSettings, "--call", "testdata/call.json", "--snapshot", "testdata/snapshot.json"}, "omnisync decide: settings:"},
		{"missing file", []string{"decide", "--settings", "testdata/settings.json", "--call", filepath.Join(dir, "nope.json"), "--snapshot", "testdata/snapshot.json"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, 2, run(tt.args, &stdout, &stderr))
			require.Empty(t, stdout.String())
			require.Contains(t, stderr.String(), tt.want)
			if tt.args != nil {
				require.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line: %q", stderr.String())
			}
		})
	}
}

// TestDecide_Binary builds omnisync and runs it as a user would.
func TestDecide_Binary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "omnisync")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	out, err := exec.Command(bin, decideArgs...).Output()
	require.NoError(t, err)
	checkDecision(t, out)

	cmd := exec.Command(bin, "decide", "--settings", "testdata/settings.json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 2, exit.ExitCode())
	require.Equal(t, "omnisync decide: --settings, --call and --snapshot are required, and nothing else\n", stderr.String())
}
