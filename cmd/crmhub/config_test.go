package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"go.yaml.in/yaml/v3"
)

func envFunc(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// run runs the command line in-process and returns exit code and outputs.
func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	return runIn(t, env, "", args...)
}

// runIn is run with stdin as the command's standard input.
func runIn(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: envFunc(env)}
	code := m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// yamlKeys lists the dotted paths of every leaf key in a YAML document
// (a list counts as one leaf).
func yamlKeys(t *testing.T, data []byte) []string {
	t.Helper()
	var root yaml.Node
	require.NoError(t, yaml.Unmarshal(data, &root))
	var keys []string
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			if v.Kind == yaml.MappingNode {
				walk(v, prefix+k+".")
			} else {
				keys = append(keys, prefix+k)
			}
		}
	}
	walk(root.Content[0], "")
	sort.Strings(keys)
	return keys
}

func TestExampleConfigDocumentsEveryKeyWithItsDefault(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../configs/crmhub.example.yaml")
	require.NoError(t, err)
	defaults, err := yaml.Marshal(defaultConfig())
	require.NoError(t, err)
	require.Equal(t, yamlKeys(t, defaults), yamlKeys(t, example), "the example lists exactly the config's keys")

	cfg := defaultConfig()
	require.NoError(t, decodeYAML(example, &cfg))
	require.Equal(t, defaultConfig(), cfg, "the example shows the defaults")
	for _, k := range yamlKeys(t, defaults) {
		if k == "pipelines" || strings.HasPrefix(k, "conversion.") || k == "duplicates.sources" || k == "webforms.forms" || k == "webforms.bitrix24_rest" || k == "mailscan.mailboxes" || k == "suggestions.allowed_origins" || k == "onec.crm_fields" || strings.HasSuffix(k, ".owners") || strings.HasPrefix(k, "documents.numbering") {
			continue // lists and maps are configured in the file only
		}
		env := "CRMHUB_" + strings.ToUpper(strings.ReplaceAll(k, ".", "_"))
		require.Contains(t, string(example), "$"+env, "the example names the variable of %s", k)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "hub.yaml")
	require.NoError(t, os.WriteFile(file, []byte("http:\n  addr: 127.0.0.1:9000\nlog:\n  level: debug\n"), 0o600))
	cfg, err := loadConfig("", envFunc(map[string]string{
		"CRMHUB_CONFIG":                   file,
		"CRMHUB_HTTP_ADDR":                "0.0.0.0:8181",
		"CRMHUB_DATA_DIR":                 "/srv/crmhub",
		"CRMHUB_DATABASE_URL":             "postgres://u:p@db/crm",
		"CRMHUB_LOG_FORMAT":               "json",
		"CRMHUB_HTTP_SHUTDOWN_TIMEOUT":    "3s",
		"CRMHUB_DATABASE_EMBEDDED_LISTEN": "true",
	}))
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:8181", cfg.HTTP.Addr, "the environment wins over the file")
	require.Equal(t, "debug", cfg.Log.Level, "the file wins over defaults")
	require.Equal(t, "json", cfg.Log.Format)
	require.Equal(t, "/srv/crmhub", cfg.DataDir)
	require.Equal(t, "postgres://u:p@db/crm", cfg.Database.URL)
	require.Equal(t, 3*time.Second, cfg.HTTP.ShutdownTimeout)
	require.True(t, cfg.Database.Embedded.Listen)

	cfg, err = loadConfig("", envFunc(nil))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", cfg.HTTP.Addr)
	require.Equal(t, "./var", cfg.DataDir)
}

func TestBadConfigExitsTwoNamingTheKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badMapping := filepath.Join(dir, "mapping.yaml")
	require.NoError(t, os.WriteFile(badMapping, []byte("conversion:\n  account:\n    inn_code: company\n"), 0o600))
	unknown := filepath.Join(dir, "unknown.yaml")
	require.NoError(t, os.WriteFile(unknown, []byte("http:\n  adress: x\n"), 0o600))
	shortToken := filepath.Join(dir, "bitrix24.yaml")
	require.NoError(t, os.WriteFile(shortToken, []byte("webforms:\n  bitrix24_rest:\n    - user: 1\n      token: abc\n      form: b24\n"), 0o600))
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"CRMHUB_LOG_LEVEL": "loud"}, nil, "log.level"},
		{map[string]string{"CRMHUB_LOG_FORMAT": "xml"}, nil, "log.format"},
		{map[string]string{"CRMHUB_HTTP_ADDR": "8080"}, nil, "http.addr"},
		{map[string]string{"CRMHUB_HTTP_BODY_LIMIT": "lots"}, nil, "http.body_limit (from CRMHUB_HTTP_BODY_LIMIT)"},
		{map[string]string{"CRMHUB_HTTP_SHUTDOWN_TIMEOUT": "soon"}, nil, "http.shutdown_timeout"},
		{map[string]string{"CRMHUB_DATABASE_URL": "mysql://x"}, nil, "database.url"},
		{map[string]string{"CRMHUB_DATABASE_MAX_CONNS": "1"}, nil, "database.max_conns"},
		{map[string]string{"CRMHUB_KAFKA_SASL_MECHANISM": "GSSAPI"}, nil, "kafka.sasl.mechanism"},
		{map[string]string{"CRMHUB_KAFKA_COMPRESSION": "brotli"}, nil, "kafka.compression"},
		{map[string]string{"CRMHUB_KAFKA_BROKERS": "kafka-1"}, nil, "kafka.brokers"},
		{map[string]string{"CRMHUB_TELEPHONY_GENERIC_SECRET": "short"}, nil, "telephony.generic.secret"},
		{map[string]string{"CRMHUB_TELEPHONY_MANGO_API_KEY": "k"}, nil, "telephony.mango.api_key"},
		{map[string]string{"CRMHUB_TELEPHONY_ZADARMA_SECRET": "s", "CRMHUB_TELEPHONY_ZADARMA_TIMEZONE": "Mars/Olympus"}, nil, "telephony.zadarma.timezone"},
		{map[string]string{"CRMHUB_TELEPHONY_ZADARMA_CALLBACK_AFTER": "-1h"}, nil, "telephony.zadarma.callback_after"},
		{map[string]string{"CRMHUB_SMTP_HOST": "smtp.example.ru"}, nil, "smtp.from"},
		{map[string]string{"CRMHUB_MAILSCAN_URL": "imap://u:p@imap.example.ru/INBOX?tls=none"}, nil, "mailscan.url: tls none is allowed only to a loopback server"},
		{map[string]string{"CRMHUB_MAILSCAN_URL": "pop3://u:p@mail.example.ru"}, nil, "mailscan.url"},
		{map[string]string{"CRMHUB_SMTP_HOST": "smtp.example.ru", "CRMHUB_SMTP_FROM": "a@b.ru", "CRMHUB_SMTP_TLS": "ssl"}, nil, "smtp.tls"},
		{map[string]string{"CRMHUB_SMTP_HOST": "smtp.example.ru", "CRMHUB_SMTP_FROM": "a@b.ru", "CRMHUB_SMTP_TLS": "none",
			"CRMHUB_SMTP_USERNAME": "u"}, nil, "only over TLS"},
		{nil, []string{"--config", badMapping}, `conversion: account.inn_code: account has no writable field "inn_code"`},
		{nil, []string{"--config", unknown}, "field adress not found"},
		{nil, []string{"--config", shortToken}, "webforms.bitrix24_rest[0].token: must be 16 to 128"},
		{nil, []string{"--config", filepath.Join(dir, "missing.yaml")}, "no such file"},
	} {
		code, _, stderr := run(t, tc.env, append([]string{"config", "show"}, tc.args...)...)
		require.Equal(t, 2, code, tc.want)
		require.Contains(t, stderr, tc.want)
	}
}

func TestConfigShowRedactsSecrets(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, map[string]string{"CRMHUB_DATABASE_URL": "postgres://crm:hunter2@db:5432/crm",
		"CRMHUB_KAFKA_SASL_MECHANISM": "PLAIN", "CRMHUB_KAFKA_SASL_USER": "crm", "CRMHUB_KAFKA_SASL_PASSWORD": "hunter3",
		"CRMHUB_TELEPHONY_MANGO_API_KEY": "mango-key", "CRMHUB_TELEPHONY_MANGO_API_SALT": "hunter4",
		"CRMHUB_TELEPHONY_ZADARMA_SECRET": "hunter5", "CRMHUB_TELEPHONY_GENERIC_SECRET": "hunter6-hunter6-hunter6", "CRMHUB_TELEPHONY_VATS_TOKEN": "hunter7",
		"CRMHUB_SMTP_HOST": "smtp.example.ru", "CRMHUB_SMTP_FROM": "a@b.ru", "CRMHUB_SMTP_USERNAME": "a@b.ru", "CRMHUB_SMTP_PASSWORD": "hunter8",
		"CRMHUB_MAILSCAN_URL": "imap://sales:hunter9@imap.example.ru/INBOX"}, "config", "show")
	require.Equal(t, 0, code)
	for _, secret := range []string{"hunter2", "hunter3", "hunter4", "hunter5", "hunter6", "hunter7", "hunter8", "hunter9", "mango-key"} {
		require.NotContains(t, out, secret)
	}
	require.Contains(t, out, "api_key: REDACTED", "Mango's key signs with the salt: both are secrets")
	require.Contains(t, out, "postgres://crm:REDACTED@db:5432/crm")
	require.Contains(t, out, "imap://sales:REDACTED@imap.example.ru/INBOX")
}

func TestUsageAndExitCodes(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, nil)
	require.Equal(t, 2, code)
	require.Contains(t, out, "Commands:")
	code, _, _ = run(t, nil, "--help")
	require.Equal(t, 0, code)
	code, _, stderr := run(t, nil, "frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `unknown command "frobnicate"`)
	for _, cmd := range [][]string{{"serve", "--help"}, {"migrate", "--help"}, {"apikey", "--help"}, {"apikey", "create", "--help"},
		{"config", "--help"}, {"version", "--help"}} {
		code, _, stderr := run(t, nil, cmd...)
		require.Equal(t, 0, code, cmd)
		require.Contains(t, stderr, "Usage: crmhub", cmd)
	}
	code, _, _ = run(t, nil, "serve", "--bogus")
	require.Equal(t, 2, code)
	code, _, _ = run(t, nil, "migrate", "sideways")
	require.Equal(t, 2, code)
	code, _, _ = run(t, nil, "apikey", "create", "--name", "x", "--scopes", "root")
	require.Equal(t, 2, code)
	code, out, _ = run(t, nil, "version")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(out, "crmhub "))
}

func TestConversionMappingMergesWithDefaults(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "hub.yaml")
	require.NoError(t, os.WriteFile(file, []byte("conversion:\n  deal:\n    next_step: title\n  contact:\n    title: ''\n"), 0o600))
	cfg, err := loadConfig(file, envFunc(nil))
	require.NoError(t, err)
	require.Equal(t, "title", cfg.Conversion.Deal["next_step"], "added")
	require.Equal(t, "company", cfg.Conversion.Deal["name"], "defaults kept")
	p, err := cfg.Conversion.ContactPatch(&core.Lead{LastName: "Петров", Title: "Директор"})
	require.NoError(t, err)
	require.NotContains(t, p, "title", "an empty lead field removes the default")
	require.Contains(t, p, "last_name")
}

func TestOrganizationRequisitesAreChecked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "hub.yaml")
	good := "organization:\n  name: ПАО Сбербанк\n  inn: \"7707083893\"\n  kpp: \"773601001\"\n  ogrn: \"1027700132195\"\n" +
		"  bank:\n    bik: \"044525225\"\n    correspondent_account: \"30101810400000000225\"\n"
	require.NoError(t, os.WriteFile(file, []byte(good), 0o600))
	cfg, err := loadConfig(file, envFunc(nil))
	require.NoError(t, err)
	require.Equal(t, "7707083893", cfg.Organization.INN)
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(good, "7707083893", "7707083894", 1)), 0o600))
	_, err = loadConfig(file, envFunc(nil))
	require.ErrorContains(t, err, "organization.inn")
}

func TestSubcommands(t *testing.T) {
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"user"}, 2, "user needs a subcommand"},
		{[]string{"apikey", "frob"}, 2, `unknown apikey subcommand "frob": use create, list or revoke`},
		{[]string{"onec", "x"}, 2, `unknown onec subcommand "x": use import or export-orders`},
		{[]string{"report", "--help"}, 0, "crmhub report run ID-OR-SLUG"},
		{[]string{"stream", "-h"}, 0, "crmhub stream resync --entity KIND"},
	} {
		code, _, stderr := run(t, nil, c.args...)
		require.Equal(t, c.code, code, c.args)
		require.Contains(t, stderr, c.stderr, c.args)
	}
}
