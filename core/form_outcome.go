package core

import "time"

// FormTaskDue is how long the owner of a known record has to answer a
// form submission attached to it.
const FormTaskDue = time.Hour

// FormTask is the task a submission attached to a known record m produces
// (FormDupAttach): a high-priority task for the record's owner, linked to
// it, due FormTaskDue after now, describing the submission.
func FormTask(sub FormSubmission, m DuplicateMatch, now time.Time) Patch {
	return PatchOf(map[string]any{
		"kind":           KindTask,
		"subject":        "Заявка с сайта: " + sub.Form,
		"priority":       "high",
		"start_at":       now,
		"due_at":         now.Add(FormTaskDue),
		"owner_id":       m.OwnerID,
		"description":    sub.Summary,
		m.Entity + "_id": m.ID,
	})
}
