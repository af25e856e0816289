package calllog

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/crm"
	"github.com/omniphone/omniphone/settings"
)

func item(i int) HistoryItem {
	return HistoryItem{Record: crm.Call{ID: fmt.Sprintf("call-%d", i), Direction: settings.DirectionIn,
		Outcome: crm.OutcomeAnswered, ContactNumber: "+79991234567", StartedAt: time.Unix(int64(1_700_000_000+i), 0).UTC()}, Name: "Сергей Иванов"}
}

func TestHistory_SurvivesARestartAndKeepsTheLastCalls(t *testing.T) {
	dir := t.TempDir()
	h := OpenHistory(dir, 3)
	for i := range 7 {
		require.NoError(t, h.Append(item(i)))
	}
	// Another process (the next start) reads the same file.
	items, bad, err := OpenHistory(dir, 3).Recent(10)
	require.NoError(t, err)
	require.Zero(t, bad)
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.Record.ID
	}
	require.Equal(t, []string{"call-3", "call-4", "call-5", "call-6"}, ids, "trimmed to the last calls once it held twice as many; oldest first")
	require.Equal(t, "Сергей Иванов", items[0].Name)
	st, err := os.Stat(filepath.Join(dir, HistoryFileName))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	items, _, err = OpenHistory(dir, 3).Recent(2)
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.Equal(t, "call-6", items[1].Record.ID)
}

func TestHistory_BadLinesAreSkippedNotFatal(t *testing.T) {
	dir := t.TempDir()
	h := OpenHistory(dir, 100)
	require.NoError(t, h.Append(item(1)))
	f, err := os.OpenFile(filepath.Join(dir, HistoryFileName), os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	_, err = f.WriteString("{\"record\": {\"id\": \"cut-in-the-mid\n\n{}\nnot json\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, h.Append(item(2)))

	items, bad, err := h.Recent(10)
	require.NoError(t, err)
	require.Equal(t, 3, bad, "the torn line, the record without an id and the garbage")
	require.Len(t, items, 2)

	none, bad, err := OpenHistory(t.TempDir(), 10).Recent(10)
	require.NoError(t, err)
	require.Zero(t, bad)
	require.Empty(t, none, "no file yet: no calls")
}
