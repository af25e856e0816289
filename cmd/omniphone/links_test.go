package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseLink_C5(t *testing.T) {
	tests := []struct {
		link, want, err string
	}{
		{link: "tel:+7 (912) 345-67-89", want: "+79123456789"},
		{link: "tel:+7%20(912)%20345-67-89", want: "+79123456789"},
		{link: "TEL:+7-912-345-67-89", want: "+79123456789"},
		{link: "tel:89123456789;phone-context=+7", want: "89123456789"},
		{link: "tel:8912.345.67.89;phone-context=example.ru;ext=12", want: "89123456789"},
		{link: "tel://+79123456789", want: "+79123456789"},
		{link: "tel:*100#", want: "*100#"},
		{link: "callto:+79123456789", want: "+79123456789"},
		{link: "callto://+7 912 345 67 89/", want: "+79123456789"},
		{link: "callto://alice", want: "alice"},
		{link: "callto:bob@pbx.example.ru", want: "sip:bob@pbx.example.ru"},
		{link: "sip:101@127.0.0.1:5060", want: "sip:101@127.0.0.1:5060"},
		{link: "sip:alice@pbx.example.ru;transport=tcp", want: "sip:alice@pbx.example.ru;transport=tcp"},
		{link: "sip:alice@pbx.example.ru?Replaces=abc%3Bto-tag%3D1", want: "sip:alice@pbx.example.ru"},
		{link: "sip:101", want: "101"},
		{link: "sip:alice;transport=udp", want: "alice"},

		{link: "tel:", err: "not a phone number: number \"\" is empty"},
		{link: "tel:+", err: "is empty"},
		{link: "tel:call-me-maybe", err: "not a phone number"},
		{link: "tel:+7912+1", err: "not a phone number"},
		{link: "tel:%zz", err: "bad %-escape"},
		{link: "callto://", err: "not a phone number, user@host or user name"},
		{link: "callto:a b", err: "not a phone number, user@host or user name"},
		{link: "sip:@host", err: "expected sip:user@host"},
		{link: "sip:alice@", err: "expected sip:user@host"},
		{link: "sip:", err: "no user"},
		{link: "sip:<evil>@host", err: "expected sip:user@host"},
		{link: "https://example.com", err: "not a tel:, callto: or sip: link"},
		{link: "garbage", err: "not a tel:, callto: or sip: link"},
	}
	for _, tt := range tests {
		t.Run(tt.link, func(t *testing.T) {
			got, err := parseLink(tt.link)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				require.ErrorContains(t, err, tt.link, "the error names the link")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestLooksLikeLink(t *testing.T) {
	for arg, want := range map[string]bool{
		"tel:+7912": true, "sip:a@b": true, "x-foo:bar": true, "settings": false,
		":x": false, "c:\\path": true, "a b:c": false, "": false,
	} {
		require.Equal(t, want, looksLikeLink(arg), arg)
	}
}

func FuzzParseLink(f *testing.F) {
	for _, s := range []string{"tel:+7 (912) 345-67-89", "callto://x/", "sip:a@b;c?d", "tel:%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseLink(s)
		if err == nil && got == "" {
			t.Fatalf("%q: no target and no error", s)
		}
	})
}

func TestLinkOpener_CallActions(t *testing.T) {
	var got []string
	o := linkOpener{log: slog.New(slog.DiscardHandler), act: func(action string) (string, error) {
		got = append(got, action)
		if action == actionAnswer {
			return "answered", nil
		}
		return "hangup done", nil
	}}
	for _, tc := range []struct {
		action, note, err string
	}{
		{actionAnswer, "answered", ""},
		{actionHangup, "hangup done", ""},
		{"transfer", "", `unknown call action "transfer" (answer, hangup)`},
	} {
		note, err := o.handle(context.Background(), instanceRequest{Action: tc.action})
		if tc.err != "" {
			require.EqualError(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.note, note)
	}
	require.Equal(t, []string{actionAnswer, actionHangup}, got, "an unknown action reaches nothing")
}
