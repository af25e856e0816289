package crm

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omniphone/omniphone/settings"
)

const specRecord = `{
  "id": "pbx-or-app call id",
  "direction": "in",
  "outcome": "answered",
  "contact_number": "+79161234567",
  "virtual_number": "+74951234567",
  "rung": ["101", "102"],
  "talked": ["102", "105"],
  "started_at": "2026-11-25T10:00:00+03:00",
  "answered_at": "2026-11-25T10:00:09+03:00",
  "ended_at": "2026-11-25T10:03:10+03:00",
  "params": {"scenario": "", "last_operation": "", "group": "", "campaign": "",
             "first_campaign": "", "site": "", "source": "", "first_communication_id": ""},
  "recording": {"url": "https://pbx.example.com/rec/1.mp3"},
  "bitrix24_call_id": null,
  "portal": null
}`

func TestDecodeCall_SPEC11Example(t *testing.T) {
	c, err := DecodeCall([]byte(specRecord))
	require.NoError(t, err)
	require.Equal(t, settings.DirectionIn, c.Direction)
	require.Equal(t, "102", c.Talker(settings.TalkerFirst), "RS3 first talker")
	require.Equal(t, "105", c.Talker(settings.TalkerLast), "RS3 last talker")
	require.Equal(t, 3*time.Minute+time.Second, c.Duration())
	require.Nil(t, c.Portal)
	require.Equal(t, "https://pbx.example.com/rec/1.mp3", c.Recording.URL)
}

func TestDecodeCall_Errors(t *testing.T) {
	tests := []struct {
		name, doc, field string
	}{
		{"unknown key", `{"id":"1","colour":"red"}`, "colour"},
		{"bad time", `{"id":"1","started_at":"yesterday"}`, "(time)"},
		{"wrong type", `{"id":1}`, "id"},
		{"not json", `id=1`, "(record)"},
		{"two objects", `{"id":"1","direction":"in","outcome":"missed","contact_number":"1","started_at":"2026-11-25T10:00:00Z","ended_at":"2026-11-25T10:00:00Z"} {}`, "(record)"},
		{"missing id", `{"direction":"in"}`, "id"},
		{"direction", `{"id":"1","direction":"up"}`, "direction"},
		{"outcome", `{"id":"1","direction":"in","outcome":"ok"}`, "outcome"},
		{"contact number", `{"id":"1","direction":"in","outcome":"missed"}`, "contact_number"},
		{"end before start", `{"id":"1","direction":"in","outcome":"missed","contact_number":"1","started_at":"2026-11-25T10:00:00Z","ended_at":"2026-11-25T09:00:00Z"}`, "ended_at"},
		{"answered needs answered_at", `{"id":"1","direction":"in","outcome":"answered","contact_number":"1","talked":["1"],"started_at":"2026-11-25T10:00:00Z","ended_at":"2026-11-25T10:01:00Z"}`, "answered_at"},
		{"missed with answered_at", `{"id":"1","direction":"in","outcome":"missed","contact_number":"1","started_at":"2026-11-25T10:00:00Z","answered_at":"2026-11-25T10:00:01Z","ended_at":"2026-11-25T10:01:00Z"}`, "answered_at"},
		{"answered needs talked", `{"id":"1","direction":"in","outcome":"answered","contact_number":"1","started_at":"2026-11-25T10:00:00Z","answered_at":"2026-11-25T10:00:01Z","ended_at":"2026-11-25T10:01:00Z"}`, "talked"},
		{"recording both", `{"id":"1","direction":"in","outcome":"missed","contact_number":"1","started_at":"2026-11-25T10:00:00Z","ended_at":"2026-11-25T10:01:00Z","recording":{"url":"u","file":"f"}}`, "recording"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCall([]byte(tt.doc))
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "got %v", err)
			require.Equal(t, tt.field, fe.Field, fe.Error())
		})
	}
}

func FuzzDecodeCall(f *testing.F) {
	f.Add([]byte(specRecord))
	f.Add([]byte(`{"id":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCall(data)
		if err == nil {
			require.NoError(t, c.Validate())
		}
	})
}
