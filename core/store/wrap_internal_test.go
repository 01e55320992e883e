package store

import (
	"errors"
	"testing"

	"github.com/crmhub/crmhub/core"
)

// TestWrap: an error leaving the store names its operation, and a core
// error keeps its code, message and text (the API maps them by errors.As).
func TestWrap(t *testing.T) {
	if wrap("op", nil) != nil {
		t.Fatal("wrap(nil) is not nil")
	}
	base := errors.New("connection reset")
	err := wrap("report call batch", base)
	if err.Error() != "report call batch: connection reset" || !errors.Is(err, base) {
		t.Fatalf("wrap = %q", err)
	}
	if core.ErrorCode(err) != core.EINTERNAL {
		t.Fatalf("code = %q", core.ErrorCode(err))
	}
	nf := core.Errorf(core.ENOTFOUND, "lead not found")
	if got := wrap("get lead", nf); got != nf {
		t.Fatalf("a core error is wrapped: %q", got)
	}
	// Wrapped further up (the table's own "update lead …: "), the code
	// and the client's message still come through.
	up := wrap("op", errors.Join(errors.New("context"), nf))
	if core.ErrorCode(up) != core.ENOTFOUND || core.ErrorMessage(up) != "lead not found" {
		t.Fatalf("code %q message %q", core.ErrorCode(up), core.ErrorMessage(up))
	}
}
