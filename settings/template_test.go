package settings

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTemplate_T1Render(t *testing.T) {
	tests := []struct {
		name, template string
		vars           map[string]string
		want           string
	}{
		{"T2 default incoming", DefaultIncomingTitle, map[string]string{"contact_phone_number": "+79161234567", "app_name": "Omniphone"},
			"Входящий звонок на номер +79161234567 из приложения Omniphone"},
		{"T2 default outgoing", DefaultTitle(DirectionOut), map[string]string{"contact_phone_number": "+79161234567", "app_name": "Omniphone"},
			"Исходящий звонок на номер +79161234567 из приложения Omniphone"},
		{"spaces inside braces", "{{ site }}/{{source}}", map[string]string{"site": "a.ru", "source": "ya"}, "a.ru/ya"},
		{"missing value collapses spaces", "Call {{campaign}} from {{contact_phone_number}}", map[string]string{"contact_phone_number": "1"}, "Call from 1"},
		{"no variables", "Звонок", nil, "Звонок"},
		{"single braces are text", "{x} {{site}}", map[string]string{"site": "s"}, "{x} s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := ParseTemplate(tt.template)
			require.NoError(t, err)
			require.Equal(t, tt.want, tpl.Render(tt.vars))
		})
	}
}

func TestTemplate_T2Errors(t *testing.T) {
	for _, s := range []string{"{{unknown}}", "{{}}", "a {{site", "{{site}} {{ Site }}"} {
		_, err := ParseTemplate(s)
		require.Error(t, err, s)
	}
}

func TestTemplate_T1Preview(t *testing.T) {
	tpl, err := ParseTemplate(DefaultIncomingTitle)
	require.NoError(t, err)
	require.Equal(t, "Входящий звонок на номер +7 916 123-45-67 из приложения Omniphone", tpl.Preview())
	for _, v := range Variables {
		require.NotEmpty(t, v.Sample, v.Name)
		require.NotEmpty(t, v.DescriptionRU, v.Name)
		require.NotEmpty(t, v.DescriptionEN, v.Name)
	}
}
