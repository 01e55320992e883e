package webforms

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
)

// Bitrix24Hook is an inbound webhook of Bitrix24's REST API that the hub
// answers in the portal's place: a site whose integration calls
// https://portal.bitrix24.ru/rest/{user}/{token}/crm.lead.add.json is
// pointed at crmhub by changing the host of that URL, nothing else.
type Bitrix24Hook struct {
	// User is the URL's first segment, the id of the webhook's owner in
	// Bitrix24 (e.g. "1").
	User string
	// Token is the webhook's secret code, the URL's second segment.
	Token string
	// Form is the slug of the form (format bitrix24, target lead) whose
	// settings capture the leads: owner, duplicates policy, defaults, the
	// mapping of custom UF_* fields.
	Form string
}

var (
	hookUser  = regexp.MustCompile(`^[0-9]{1,10}$`)
	hookToken = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)
)

// validate checks a hook as an operator wrote it; its message names the
// key it is about.
func (k Bitrix24Hook) validate() error {
	switch {
	case !hookUser.MatchString(k.User):
		return errors.New("user: must be the webhook's user id, 1 to 10 digits")
	case !hookToken.MatchString(k.Token):
		return errors.New("token: must be 16 to 128 letters, digits, - or _ (Bitrix24's webhook codes are 16)")
	case k.Form == "":
		return errors.New("form: is required: the slug of the bitrix24 form that captures the leads")
	}
	return nil
}

// validateHooks checks the hooks and that no two share a URL.
func validateHooks(hooks []Bitrix24Hook) error {
	seen := map[string]bool{}
	for i, k := range hooks {
		if err := k.validate(); err != nil {
			return fmt.Errorf("bitrix24_rest[%d].%w", i, err)
		}
		if seen[k.User+"/"+k.Token] {
			return fmt.Errorf("bitrix24_rest[%d]: another hook has this user and token", i)
		}
		seen[k.User+"/"+k.Token] = true
	}
	return nil
}

// checkHookForms refuses a hook whose form is in the config and cannot
// take crm.lead.add; a form of the admin API is checked when called.
func (h *Handler) checkHookForms() error {
	for i, k := range h.cfg.Bitrix24REST {
		if f, ok := h.forms[k.Form]; ok && hookFormError(f) != "" {
			return fmt.Errorf("webforms.bitrix24_rest[%d].form: %s %s", i, k.Form, hookFormError(f))
		}
	}
	return nil
}

// hookFormError says why f cannot capture crm.lead.add ("" when it can):
// the lead is read as Bitrix24 sends it, now and when the inbox captures
// it later, so the form reads Bitrix24's fields.
func hookFormError(f *core.WebForm) string {
	switch {
	case f.Format != core.FormatBitrix24:
		return "is not of format bitrix24"
	case f.Target != core.FormTargetLead:
		return "does not make leads"
	}
	return ""
}

// Bitrix24REST returns the endpoint of Bitrix24's REST shape, for the API
// to serve at /rest/{user}/{token}/{method}; nil when no hook is
// configured.
func (h *Handler) Bitrix24REST() core.Webhook {
	if len(h.cfg.Bitrix24REST) == 0 {
		return nil
	}
	return restEndpoint{h}
}

type restEndpoint struct{ h *Handler }

// Path implements core.Webhook.
func (restEndpoint) Path() string { return "rest" }

// Handle implements core.Webhook: crm.lead.add, answered as Bitrix24 does.
func (e restEndpoint) Handle(ctx context.Context, r core.WebhookRequest) core.WebhookResponse {
	h, start := e.h, e.h.cfg.Now()
	parts := strings.Split(r.SubPath, "/")
	if len(parts) != 3 {
		return restError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
	}
	hook := h.hook(parts[0], parts[1])
	if hook == nil {
		h.cfg.Logger.Info("webform_bitrix24_rest_refused", "user", parts[0], "ip", r.RemoteIP)
		return restError(401, "INVALID_CREDENTIALS", "Invalid request credentials")
	}
	if method := strings.ToLower(parts[2]); method != "crm.lead.add" && method != "crm.lead.add.json" {
		return restError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
	}
	if r.Method != "GET" && r.Method != "POST" {
		return restError(405, "ERROR_METHOD_NOT_ALLOWED", "call the method with GET or POST")
	}
	def, err := h.lookup(ctx, hook.Form)
	switch {
	case err == nil && !def.Disabled && hookFormError(def) == "":
	case err == nil || core.ErrorCode(err) == core.ENOTFOUND:
		h.cfg.Logger.Error("webform_bitrix24_rest_form", "form", hook.Form, "error", "the hook's form is missing, disabled, "+
			"not of format bitrix24 or makes no leads")
		return restError(500, "INTERNAL_SERVER_ERROR", "Internal server error")
	default:
		h.cfg.Logger.Error("webform_lookup", "form", hook.Form, "error", err)
		return restReply(outcome{status: 503, msg: "the form is unavailable; try again", retry: 5 * time.Second}, start, h.cfg.Now())
	}
	f, body, err := restParams(r, h.cfg.Limits, hook.Token)
	if err != nil {
		h.count(def.Slug, "invalid")
		return restReply(h.bodyError(err), start, h.cfg.Now())
	}
	r.Body, r.Header = body, r.Header.Clone()
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return restReply(h.take(ctx, def, f, r), start, h.cfg.Now())
}

// hook finds the hook of a URL's user and token, comparing every hook's in
// constant time: how long the search takes tells nothing of a token.
func (h *Handler) hook(user, token string) *Bitrix24Hook {
	var found *Bitrix24Hook
	for i := range h.cfg.Bitrix24REST {
		k := &h.cfg.Bitrix24REST[i]
		same := subtle.ConstantTimeCompare([]byte(user), []byte(k.User)) & subtle.ConstantTimeCompare([]byte(token), []byte(k.Token))
		if same == 1 && found == nil {
			found = k
		}
	}
	return found
}

// restParams reads a call's parameters as Bitrix24 takes them: from the
// body (urlencoded, or JSON such as {"fields": {"NAME": …}} read as
// fields[NAME]), else from the query (GET). What authenticates never
// goes further: an application's auth or access_token, and any input
// holding the hook's token. body is the parameters left, urlencoded: what
// the submission's key hashes and the inbox keeps. Files are not taken
// (Bitrix24 sends them inside fields, base64).
func restParams(r core.WebhookRequest, lim Limits, token string) (f *form, body []byte, err error) {
	ct, raw := r.Header.Get("Content-Type"), r.Body
	if len(bytes.TrimSpace(raw)) == 0 {
		ct, raw = "application/x-www-form-urlencoded", []byte(r.RawQuery)
	} else if mt, _, _ := mime.ParseMediaType(ct); mt == "application/json" || strings.HasSuffix(mt, "+json") {
		if raw, err = flattenJSON(raw); err != nil {
			return nil, nil, err
		}
		ct = "application/x-www-form-urlencoded"
	}
	parsed, err := parseBody(ct, raw, lim)
	if err != nil {
		return nil, nil, err
	}
	f = parsed.without(func(in input) bool {
		name := strings.ToLower(in.name)
		return name == "auth" || name == "access_token" || strings.HasPrefix(name, "auth[") || strings.Contains(in.name, token) ||
			strings.Contains(strings.Join(in.values, "\x00"), token)
	})
	f.files = nil // Bitrix24 sends a lead's files inside its fields, base64: none are taken
	return f, f.urlencoded(), nil
}

// restReply is Bitrix24's answer: {"result": the lead's id, "time": …}
// (true while the lead waits in the inbox), or the error and its
// description. crmhub's ids are UUIDs, not Bitrix24's integers: clients
// pass the result on as they got it.
func restReply(o outcome, start, end time.Time) core.WebhookResponse {
	v := bitrixReply(o)
	if o.status < 300 {
		v["time"] = map[string]any{"start": unixSeconds(start), "finish": unixSeconds(end),
			"duration": end.Sub(start).Seconds(), "processing": end.Sub(start).Seconds(),
			"date_start": start.Format(time.RFC3339), "date_finish": end.Format(time.RFC3339)}
	}
	resp := core.WebhookResponse{Status: o.status, ContentType: "application/json", Header: http.Header{}, Body: replyJSON(v)}
	if o.retry > 0 {
		resp.Header.Set("Retry-After", strconv.Itoa(retrySeconds(o.retry)))
	}
	return resp
}

func restError(status int, code, description string) core.WebhookResponse {
	return core.WebhookResponse{Status: status, ContentType: "application/json",
		Body: replyJSON(map[string]string{"error": code, "error_description": description})}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

// maxJSONDepth bounds how deep a JSON call's parameters nest (a lead's
// are three levels: fields, PHONE, its items).
const maxJSONDepth = 8

// flattenJSON turns a JSON object into the names PHP gives form inputs,
// the shape Bitrix24 reads both in: {"fields": {"PHONE": [{"VALUE": "…"}]}}
// is fields[PHONE][0][VALUE]=…, in the object's order, urlencoded.
func flattenJSON(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, badBody("the body must be a JSON object")
	}
	var out form
	if err := flattenMembers(dec, '{', "", 1, &out); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badBody("data after the JSON object")
	}
	return out.urlencoded(), nil
}

// flattenMembers reads the members of an object or array whose opening
// delimiter was read, and its closing one, adding each value to out under
// its name below prefix.
func flattenMembers(dec *json.Decoder, open json.Delim, prefix string, depth int, out *form) error {
	if depth > maxJSONDepth {
		return badBody("the JSON body nests deeper than %d levels", maxJSONDepth)
	}
	for i := 0; dec.More(); i++ {
		key := strconv.Itoa(i)
		if open == '{' {
			tok, err := dec.Token()
			if err != nil {
				return badBody("the body is not valid JSON: %v", err)
			}
			key, _ = tok.(string)
		}
		name := key
		if prefix != "" {
			name = prefix + "[" + key + "]"
		}
		tok, err := dec.Token()
		if err != nil {
			return badBody("the body is not valid JSON: %v", err)
		}
		switch v := tok.(type) {
		case json.Delim:
			err = flattenMembers(dec, v, name, depth+1, out)
		case string:
			out.add(name, v)
		case json.Number:
			out.add(name, v.String())
		case bool: // Bitrix24's flags are Y and N
			out.add(name, map[bool]string{true: "Y", false: "N"}[v])
		}
		if err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return badBody("the body is not valid JSON: %v", err)
	}
	return nil
}
