package core

import "context"

// SearchHit is one record found by a search.
type SearchHit struct {
	Entity  string  `json:"entity"` // lead, contact, account, deal
	ID      string  `json:"id"`
	Title   string  `json:"title"`   // the record's name
	Details string  `json:"details"` // company, phone or e-mail, to tell hits apart
	Rank    float64 `json:"rank"`
}

// SearchService finds records by what people type.
type SearchService interface {
	// Search finds leads, contacts, accounts and deals by name (with
	// Russian morphology and partial words), phone (any format, or a
	// fragment of 4+ digits), e-mail or ИНН, best first. Errors: EINVALID
	// (a query of fewer than 2 characters).
	Search(ctx context.Context, q string, limit int) ([]SearchHit, error)
}
