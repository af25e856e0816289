package b24

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRef1_5_EnvelopeDecodedIntoTheCallersValue: answers read in one pass
// into the caller's value (Call, batches) say the same as the raw reading:
// the result, the paging fields, the error envelope, a non-Bitrix24 body.
func TestRef1_5_EnvelopeDecodedIntoTheCallersValue(t *testing.T) {
	type lead struct {
		ID    Int    `json:"ID"`
		Title string `json:"TITLE"`
	}
	tests := []struct {
		name, body string
		status     int
		wantID     int
		wantTotal  int
		wantCode   string // an *Error with this code
		wantErr    string // another error containing this
	}{
		{name: "result", status: 200, body: `{"result":{"ID":"42","TITLE":"Звонок"},"total":7,"time":{"start":1}}`, wantID: 42, wantTotal: 7},
		{name: "null result", status: 200, body: `{"result":null}`},
		{name: "error envelope", status: 400, body: `{"error":"ERROR_CORE","error_description":"Not found"}`, wantCode: "ERROR_CORE"},
		{name: "rate limit", status: 503, body: `{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}`, wantCode: CodeQueryLimit},
		{name: "result of another shape", status: 200, body: `{"result":"42"}`, wantErr: "decode result"},
		{name: "HTML from a proxy", status: 502, body: `<html>Bad Gateway</html>`, wantErr: "not a Bitrix24 answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got lead
			resp, err := decodeEnvelope("crm.lead.get", tt.status, []byte(tt.body), &got)
			var e *Error
			switch {
			case tt.wantCode != "":
				require.True(t, errors.As(err, &e), "%v", err)
				require.Equal(t, tt.wantCode, e.Code)
				require.Equal(t, tt.status, e.HTTPStatus)
			case tt.wantErr != "":
				require.ErrorContains(t, err, tt.wantErr)
			default:
				require.NoError(t, err)
				require.EqualValues(t, tt.wantID, got.ID)
				if tt.wantTotal != 0 {
					require.Equal(t, tt.wantTotal, *resp.Total)
				}
			}
			// The raw reading agrees on success and failure.
			raw, rawErr := decodeEnvelope("crm.lead.get", tt.status, []byte(tt.body), nil)
			require.Equal(t, err == nil || tt.wantErr == "decode result", rawErr == nil, "raw: %v", rawErr)
			if rawErr == nil && err == nil {
				require.Equal(t, resp.Total, raw.Total)
			}
		})
	}
}
