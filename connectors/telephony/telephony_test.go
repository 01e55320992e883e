package telephony_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/core"
)

func TestValidateNamesTheKey(t *testing.T) {
	t.Parallel()
	owner := "0190f5a2-0000-7000-8000-000000000000"
	policy := core.CallPolicy{CallbackAfter: time.Hour, Owners: []string{owner}}
	for _, c := range []struct {
		name string
		err  error
		want string // "" when valid
	}{
		{"Policy", telephony.Config{Policy: policy}.Validate(), ""},
		{"CallbackAfter", telephony.Config{Policy: core.CallPolicy{CallbackAfter: -time.Second}}.Validate(), "callback_after: must be between 0 (no task) and 720h, got -1s"},
		{"Owner", telephony.Config{Policy: core.CallPolicy{Owners: []string{owner, "x"}}}.Validate(), `owners[1]: must be a user id, got "x"`},
		{"GenericShortSecret", telephony.ValidateGeneric(telephony.Config{Secret: "short"}), "secret: must be at least 16 characters"},
		{"GenericOff", telephony.ValidateGeneric(telephony.Config{Policy: policy}), ""},
		{"ZadarmaMaxAge", telephony.ValidateZadarma(telephony.Config{Secret: "s", MaxAge: time.Minute}), "max_age: must be between 10m and 720h, got 1m0s"},
		{"ZadarmaOff", telephony.ValidateZadarma(telephony.Config{MaxAge: time.Minute}), ""},
		{"MangoHalf", telephony.ValidateMango(telephony.Config{}, "key"), "api_key: api_key and api_salt go together"},
		{"VATSDialerURL", (&telephony.VATSDialer{APIURL: "ftp://pbx", APIKey: "k"}).Validate(), `api_url: must be the PBX's https:// API address, got "ftp://pbx"`},
		{"VATSDialerKey", (&telephony.VATSDialer{APIURL: "https://pbx/crmapi/v1"}).Validate(), "api_key: is required with api_url"},
		{"AsteriskAddr", telephony.AsteriskConfig{Addr: "pbx", Secret: "s"}.Validate(), `addr: must be host:port of the manager interface (5038), got "pbx"`},
		{"AsteriskLogin", telephony.AsteriskConfig{Addr: "pbx:5038", Secret: "s"}.Validate(), "secret: username and secret are required with an addr"},
		{"AsteriskOff", telephony.AsteriskConfig{Policy: policy}.Validate(), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.want == "" {
				require.NoError(t, c.err)
				return
			}
			require.ErrorContains(t, c.err, c.want)
		})
	}
}
