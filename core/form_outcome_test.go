package core_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestFormTask(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	owner := "0190a5c0-0000-7000-8000-000000000005"
	contact := "0190a5c0-0000-7000-8000-000000000006"
	sub := core.FormSubmission{Form: "callback", Summary: "Форма «Обратный звонок»: Иван +79161112233"}
	p := core.FormTask(sub, core.DuplicateMatch{Entity: core.EntityContact, ID: contact, OwnerID: owner}, now)
	require.Equal(t, map[string]any{"kind": "task", "subject": "Заявка с сайта: callback", "priority": "high",
		"start_at": "2026-11-27T09:30:00Z", "due_at": "2026-11-27T10:30:00Z", "owner_id": owner,
		"description": sub.Summary, "contact_id": contact}, members(t, p))

	var a core.Activity
	require.Empty(t, core.ActivitySchema().Apply(&a, p, ""), "a valid activity patch")
}
