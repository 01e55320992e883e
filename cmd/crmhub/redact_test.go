package main

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// looksSecret is the test's own judgement of a key's name (kept apart
// from secretKey, which it checks): passwords, secrets, tokens, salts,
// credentials, keys (but a key's file, a variable's or a field's name are
// not secrets), and addresses, which may carry a password.
func looksSecret(name string) (secret, address bool) {
	n := strings.ToLower(name)
	if strings.HasSuffix(n, "_file") || strings.HasSuffix(n, "_env") || strings.HasSuffix(n, "_name") {
		return false, false
	}
	if n == "url" || n == "dsn" || strings.HasSuffix(n, "_url") || strings.HasSuffix(n, "_dsn") || strings.HasSuffix(n, "uri") {
		return false, true
	}
	for _, w := range []string{"pass", "secret", "token", "salt", "credential", "private"} {
		if strings.Contains(n, w) {
			return true, false
		}
	}
	return n == "key" || strings.HasSuffix(n, "_key") || strings.HasSuffix(n, "apikey"), false
}

// plantSentinels sets every secret-looking string field under v to a
// sentinel (an address gets one as its password and one as a token
// parameter), adding an element to lists and maps of structs so that
// their fields are reached; it returns sentinel → key path.
func plantSentinels(v reflect.Value, path string, out map[string]string) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fv := v.Field(i)
			p := path + name
			if fv.Kind() == reflect.String {
				switch secret, address := looksSecret(name); {
				case secret:
					s := fmt.Sprintf("SENTINEL%03d", len(out))
					out[s] = p
					fv.SetString(s)
				case address:
					pw, tok := fmt.Sprintf("SENTINEL%03d", len(out)), fmt.Sprintf("SENTINEL%03d", len(out)+1)
					out[pw], out[tok] = p+" (password)", p+" (token parameter)"
					fv.SetString("postgres://user:" + pw + "@db.example:5432/crm?sslmode=disable&token=" + tok)
				}
				continue
			}
			plantSentinels(fv, p+".", out)
		}
	case reflect.Slice:
		if e := v.Type().Elem(); e.Kind() == reflect.Struct {
			v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), reflect.New(e).Elem()))
			plantSentinels(v.Index(0), path, out)
		}
	case reflect.Map:
		if e := v.Type().Elem(); e.Kind() == reflect.Struct && v.Type().Key().Kind() == reflect.String {
			m := reflect.MakeMap(v.Type())
			el := reflect.New(e).Elem()
			plantSentinels(el, path+"x.", out)
			m.SetMapIndex(reflect.ValueOf("x").Convert(v.Type().Key()), el)
			v.Set(m)
		}
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.Struct {
			v.Set(reflect.New(v.Type().Elem()))
			plantSentinels(v.Elem(), path, out)
		}
	}
}

// TestConfigShowRedactsEverySecretKey sets each config key named like a
// secret to a sentinel and fails when config show would print one.
func TestConfigShowRedactsEverySecretKey(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	planted := map[string]string{}
	plantSentinels(reflect.ValueOf(&cfg).Elem(), "", planted)
	paths := map[string]bool{}
	for _, p := range planted {
		paths[strings.Split(p, " ")[0]] = true
	}
	for _, p := range []string{"database.url", "kafka.sasl.password", "telephony.generic.secret", "telephony.zadarma.secret",
		"telephony.mango.api_key", "telephony.mango.api_salt", "telephony.vats.token", "telephony.vats.api_key",
		"telephony.asterisk.secret", "webforms.forms.api_key", "webforms.captcha.secret", "webforms.bitrix24_rest.token", "smtp.password", "mailscan.url",
		"mailscan.mailboxes.password", "onec.password", "rates.url", "metrics.token"} {
		require.True(t, paths[p], "the walk reaches %s", p)
	}

	out, err := yaml.Marshal(cfg.Redacted()) // what config show prints
	require.NoError(t, err)
	for sentinel, path := range planted {
		require.NotContains(t, string(out), sentinel, "config show prints %s", path)
	}
	require.Contains(t, string(out), "postgres://user:REDACTED@db.example:5432/crm?sslmode=disable&token=REDACTED",
		"an address keeps what is not secret")

	again, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	for sentinel := range planted {
		require.Contains(t, string(again), sentinel, "the configuration itself is unchanged (lists are copied)")
	}
}

func TestSecretKeyNames(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{"password": true, "api_key": true, "api_salt": true, "token": true, "secret": true,
		"client_secret": true, "apikey": true, "password_env": false, "api_key_name": false, "key_file": false, "ca_file": false,
		"signature": false, "username": false, "public_id": false, "verify_url": false} {
		require.Equal(t, want, secretKey(name), name)
	}
	require.Equal(t, "https://mirror.example/daily?date=1&key=REDACTED", redactURL("https://mirror.example/daily?date=1&key=abc"))
	require.Equal(t, "imap://sales@imap.example.ru/INBOX", redactURL("imap://sales@imap.example.ru/INBOX"), "a user without a password stays")
	require.Equal(t, redactedValue, redactURL("postgres://u:p@[bad"))
}
