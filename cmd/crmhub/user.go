package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

// cliContext marks changes made from the command line in their events.
func cliContext(ctx context.Context) context.Context {
	return core.NewContextWithActor(ctx, core.Actor{ID: "cli", Source: "cli"})
}

func (m *Main) user(ctx context.Context, args []string) error {
	return m.dispatch(ctx, "user", "Usage: crmhub user add --name NAME [--email E] [--ext 101,102] [--role ROLE] [--admin]\n"+
		"       crmhub user list [--all]\n       crmhub user passwd --email E < password.txt", args,
		subcommand{"add", m.userAdd},
		subcommand{"list", m.userList},
		subcommand{"passwd", m.userPasswd})
}

func (m *Main) userAdd(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("user add", "user add --name NAME [--email E] [--ext 101,102] [--role ROLE] [--admin]")
	name := fs.String("name", "", "the user's full name (required)")
	email := fs.String("email", "", "e-mail address")
	ext := fs.String("ext", "", "comma-separated phone extensions, e.g. 101,102")
	admin := fs.Bool("admin", false, "make the user an administrator")
	role := fs.String("role", "", "the user's role, by id or name (default «Менеджер»)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return usagef("--name is required")
	}
	p := core.PatchOf(map[string]any{"name": *name, "is_admin": *admin})
	if *email != "" {
		p.Set("email", *email)
	}
	if *ext != "" {
		p.Set("phone_extensions", strings.Split(*ext, ","))
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		if *role != "" {
			r, err := findRole(ctx, st, *role)
			if err != nil {
				return err
			}
			p.Set("role_id", r.ID)
		}
		u, err := st.Users().Create(cliContext(ctx), p)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintln(m.Stdout, u.ID)
		return nil
	})
}

func (m *Main) userList(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("user list", "user list [--all]")
	all := fs.Bool("all", false, "include inactive users")
	if err := parse(fs, args); err != nil {
		return err
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		f := core.UserFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "name"}, Limit: core.MaxPageSize}}
		if !*all {
			active := true
			f.Active = &active
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tEMAIL\tEXTENSIONS\tACTIVE\tADMIN")
		for {
			page, err := st.Users().List(ctx, f)
			if err != nil {
				return err
			}
			for _, u := range page.Items {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%v\n", u.ID, u.Name, u.Email, strings.Join(u.PhoneExtensions, ","), u.Active, u.IsAdmin)
			}
			if page.NextCursor == "" {
				return w.Flush()
			}
			f.Cursor = page.NextCursor
		}
	})
}

// describe turns a validation error into a line per field for a terminal.
func describe(err error) error {
	fields := core.ErrorFields(err)
	if len(fields) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString(core.ErrorMessage(err))
	for _, f := range fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return usageError{fmt.Errorf("%s", b.String())}
}
