package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

// userPasswd sets a user's password, read from the first line of standard
// input (never an argument: the process list shows those to everyone).
func (m *Main) userPasswd(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("user passwd", "user passwd --email E | --id ID  (the password on standard input)")
	email := fs.String("email", "", "the user's e-mail")
	id := fs.String("id", "", "the user's id")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*email == "") == (*id == "") {
		return usagef("give --email or --id")
	}
	pw, err := readSecret(m.Stdin)
	if err != nil {
		return err
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if err := core.CheckNewPassword(pw, cfg.Auth.PasswordMinLength); err != nil {
		return describe(err)
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		userID := *id
		if *email != "" {
			c, err := st.Credentials(ctx, *email)
			if err != nil {
				return describe(err)
			}
			userID = c.UserID
		}
		if err := st.SetPassword(ctx, userID, core.HashPassword(pw), ""); err != nil {
			return describe(err)
		}
		if err := st.Audit(cliContext(ctx), core.AuditEntry{Action: core.AuditPassword, Entity: core.EntityUser, RecordID: userID,
			Detail: []byte(`{"by":"cli"}`)}); err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, "password set; the user's sessions are ended")
		return nil
	})
}

// readSecret reads one line from r, without its line ending.
func readSecret(r io.Reader) (string, error) {
	if r == nil {
		return "", usagef("give the password on standard input")
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024), core.MaxPasswordBytes+2)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return "", usagef("the password on standard input is too long (at most %d bytes)", core.MaxPasswordBytes)
		}
		return "", usagef("give the password on standard input")
	}
	return strings.TrimRight(sc.Text(), "\r"), nil
}

func (m *Main) role(ctx context.Context, args []string) error {
	return m.dispatch(ctx, "role", "Usage: crmhub role list\n       crmhub role show ROLE (its id or name)", args,
		subcommand{"list", m.roleList},
		subcommand{"show", m.roleShow})
}

func (m *Main) roleList(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("role list", "role list")
	if err := parse(fs, args); err != nil {
		return err
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		all, err := allRoles(ctx, st)
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, r := range all {
			names[r.ID] = r.Name
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tREPORTS TO\tADMIN AREAS")
		for _, r := range all {
			parent := ""
			if r.ParentID != nil {
				parent = names[*r.ParentID]
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.ID, r.Name, parent, strings.Join(r.Areas, ","))
		}
		return w.Flush()
	})
}

func (m *Main) roleShow(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("role show", "role show ROLE")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("name one role, by id or name")
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		r, err := findRole(ctx, st, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%s (%s)\n%s\n\n", r.Name, r.ID, r.Description)
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprint(w, "ENTITY")
		for _, a := range core.Actions() {
			fmt.Fprintf(w, "\t%s", strings.ToUpper(string(a)))
		}
		fmt.Fprintln(w)
		for _, e := range core.RightsEntities() {
			fmt.Fprint(w, e)
			for _, a := range core.Actions() {
				l := r.Rights[e][a]
				if l == "" {
					l = core.LevelNone
				}
				fmt.Fprintf(w, "\t%s", l)
			}
			fmt.Fprintln(w)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		for _, e := range slices.Sorted(maps.Keys(r.Fields)) {
			for _, f := range slices.Sorted(maps.Keys(r.Fields[e])) {
				fmt.Fprintf(m.Stdout, "field %s.%s: %s\n", e, f, r.Fields[e][f])
			}
		}
		fmt.Fprintf(m.Stdout, "admin areas: %s\n", strings.Join(r.Areas, ", "))
		return nil
	})
}

// allRoles lists every role, by name.
func allRoles(ctx context.Context, st *store.Store) ([]core.Role, error) {
	f := core.RoleFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "name"}, Limit: core.MaxPageSize}}
	var out []core.Role
	for {
		page, err := st.Roles().List(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}

// findRole finds a role by id or (case-insensitively) by name.
func findRole(ctx context.Context, st *store.Store, ref string) (*core.Role, error) {
	all, err := allRoles(ctx, st)
	if err != nil {
		return nil, err
	}
	for _, r := range all {
		if r.ID == ref || strings.EqualFold(r.Name, ref) {
			return &r, nil
		}
	}
	return nil, errors.New("no role " + ref + ": see crmhub role list")
}
