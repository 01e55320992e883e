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
		columns: []string{"name", "type", "legal_form", "inn", "kpp", "ogrn", "okpo", "bank_name", "bik",
			"correspondent_account", "settlement_account", "legal_address", "actual_address", "phone", "other_phone",
			"fax", "email", "other_email", "website", "industry", "description", "external_ids", "name_key"},
		values: func(a *core.Account) []any {
			return []any{a.Name, a.Type, a.LegalForm, a.INN, a.KPP, a.OGRN, a.OKPO, a.BankName, a.BIK,
				a.CorrespondentAccount, a.SettlementAccount, a.LegalAddress, a.ActualAddress, a.Phone, a.OtherPhone,
				a.Fax, a.Email, a.OtherEmail, a.Website, a.Industry, a.Description, a.ExternalIDs,
				core.NormalizeCompanyName(a.Name)}
		},
		targets: func(a *core.Account) []any {
			return []any{&a.Name, &a.Type, &a.LegalForm, &a.INN, &a.KPP, &a.OGRN, &a.OKPO, &a.BankName, &a.BIK,
				&a.CorrespondentAccount, &a.SettlementAccount, &a.LegalAddress, &a.ActualAddress, &a.Phone, &a.OtherPhone,
				&a.Fax, &a.Email, &a.OtherEmail, &a.Website, &a.Industry, &a.Description, &a.ExternalIDs,
				new(string)} // name_key is derived from the name
		},
		defaults: func(a *core.Account) { a.Type, a.ExternalIDs = "customer", map[string]string{} },
		validate: (*core.Account).Validate,
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
	if f.Phone != "" {
		q.anyEqual(f.Phone, "phone", "other_phone", "fax")
	}
	if f.Email != "" {
		q.anyEqual(f.Email, "email", "other_email")
	}
	q.externalID(f.ExternalID)
	if f.Query != "" {
		q.anyLike(f.Query, "name", "inn", "email", "phone")
	}
	return r.t.list(ctx, r.s, q, f.ListParams)
}
