package telephony_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/core"
)

type logins map[string]string

func (l logins) PBXLogin(_ context.Context, id string) (string, error) { return l[id], nil }

// TestVATSMakeCall dials through a PBX on loopback, in both of the
// protocol's variants.
func TestVATSMakeCall(t *testing.T) {
	t.Parallel()
	var got []map[string]string
	pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := map[string]string{"path": r.URL.Path}
		switch r.Header.Get("Content-Type") {
		case "application/json":
			var b map[string]string
			require.NoError(t, json.NewDecoder(r.Body).Decode(&b))
			for k, v := range b {
				m[k] = v
			}
			m["key"] = r.Header.Get("X-API-KEY")
		default:
			require.NoError(t, r.ParseForm())
			for k := range r.PostForm {
				m[k] = r.PostForm.Get(k)
			}
			m["key"] = r.PostForm.Get("token")
		}
		got = append(got, m)
		if m["key"] != "pbx-key" {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"Invalid token"}`))
			return
		}
		if m["phone"] == "70000000000" {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":"Invalid parameters"}`))
			return
		}
		_, _ = w.Write([]byte(`{"uuid":"6e1a7d3c"}`))
	}))
	defer pbx.Close()
	u := &core.User{Record: core.Record{ID: "u1"}}
	ctx := context.Background()

	legacy := &telephony.VATSDialer{APIURL: pbx.URL + "/sys/crm_api.wcgp", APIKey: "pbx-key", Logins: logins{"u1": "ivanov"}}
	require.NoError(t, legacy.Dial(ctx, u, "+79161234567"))
	require.Equal(t, map[string]string{"path": "/sys/crm_api.wcgp", "cmd": "makeCall", "user": "ivanov", "phone": "79161234567",
		"token": "pbx-key", "key": "pbx-key"}, got[0])

	rest := &telephony.VATSDialer{APIURL: pbx.URL + "/crmapi/v1", APIKey: "pbx-key", Logins: logins{"u1": "ivanov"}}
	require.NoError(t, rest.Dial(ctx, u, "+79161234567"))
	require.Equal(t, map[string]string{"path": "/crmapi/v1/makecall", "user": "ivanov", "phone": "79161234567", "key": "pbx-key"}, got[1])

	err := rest.Dial(ctx, u, "+70000000000")
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "the PBX refused: the caller hears why")
	wrongKey := &telephony.VATSDialer{APIURL: pbx.URL + "/crmapi/v1", APIKey: "nope", Logins: logins{"u1": "ivanov"}}
	err = wrongKey.Dial(ctx, u, "+79161234567")
	require.Error(t, err)
	require.Equal(t, core.EINTERNAL, core.ErrorCode(err), "a misconfigured key is the hub's problem, not the caller's")
	noLogin := &telephony.VATSDialer{APIURL: pbx.URL + "/crmapi/v1", APIKey: "pbx-key", Logins: logins{}}
	require.Equal(t, core.EINVALID, core.ErrorCode(noLogin.Dial(ctx, u, "+79161234567")))
	require.Len(t, got, 4)
}
