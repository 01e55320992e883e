package core

import "time"

// EntityUser names users (record owners) in events and errors.
const EntityUser = "user"

// User is a CRM user: the owner of records. Users are managed fully by the
// CRM core; the platform creates the first administrator on first start.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}
