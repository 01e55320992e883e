// Command crmhub is the crmhub hub and its administration tool.
//
//	crmhub serve                              run the hub: API, connectors, embedded PostgreSQL without a database URL
//	crmhub migrate up|status                  apply or list database migrations
//	crmhub apikey create|list|revoke          manage API keys
//	crmhub user add|list|passwd               add or list users (record owners), set a password
//	crmhub role list|show                     list the roles, or show one's rights
//	crmhub stream resync|status|dead-letters  resync snapshots to Kafka, show the stream, list or retry dead letters
//	crmhub inbox status|failed|retry          webhook deliveries: their status, the failed ones, retry them
//	crmhub print --form F --id ID             print a document as PDF
//	crmhub import FILE.xlsx --entity E        import an .xlsx workbook of records or prices
//	crmhub export --entity E -o FILE          export records to an .xlsx workbook
//	crmhub onec import|export-orders          import CommerceML files from disk, or export the orders for 1C
//	crmhub report list|run                    list the reports, or run one to a file
//	crmhub rates import|list                  import the Bank of Russia's daily rates, or list them
//	crmhub bik import FILE                    import the Bank of Russia's BIK directory (ED807) for bank lookups
//	crmhub fias import|normalize              import the state address register (ФИАС/ГАР), or structure addresses from it
//	crmhub config show                        print the effective configuration, secrets redacted
//	crmhub version                            print the version
//
// "crmhub COMMAND --help" prints a command's flags (a test keeps this list
// whole). Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad
// configuration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	// The time zone database inside the binary: schedules, documents and
	// PBX times name zones such as Europe/Moscow, and a slim container
	// image may have no /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Set by -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Main holds the program's dependencies so that tests can run it end to
// end in-process.
type Main struct {
	// Stdin is read by commands that take a secret (user passwd): never
	// an argument, which other users see in the process list.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// OnListen, when set, is told the API's address once it listens.
	OnListen func(addr string)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks errors that exit with code 2.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// subcommand is one verb of a command group (crmhub user add).
type subcommand struct {
	name string
	run  func(context.Context, []string) error
}

// dispatch runs the subcommand args[0] names: usage is printed for -h or
// --help (and, as a usage error, when there is none), an unknown one is
// refused with the list.
func (m *Main) dispatch(ctx context.Context, group, usage string, args []string, subs ...subcommand) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(m.Stderr, usage)
		if len(args) == 0 {
			return usagef("%s needs a subcommand", group)
		}
		return nil
	}
	names := make([]string, len(subs))
	for i, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, args[1:])
		}
		names[i] = s.name
	}
	list := names[0]
	if n := len(names); n > 1 {
		list = strings.Join(names[:n-1], ", ") + " or " + names[n-1]
	}
	return usagef("unknown %s subcommand %q: use %s", group, args[0], list)
}

type command struct {
	name, summary string
	run           func(m *Main, ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the hub: API, embedded PostgreSQL when no database URL is set", (*Main).serve},
		{"migrate", "apply (up) or list (status) database migrations", (*Main).migrate},
		{"apikey", "create, list or revoke API keys", (*Main).apikey},
		{"user", "add or list users (record owners), set a password", (*Main).user},
		{"role", "list the roles, or show one's rights", (*Main).role},
		{"stream", "resync snapshots to Kafka, or show the stream's status", (*Main).stream},
		{"inbox", "webhook deliveries: status, failed ones, retry them", (*Main).inbox},
		{"print", "print a document as PDF (счёт на оплату, акт, коммерческое предложение)", (*Main).print},
		{"import", "import an .xlsx workbook of leads, contacts, accounts, deals, products, services or prices", (*Main).importCmd},
		{"export", "export records to an .xlsx workbook", (*Main).exportCmd},
		{"onec", "import CommerceML files from disk, or export the orders for 1C", (*Main).onecCmd},
		{"report", "list the reports, or run one to JSON, CSV, Excel, PDF or a chart image", (*Main).reportCmd},
		{"rates", "import the Bank of Russia's daily rates from a file, or list them", (*Main).rates},
		{"bik", "import the Bank of Russia's BIK directory (ED807) that bank lookups answer from", (*Main).bik},
		{"fias", "import the state address register (ФИАС/ГАР) that address lookups answer from", (*Main).fias},
		{"config", "show the effective configuration, secrets redacted", (*Main).config},
		{"version", "print the version", (*Main).version},
	}
}

// Run runs the command line and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		m.usage(m.Stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return m.exit(c.run(m, ctx, args[1:]))
		}
	}
	fmt.Fprintf(m.Stderr, "crmhub: unknown command %q\n\n", args[0])
	m.usage(m.Stderr)
	return exitUsage
}

func (m *Main) exit(err error) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(m.Stderr, "crmhub:", err)
		return exitUsage
	default:
		fmt.Fprintln(m.Stderr, "crmhub:", err)
		return exitError
	}
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, "crmhub — headless CRM and integration hub\n\nUsage: crmhub <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'crmhub <command> --help' for a command's flags. Exit codes: 0 ok, 1 failure, 2 bad usage or config.")
}

// flags returns a subcommand's flag set with the shared --config flag.
func (m *Main) flags(name, usage string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	cfg := fs.String("config", "", "config file (default $CRMHUB_CONFIG, else "+defaultConfigPath+" when present)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: crmhub %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs, cfg
}

// parse parses flags; a parse error is a usage error, --help is not an error.
func parse(fs *flag.FlagSet, args []string) error {
	// Flags may follow the arguments (crmhub fias import gar.zip --regions
	// 77), as the usage lines write them; after "--" all are arguments.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err}
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); len(rest) == 0 || (consumed > 0 && args[consumed-1] == "--") {
			positional = append(positional, rest...)
			break
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// loadConfig loads and validates the configuration; failures exit with 2.
func (m *Main) loadConfig(path string) (Config, error) {
	cfg, err := loadConfig(path, m.Getenv)
	if err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

func (m *Main) version(_ context.Context, args []string) error {
	fs, _ := m.flags("version", "version")
	if err := parse(fs, args); err != nil {
		return err
	}
	goVersion := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
	}
	c := commit
	if c == "" {
		c = "unknown"
	}
	fmt.Fprintf(m.Stdout, "crmhub %s (commit %s, %s)\n", version, c, goVersion)
	return nil
}
