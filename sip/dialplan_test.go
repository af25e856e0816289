package sip

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNormalizeNumber(t *testing.T) {
	tests := []struct {
		name, in string
		plan     DialPlan
		want     string
		wantErr  bool
	}{
		{"none keeps digits", "8 (912) 345-67-89", DialPlanNone, "89123456789", false},
		{"e164 from 8", "8 (912) 345-67-89", DialPlanRussiaE164, "+79123456789", false},
		{"e164 from 7", "79123456789", DialPlanRussiaE164, "+79123456789", false},
		{"e164 from +7", "+7 912 345 67 89", DialPlanRussiaE164, "+79123456789", false},
		{"e164 from national", "9123456789", DialPlanRussiaE164, "+79123456789", false},
		{"8 from +7", "+79123456789", DialPlanRussia8, "89123456789", false},
		{"7 from 8", "84951234567", DialPlanRussia7, "74951234567", false},
		{"extension untouched", "101", DialPlanRussiaE164, "101", false},
		{"six digit extension", "123456", DialPlanRussia8, "123456", false},
		{"foreign e164 kept", "+442071234567", DialPlanRussia8, "+442071234567", false},
		{"810 international", "810442071234567", DialPlanRussiaE164, "+442071234567", false},
		{"service code kept", "*72#", DialPlanRussiaE164, "*72#", false},
		{"letters rejected", "12a4", DialPlanRussiaE164, "", true},
		{"plus in the middle rejected", "7+9", DialPlanNone, "", true},
		{"empty rejected", "  ", DialPlanRussiaE164, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeNumber(tt.in, tt.plan)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDialPlanString(t *testing.T) {
	require.Equal(t, "ru-e164", DialPlanRussiaE164.String())
	require.Equal(t, "DialPlan(42)", DialPlan(42).String())
}
