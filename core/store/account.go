package store

import (
	"context"

	"github.com/crmhub/crmhub/core"
)

// accounts keeps accounts; Store.Accounts returns it.
type accounts struct {
	repo[core.Account, *core.Account]
}

var _ core.AccountService = accounts{}

func newAccountTable() *table[core.Account, *core.Account] {
	return (&table[core.Account, *core.Account]{
		entity: core.EntityAccount, name: "accounts", schema: core.AccountSchema,
		cols: func(a *core.Account) []col {
			return []col{{"name", &a.Name}, {"type", &a.Type}, {"legal_form", &a.LegalForm}, {"inn", &a.INN}, {"kpp", &a.KPP},
				{"ogrn", &a.OGRN}, {"okpo", &a.OKPO}, {"bank_name", &a.BankName}, {"bik", &a.BIK},
				{"correspondent_account", &a.CorrespondentAccount}, {"settlement_account", &a.SettlementAccount},
				{"legal_address", &a.LegalAddress}, {"actual_address", &a.ActualAddress}, {"phone", &a.Phone},
				{"other_phone", &a.OtherPhone}, {"fax", &a.Fax}, {"email", &a.Email}, {"other_email", &a.OtherEmail},
				{"website", &a.Website}, {"industry", &a.Industry}, {"description", &a.Description},
				{"external_ids", &a.ExternalIDs},
				derived("name_key", func() any { return core.NormalizeCompanyName(a.Name) })}
		},
		defaults: func(a *core.Account) { a.Type, a.ExternalIDs = "customer", map[string]string{} },
		validate: (*core.Account).Validate,
		prepare: func(ctx context.Context, db dbtx, old, a *core.Account) error {
			var oldLegal, oldActual *core.PostalAddress
			if old != nil {
				oldLegal, oldActual = &old.LegalAddress, &old.ActualAddress
			}
			if err := resolveAddress(ctx, db, "legal_address", oldLegal, &a.LegalAddress); err != nil {
				return err
			}
			return resolveAddress(ctx, db, "actual_address", oldActual, &a.ActualAddress)
		},
		dupKeys: func(a *core.Account) core.DuplicateKeys {
			return core.DuplicateKeys{Phones: nonEmpty(a.Phone, a.OtherPhone), Emails: nonEmpty(a.Email, a.OtherEmail), INN: a.INN}
		},
		sorts: commonSorts(map[string]func(*core.Account) string{"name": func(a *core.Account) string { return a.Name }}),
	}).init()
}

// Accounts returns the account repository.
func (s *Store) Accounts() core.AccountService {
	return accounts{repo[core.Account, *core.Account]{s: s, t: s.tables.account}}
}

// List implements core.AccountService.
func (r accounts) List(ctx context.Context, f core.AccountFilter) (core.Page[core.Account], error) {
	q := &query{}
	if len(f.Types) > 0 {
		q.where("type = ANY(" + q.arg(f.Types) + ")")
	}
	if f.INN != "" {
		q.where("inn = " + q.arg(f.INN))
	}
	if f.OGRN != "" {
		q.where("ogrn = " + q.arg(f.OGRN))
	}
	if f.KPP != "" {
		q.where("kpp = " + q.arg(f.KPP))
	}
	if f.Phone != "" {
		q.anyEqual(f.Phone, "phone", "other_phone", "fax")
	}
	if f.Email != "" {
		q.anyEqual(f.Email, "email", "other_email")
	}
	q.externalID(f.ExternalID)
	if f.Query != "" {
		q.anyLike(f.Query, "name", "inn", "ogrn", "email", "phone")
	}
	return r.t.list(ctx, r.s, q, f.ListParams)
}
