package telephony

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
)

// VATSDialer is the CRM → PBX side of the universal VATS protocol:
// makeCall, which rings the employee (by PBX login) and then the client.
// APIURL is either the legacy command URL (https://<domain>/sys/crm_api.wcgp:
// urlencoded, the key in the token field) or a REST v1 base
// (https://<name>.megapbx.ru/crmapi/v1: JSON to /makecall, the key in
// X-API-KEY).
type VATSDialer struct {
	APIURL string
	APIKey string // the PBX key (not the crm_token)
	// Logins finds the employee's PBX login (learned from their calls).
	Logins interface {
		PBXLogin(ctx context.Context, userID string) (string, error)
	}
	Client *http.Client // default: 10 s timeout
}

// Validate checks the dialer's settings as an operator gave them: the
// PBX's http(s) API address and its key. Its message quotes APIURL: a
// caller that must not print credentials validates a redacted copy.
func (d *VATSDialer) Validate() error {
	if u, err := url.Parse(d.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("api_url: must be the PBX's https:// API address, got %q", d.APIURL)
	}
	if d.APIKey == "" {
		return errors.New("api_key: is required with api_url")
	}
	return nil
}

// Provider implements core.Dialer.
func (d *VATSDialer) Provider() string { return "vats" }

// Dial implements core.Dialer.
func (d *VATSDialer) Dial(ctx context.Context, u *core.User, number string) error {
	login, err := d.Logins.PBXLogin(ctx, u.ID)
	if err != nil {
		return err
	}
	if login == "" {
		return core.Invalid([]core.FieldError{{Field: "user_id", Code: "no_pbx_login",
			Message: "the PBX login of this user is not known yet (it is learned from their calls)"}})
	}
	phone := strings.TrimPrefix(number, "+") // makeCall takes digits only
	var req *http.Request
	if strings.HasSuffix(strings.TrimRight(d.APIURL, "/"), ".wcgp") {
		form := url.Values{"cmd": {"makeCall"}, "user": {login}, "phone": {phone}, "token": {d.APIKey}}
		req, err = http.NewRequestWithContext(ctx, "POST", d.APIURL, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		body, _ := json.Marshal(map[string]string{"user": login, "phone": phone})
		req, err = http.NewRequestWithContext(ctx, "POST", strings.TrimRight(d.APIURL, "/")+"/makecall", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-API-KEY", d.APIKey)
		}
	}
	if err != nil {
		return err
	}
	client := d.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("vats makeCall: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	switch {
	case resp.StatusCode == 200:
		return nil // the body (an id, {"uuid"}, {"callid"} or OK) varies by operator
	case resp.StatusCode == 400 || resp.StatusCode == 404:
		return core.Errorf(core.EINVALID, "the PBX refused the call: %s", clipText(strings.TrimSpace(string(msg)), 200))
	}
	return fmt.Errorf("vats makeCall: status %d: %s", resp.StatusCode, clipText(strings.TrimSpace(string(msg)), 200))
}
