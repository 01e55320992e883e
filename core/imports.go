package core

import (
	"context"
	"time"
)

// Duplicate strategies of an import: what a row whose key matches an
// existing record (or an earlier row of the file) does.
const (
	ImportSkip   = "skip"
	ImportUpdate = "update"
	ImportCreate = "create"
)

// ImportKeys are the keys a duplicate is recognized by.
var ImportKeys = []string{"id", "email", "phone", "inn", "sku", "external_id"}

// ImportOptions say what to import and how.
type ImportOptions struct {
	Entity      string            `json:"entity"`
	DryRun      bool              `json:"dry_run"`
	OnDuplicate string            `json:"on_duplicate"` // skip (default), update, create
	Key         string            `json:"key"`          // id, email, phone, inn, sku ("": the entity's natural one)
	Mapping     map[string]string `json:"mapping"`      // header → field, over the automatic match
	Sheet       string            `json:"sheet"`
	// ExternalSystem names the system of the «Внешний код» column (the
	// external_ids key; default onec, the 1C Ид).
	ExternalSystem string `json:"external_system"`
	// CreateAccounts makes a contacts import create the account its
	// «Организация» column names when no account has that name (or ИНН);
	// without it such a row fails.
	CreateAccounts bool `json:"create_accounts"`
}

// Import is an import job and its progress.
type Import struct {
	ID        string            `json:"id"`
	Status    string            `json:"status"` // queued, running, done, failed
	Options   ImportOptions     `json:"options"`
	FileName  string            `json:"file_name"`
	Header    []string          `json:"header"`
	Mapping   map[string]string `json:"mapping"` // header → field
	Unmapped  []string          `json:"unmapped"`
	RowsTotal int64             `json:"rows_total"`
	RowsDone  int64             `json:"rows_done"`
	Created   int64             `json:"created"`
	Updated   int64             `json:"updated"`
	Skipped   int64             `json:"skipped"`
	Failed    int64             `json:"failed"`
	// AccountsLinked counts the contacts linked to an account by their
	// «Организация», AccountsCreated the accounts created for them (in a
	// dry run: that would be).
	AccountsLinked  int64      `json:"accounts_linked"`
	AccountsCreated int64      `json:"accounts_created"`
	Error           string     `json:"error"`
	RowsPerSec      float64    `json:"rows_per_second"`
	ETASeconds      *float64   `json:"eta_seconds"`
	OwnerID         string     `json:"owner_id"`
	StartedAt       *time.Time `json:"started_at"`
	FinishedAt      *time.Time `json:"finished_at"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`

	// RowLimit is the most data rows a job may have (the hub's
	// imports.max_rows): a larger sheet is refused before anything is
	// written. The store leaves it 0; the API states it.
	RowLimit int64 `json:"row_limit"`
}

// ImportRow is a data row to apply: its sheet row number, its original
// cells (for the error workbook), the patch made of it, the value of the
// duplicate key and the problems found while reading it.
type ImportRow struct {
	Number int
	Cells  []string
	Patch  Patch
	Key    string
	Errors []FieldError
	// Links are the records a contact row names rather than gives by id;
	// the store finds them (a batch at a time) and sets the ids.
	Links ImportLinks
}

// ImportLinks are the records a contact row refers to by name: its account
// by «Организация» (or «ИНН»; «КПП» completes an account created for it)
// and the contact it reports to by «Руководитель» («Фамилия Имя
// [Отчество]», in any order).
type ImportLinks struct {
	AccountName string
	AccountINN  string
	AccountKPP  string
	ReportsTo   string
}

// IsZero reports whether the row names no record.
func (l ImportLinks) IsZero() bool { return l == ImportLinks{} }

// ImportFailure is a row that failed, as the error workbook shows it.
type ImportFailure struct {
	Row    int
	Cells  []string
	Reason string
}

// ImportService keeps import jobs and applies their rows.
type ImportService interface {
	// CreateImport stores a queued job with its file. The jobs of one user
	// (or of one API key without a user) run one after another, in the
	// order they were created; those of others run alongside.
	CreateImport(ctx context.Context, o ImportOptions, fileName string, file []byte) (*Import, error)
	// GetImport returns a job. Errors: ENOTFOUND.
	GetImport(ctx context.Context, id string) (*Import, error)
	// ClaimImport leases a queued (or abandoned running) job to the
	// caller, with its file: the one named by id, else the oldest whose
	// user or key has no job running nor an older one queued; nil when
	// there is none.
	ClaimImport(ctx context.Context, id string, lease time.Duration) (*Import, []byte, error)
	// StartImport records what the runner found: the header, the mapping
	// and the row count.
	StartImport(ctx context.Context, id string, header []string, mapping map[string]string, unmapped []string, total int64) error
	// ApplyImportRows applies a batch of rows (each alone: a bad row does
	// not spoil the others; a dry run writes nothing to the CRM) and
	// advances the job's counts and rows_done in the same transaction;
	// lease extends the job's lease.
	ApplyImportRows(ctx context.Context, id string, rows []ImportRow, lease time.Duration) error
	// FinishImport ends a job (errMsg "" for done).
	FinishImport(ctx context.Context, id, errMsg string) error
	// ImportFailures returns the failed rows, in sheet order.
	ImportFailures(ctx context.Context, id string) ([]ImportFailure, error)
}
