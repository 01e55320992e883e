package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.LeadConverter = (*Store)(nil)

// SetConversionMapping replaces the lead conversion mapping (from config).
func (s *Store) SetConversionMapping(m core.ConversionMapping) { s.mapping = m }

// Convert implements core.LeadConverter. Everything happens in one
// transaction through the ordinary repositories, so every record created or
// changed gets its event and a failure anywhere leaves nothing behind.
func (s *Store) Convert(ctx context.Context, leadID string, req core.ConvertRequest) (*core.Conversion, error) {
	fingerprint, err := requestFingerprint(req)
	if err != nil {
		return nil, err
	}
	var out *core.Conversion
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		lead, err := s.tables.lead.get(ctx, tx, leadID, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := s.tables.lead.authorize(ctx, s, tx, leadID, core.ActEdit, nil); err != nil {
			return err
		}
		if lead.Converted {
			if !bytes.Equal(lead.ConversionRequest, fingerprint) {
				return core.Errorf(core.ECONFLICT, "the lead was already converted with another request")
			}
			out, err = s.conversionOf(ctx, tx, lead)
			return err
		}
		out, err = s.convert(ctx, tx, lead, req, fingerprint)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("convert lead %s: %w", leadID, err)
	}
	return out, nil
}

// convert makes the lead's account, contact and deal in tx. A conversion
// turns a lead into its contact: its records are never the lead's
// duplicates, so they skip the duplicate policy.
func (s *Store) convert(ctx context.Context, tx pgx.Tx, lead *core.Lead, req core.ConvertRequest, fingerprint []byte) (*core.Conversion, error) {
	in := writeOpts{tx: tx, skipDuplicates: true}
	owner := req.OwnerID
	if owner == "" {
		owner = lead.OwnerID
	}
	res := &core.Conversion{}
	acc, reused, err := s.conversionAccount(ctx, in, lead, req.Account, owner)
	if err != nil {
		return nil, err
	}
	res.Account, res.AccountReused = *acc, reused

	cp, err := s.mapping.ContactPatch(lead)
	if err != nil {
		return nil, err
	}
	cp = merge(cp, req.Contact, owner)
	cp.Set("account_id", acc.ID)
	contact, err := s.tables.contact.createWith(ctx, s, cp, in)
	if err != nil {
		return nil, prefixFields(err, "contact.")
	}
	res.Contact = *contact

	if req.Deal != nil {
		dp, err := s.mapping.DealPatch(lead)
		if err != nil {
			return nil, err
		}
		dp = merge(dp, req.Deal, owner)
		dp.Set("account_id", acc.ID).Set("contact_id", contact.ID)
		leadID := lead.ID
		deal, err := s.tables.deal.createWith(ctx, s, dp, in, func(d *core.Deal) { d.LeadID = &leadID })
		if err != nil {
			return nil, prefixFields(err, "deal.")
		}
		res.Deal = deal
	}
	if res.Relinked, err = s.relinkActivities(ctx, in, lead.ID, acc.ID, contact.ID); err != nil {
		return nil, err
	}

	// The lead records what it became and turns read-only.
	done := *lead
	now := s.now()
	done.Converted, done.ConvertedAt, done.ConversionRequest = true, &now, fingerprint
	done.ConvertedAccountID, done.ConvertedContactID = &acc.ID, &contact.ID
	if res.Deal != nil {
		done.ConvertedDealID = &res.Deal.ID
	}
	if err := s.tables.lead.rewrite(ctx, s, tx, lead, &done, core.OpUpdated, func() {}); err != nil {
		return nil, err
	}
	res.Lead = done
	return res, nil
}

// conversionAccount finds the account to use: the one named by id, else a
// live account with the same ИНН, else one with the same normalized name;
// else it creates one, with in's options.
func (s *Store) conversionAccount(ctx context.Context, in writeOpts, lead *core.Lead, override core.Patch, owner string) (*core.Account, bool, error) {
	tx := in.tx
	if raw, ok := override["id"]; ok {
		var id string
		if json.Unmarshal(raw, &id) != nil {
			return nil, false, core.Invalid([]core.FieldError{{Field: "account.id", Code: "invalid_id", Message: "must be an account id"}})
		}
		acc, err := s.tables.account.getFor(ctx, tx, id, core.ActView)
		if core.ErrorCode(err) == core.ENOTFOUND {
			return nil, false, core.Invalid([]core.FieldError{{Field: "account.id", Code: "not_found", Message: "no such account"}})
		}
		return acc, err == nil, err
	}
	ap, err := s.mapping.AccountPatch(lead)
	if err != nil {
		return nil, false, err
	}
	ap = merge(ap, override, owner)
	// Validate what would be created first, so that an ИНН is compared in
	// its checked, normalized form.
	probe := &core.Account{ExternalIDs: map[string]string{}}
	if err := core.Invalid(core.AccountSchema().Apply(probe, ap, "account.")); err != nil {
		return nil, false, err
	}
	// An ИНН names one company: one the user may not see is not created
	// twice behind its owner's back. A name is no identity: an account
	// of that name the user may not see is not reused.
	if probe.INN != "" {
		acc, err := s.tables.account.get1(ctx, tx, `WHERE inn = $1 AND deleted_at IS NULL ORDER BY created_at LIMIT 1`, probe.INN)
		switch {
		case err == nil:
			err := s.authorize(ctx, tx, core.EntityAccount, "accounts", false, acc.ID, core.ActView)
			if core.ErrorCode(err) == core.ENOTFOUND {
				return nil, false, core.Errorf(core.ECONFLICT,
					"an account with ИНН %s exists that you may not see: ask its owner to share it, or name an account in account.id", probe.INN)
			}
			return acc, err == nil, err
		case core.ErrorCode(err) != core.ENOTFOUND:
			return nil, false, err
		}
	}
	if key := core.NormalizeCompanyName(probe.Name); key != "" {
		q := &query{}
		where := "WHERE name_key = " + q.arg(key) + " AND deleted_at IS NULL"
		if c := visibleCond(q, core.AccessFromContext(ctx), core.EntityAccount, false, core.ActView, ""); c != "" {
			where += " AND " + c
		}
		acc, err := s.tables.account.get1(ctx, tx, where+" ORDER BY created_at LIMIT 1", q.args...)
		if err == nil {
			return acc, true, nil
		} else if core.ErrorCode(err) != core.ENOTFOUND {
			return nil, false, err
		}
	}
	acc, err := s.tables.account.createWith(ctx, s, ap, in)
	if err != nil {
		return nil, false, prefixFields(err, "account.")
	}
	return acc, false, nil
}

// relinkActivities links the lead's activities to the account and contact
// too, each with its event, with in's options: a converted lead's calls,
// meetings and tasks stay on it and appear on the new records as well.
func (s *Store) relinkActivities(ctx context.Context, in writeOpts, leadID, accountID, contactID string) ([]string, error) {
	rows, err := in.tx.Query(ctx, `SELECT id::text FROM activities WHERE lead_id = $1 AND deleted_at IS NULL ORDER BY created_at`, leadID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	p := core.PatchOf(map[string]any{"account_id": accountID, "contact_id": contactID})
	for _, id := range ids {
		if _, err := s.tables.activity.updateWith(ctx, s, id, 0, p, in); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// conversionOf rebuilds the result of an earlier conversion, reading on db.
func (s *Store) conversionOf(ctx context.Context, db dbtx, lead *core.Lead) (*core.Conversion, error) {
	res := &core.Conversion{Lead: *lead, Replayed: true, Relinked: []string{}}
	acc, err := s.tables.account.get(ctx, db, *lead.ConvertedAccountID, "")
	if err != nil {
		return nil, err
	}
	contact, err := s.tables.contact.get(ctx, db, *lead.ConvertedContactID, "")
	if err != nil {
		return nil, err
	}
	res.Account, res.Contact = *acc, *contact
	res.AccountReused = acc.CreatedAt.Before(*lead.ConvertedAt)
	if lead.ConvertedDealID != nil {
		if res.Deal, err = s.tables.deal.get(ctx, db, *lead.ConvertedDealID, ""); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// merge lays the request's overrides over the mapped fields and sets the
// owner (unless the overrides name one).
func merge(mapped, override core.Patch, owner string) core.Patch {
	out := core.Patch{}
	for k, v := range mapped {
		out[k] = v
	}
	for k, v := range override {
		out[k] = v
	}
	if _, ok := out["owner_id"]; !ok && owner != "" {
		out.Set("owner_id", owner)
	}
	return out
}

// prefixFields names the part of the request a field error belongs to.
func prefixFields(err error, prefix string) error {
	fields := core.ErrorFields(err)
	if len(fields) == 0 {
		return err
	}
	out := make([]core.FieldError, len(fields))
	for i, f := range fields {
		f.Field = prefix + f.Field
		out[i] = f
	}
	return core.Invalid(out)
}

// requestFingerprint hashes the request's canonical JSON (maps marshal
// with sorted keys), so that a repeat can be told from a different one.
func requestFingerprint(req core.ConvertRequest) ([]byte, error) {
	canon := func(p core.Patch) map[string]any {
		if p == nil {
			return nil
		}
		m := map[string]any{}
		for k, v := range p {
			var x any
			if err := json.Unmarshal(v, &x); err != nil {
				return nil
			}
			m[k] = x
		}
		return m
	}
	b, err := json.Marshal(map[string]any{"account": canon(req.Account), "contact": canon(req.Contact),
		"deal": canon(req.Deal), "has_deal": req.Deal != nil, "owner_id": req.OwnerID})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}
