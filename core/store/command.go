package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.CommandService = (*Store)(nil)

// ApplyCommand implements core.CommandService.
func (s *Store) ApplyCommand(ctx context.Context, cmd core.Command, pos core.StreamPosition) (bool, error) {
	applied := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if applied, err = s.applyOne(ctx, tx, cmd, pos); err != nil {
			return err
		}
		return moveOffset(ctx, tx, pos)
	})
	if err != nil {
		return false, fmt.Errorf("command %s: %w", cmd.ID, err)
	}
	return applied, nil
}

// ApplyCommands implements core.CommandService: one transaction (one
// commit, one WAL flush) for many commands, the offset moved once at the
// end (moving it per command would update one row thousands of times in a
// transaction, each update walking all the row's earlier versions). The
// batch is applied all or nothing; when a command fails, the commands
// before it are applied again on their own.
func (s *Store) ApplyCommands(ctx context.Context, cmds []core.Command, pos []core.StreamPosition) (int, error) {
	i, err := s.applyAll(ctx, cmds, pos)
	if err == nil || i == 0 {
		return i, wrap("apply commands", err)
	}
	if n, err2 := s.ApplyCommands(ctx, cmds[:i], pos[:i]); n < i {
		return n, err2
	}
	return i, wrap("apply commands", err)
}

// applyAll applies every command in one transaction, or none: it returns
// the index of the one that failed. The batch's ids are looked up in one
// query and recorded in one insert; that insert has no ON CONFLICT, so a
// command applied meanwhile by another partition's consumer fails the
// batch (which the caller then applies command by command) rather than
// applying twice.
func (s *Store) applyAll(ctx context.Context, cmds []core.Command, pos []core.StreamPosition) (int, error) {
	failed := len(cmds)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		ids := make([]string, len(cmds))
		for i, cmd := range cmds {
			ids[i] = cmd.ID
		}
		rows, err := tx.Query(ctx, `SELECT id FROM inbound_commands WHERE id = ANY($1)`, ids)
		if err != nil {
			failed = 0
			return err
		}
		seenIDs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			failed = 0
			return err
		}
		seen := make(map[string]bool, len(seenIDs))
		for _, id := range seenIDs {
			seen[id] = true
		}

		var rec struct {
			ids, types, sources, topics []string
			parts                       []int32
			offsets                     []int64
		}
		for i, cmd := range cmds {
			source, err := commandSource(cmd)
			if err != nil {
				failed = i
				return fmt.Errorf("command %s: %w", cmd.ID, err)
			}
			if seen[cmd.ID] {
				continue // applied before (or earlier in this batch): no effect
			}
			seen[cmd.ID] = true
			if err := s.execute(commandContext(ctx, cmd, source), tx, cmd); err != nil {
				failed = i
				return fmt.Errorf("command %s: %w", cmd.ID, err)
			}
			rec.ids, rec.types, rec.sources = append(rec.ids, cmd.ID), append(rec.types, cmd.Type), append(rec.sources, source)
			rec.topics, rec.parts, rec.offsets = append(rec.topics, pos[i].Topic), append(rec.parts, pos[i].Partition), append(rec.offsets, pos[i].Offset)
		}

		if len(rec.ids) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO inbound_commands (id, type, source, status, topic, partition, "offset")
				SELECT i, t, s, 'applied', tp, p, o FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[])
				AS x(i, t, s, tp, p, o)`, rec.ids, rec.types, rec.sources, rec.topics, rec.parts, rec.offsets); err != nil {
				failed = 0
				return fmt.Errorf("record commands: %w", err)
			}
		}
		if len(cmds) == 0 {
			return nil
		}
		return moveOffset(ctx, tx, pos[len(pos)-1])
	})
	if err != nil && failed == len(cmds) {
		failed = 0 // the commit itself failed: nothing applied
	}
	return failed, err
}

// commandSource checks a command's id and source and returns the source
// its changes carry.
func commandSource(cmd core.Command) (string, error) {
	if cmd.ID == "" || len(cmd.ID) > 200 {
		return "", core.Invalid([]core.FieldError{{Field: "id", Code: "required", Message: "a command id of 1 to 200 characters"}})
	}
	if cmd.Source == "" {
		return "kafka", nil
	}
	if !core.ValidCode(cmd.Source) {
		return "", core.Invalid([]core.FieldError{{Field: "source", Code: "invalid", Message: "1 to 50 of a-z, 0-9, _"}})
	}
	return cmd.Source, nil
}

// commandContext is the context a command's changes are made in: its
// source as the actor, its id as the correlation id.
func commandContext(ctx context.Context, cmd core.Command, source string) context.Context {
	ctx = core.NewContextWithActor(ctx, core.Actor{ID: "command:" + cmd.ID, Source: source})
	return core.NewContextWithCorrelationID(ctx, cmd.ID)
}

// applyOne applies a command in tx with the record of its id and position
// (the caller moves the offset).
func (s *Store) applyOne(ctx context.Context, tx pgx.Tx, cmd core.Command, pos core.StreamPosition) (bool, error) {
	source, err := commandSource(cmd)
	if err != nil {
		return false, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO inbound_commands (id, type, source, status, topic, partition, "offset")
		VALUES ($1, $2, $3, 'applied', $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		cmd.ID, cmd.Type, source, pos.Topic, pos.Partition, pos.Offset)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, nil // seen before: its effects are already there
	}
	return true, s.execute(commandContext(ctx, cmd, source), tx, cmd)
}

func (s *Store) execute(ctx context.Context, tx pgx.Tx, cmd core.Command) error {
	bad := func(msg string) error {
		return core.Invalid([]core.FieldError{{Field: "payload", Code: "invalid", Message: msg}})
	}
	switch cmd.Type {
	case core.CmdUpsertAccount, core.CmdUpsertContact:
		var p core.UpsertPayload
		if json.Unmarshal(cmd.Payload, &p) != nil {
			return bad("expected {external_id, fields}")
		}
		sys, id, ok := strings.Cut(p.ExternalID, ":")
		if !ok || sys == "" || id == "" {
			return bad("external_id must be system:id")
		}
		if p.Fields == nil {
			p.Fields = core.Patch{}
		}
		p.Fields.Set("external_ids", map[string]string{sys: id})
		if cmd.Type == core.CmdUpsertAccount {
			return upsert(ctx, s, tx, s.tables.account, sys, id, p.Fields)
		}
		return upsert(ctx, s, tx, s.tables.contact, sys, id, p.Fields)
	case core.CmdCreateLead:
		var p core.Patch
		if json.Unmarshal(cmd.Payload, &p) != nil || p == nil {
			return bad("expected the lead's fields")
		}
		_, err := s.tables.lead.createWith(ctx, s, p, writeOpts{tx: tx})
		return err
	case core.CmdDealStage:
		var p core.DealStagePayload
		if json.Unmarshal(cmd.Payload, &p) != nil || p.Stage == "" || (p.DealID == "") == (p.ExternalID == "") {
			return bad("expected {deal_id or external_id, stage}")
		}
		dealID := p.DealID
		if p.ExternalID != "" {
			sys, id, _ := strings.Cut(p.ExternalID, ":")
			d, err := s.tables.deal.get1(ctx, tx, `WHERE external_ids @> $1::jsonb AND deleted_at IS NULL`, map[string]string{sys: id})
			if err != nil {
				return err
			}
			dealID = d.ID
		}
		_, err := s.tables.deal.updateWith(ctx, s, dealID, 0, core.PatchOf(map[string]any{"stage": p.Stage}), writeOpts{tx: tx})
		return err
	}
	return core.Invalid([]core.FieldError{{Field: "type", Code: "invalid_choice",
		Message: "one of account.upsert, contact.upsert, lead.create, deal.stage"}})
}

// upsert updates the record with external id sys:id, or creates it.
func upsert[E any, P recordPtr[E]](ctx context.Context, s *Store, tx pgx.Tx, t *table[E, P], sys, id string, fields core.Patch) error {
	rec, err := t.get1(ctx, tx, `WHERE external_ids @> $1::jsonb AND deleted_at IS NULL ORDER BY created_at LIMIT 1`,
		map[string]string{sys: id})
	switch core.ErrorCode(err) {
	case "":
		_, err = t.updateWith(ctx, s, P(rec).Base().ID, 0, fields, writeOpts{tx: tx})
	case core.ENOTFOUND:
		_, err = t.createWith(ctx, s, fields, writeOpts{tx: tx})
	}
	return err
}

// SkipCommand implements core.CommandService.
func (s *Store) SkipCommand(ctx context.Context, pos core.StreamPosition, commandID, reason string) error {
	return wrap("skip command", s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO command_dead_letters (topic, partition, "offset", command_id, reason)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			pos.Topic, pos.Partition, pos.Offset, core.Clip(commandID, 200), core.Clip(reason, 2000)); err != nil {
			return err
		}
		if commandID != "" && len(commandID) <= 200 {
			if _, err := tx.Exec(ctx, `INSERT INTO inbound_commands (id, type, source, status, reason, topic, partition, "offset")
				VALUES ($1, '', '', 'dead_letter', $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
				commandID, reason, pos.Topic, pos.Partition, pos.Offset); err != nil {
				return err
			}
		}
		return moveOffset(ctx, tx, pos)
	}))
}

func moveOffset(ctx context.Context, tx pgx.Tx, pos core.StreamPosition) error {
	_, err := tx.Exec(ctx, `INSERT INTO stream_offsets ("group", topic, partition, next_offset) VALUES ($1, $2, $3, $4)
		ON CONFLICT ("group", topic, partition) DO UPDATE SET next_offset = greatest(stream_offsets.next_offset, excluded.next_offset)`,
		pos.Group, pos.Topic, pos.Partition, pos.Offset+1)
	return err
}

// StreamOffsets implements core.CommandService.
func (s *Store) StreamOffsets(ctx context.Context, group, topic string) (map[int32]int64, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT partition, next_offset FROM stream_offsets WHERE "group" = $1 AND topic = $2`, group, topic)
	if err != nil {
		return nil, wrap("stream offsets", err)
	}
	defer rows.Close()
	out := map[int32]int64{}
	for rows.Next() {
		var p int32
		var o int64
		if err := rows.Scan(&p, &o); err != nil {
			return nil, wrap("stream offsets", err)
		}
		out[p] = o
	}
	return out, wrap("stream offsets", rows.Err())
}
