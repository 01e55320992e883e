package webforms

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
)

// replyJSON encodes a JSON reply body. The replies are maps of strings,
// numbers and field errors, which always encode, so an error is a
// programmer error.
func replyJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("webforms: reply: " + err.Error())
	}
	return b
}

var jsonpName = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$`)

// reply answers in the shape the poster expects: a redirect for a classic
// form with a return URL, the site builder's own format, an HTML page for a
// browser, else JSON (RFC 9457 problems for errors). requestID is the
// request's id (X-Request-Id, the logs'), which a visitor or a developer
// quotes when they ask why a post was refused.
func (h *Handler) reply(def *core.WebForm, r core.WebhookRequest, o outcome, requestID string) core.WebhookResponse {
	resp := core.WebhookResponse{Status: o.status, Header: framing(def)}
	if origin := r.Header.Get("Origin"); origin != "" && originAllowed(def, origin) {
		resp.Header.Set("Access-Control-Allow-Origin", origin)
		resp.Header.Set("Vary", "Origin")
	}
	if o.retry > 0 {
		resp.Header.Set("Retry-After", strconv.Itoa(retrySeconds(o.retry)))
	}
	ok := o.status < 300
	accept := r.Header.Get("Accept")
	browser := strings.Contains(accept, "text/html") && r.Header.Get("X-Requested-With") == "" &&
		!strings.Contains(r.Header.Get("Content-Type"), "json")
	switch {
	case def.RedirectURL != "" && browser && o.status != 405:
		resp.Status = http.StatusSeeOther
		resp.Header.Set("Location", redirectTo(def.RedirectURL, o))
	case o.test || def.Format == core.FormatTilda:
		resp.ContentType = "text/plain; charset=utf-8"
		resp.Body = []byte("ok")
		if !ok {
			resp.Body = []byte(o.text())
		}
	case def.Format == core.FormatVtiger:
		resp.ContentType, resp.Body = vtigerReply(o, r.Query.Get("callback"))
	case def.Format == core.FormatBitrix24:
		resp.ContentType, resp.Body = "application/json", replyJSON(bitrixReply(o))
	case browser:
		resp.ContentType = "text/html; charset=utf-8"
		resp.Body = []byte(page(def, o, requestID))
	case ok:
		resp.ContentType = "application/json"
		resp.Body = replyJSON(map[string]string{"status": "ok"})
	default:
		// The API's problems carry the request id too.
		p := map[string]any{"type": "about:blank", "title": http.StatusText(o.status), "status": o.status, "detail": o.msg}
		if requestID != "" {
			p["request_id"] = requestID
		}
		if len(o.fields) > 0 {
			p["errors"] = o.fields
		}
		resp.ContentType = "application/problem+json"
		resp.Body = replyJSON(p)
	}
	return resp
}

// retrySeconds is a Retry-After value: whole seconds, one more than the
// wait rounded, so that a client that waits that long finds a token.
func retrySeconds(d time.Duration) int { return int(d.Round(time.Second)/time.Second) + 1 }

// redirectTo is the form's return URL with the outcome: ?success=ok, or
// ?error=<reason> for the site's page to show.
func redirectTo(returnURL string, o outcome) string {
	u, _ := url.Parse(returnURL)
	q := u.Query()
	if o.status < 300 {
		q.Set("success", "ok")
	} else {
		q.Set("error", o.text())
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// vtigerReply is vtiger's capture answer, as JSONP when the page asks
// for it with ?callback=.
func vtigerReply(o outcome, callback string) (contentType string, body []byte) {
	v := map[string]any{"success": true, "result": "ok"}
	if o.status >= 300 {
		v = map[string]any{"success": false, "error": map[string]string{"message": o.text()}}
	}
	body = replyJSON(v)
	if callback != "" && jsonpName.MatchString(callback) {
		return "application/javascript", []byte(callback + "(" + string(body) + ");")
	}
	return "application/json", body
}

// bitrixReply is Bitrix24's answer: the record's id as its result, or an
// error code and its description.
func bitrixReply(o outcome) map[string]any {
	if o.status >= 300 {
		return map[string]any{"error": strings.ToUpper(strings.ReplaceAll(http.StatusText(o.status), " ", "_")),
			"error_description": o.text()}
	}
	if o.result != nil {
		return map[string]any{"result": o.result.ID}
	}
	return map[string]any{"result": true}
}

// pageCSP is the Content-Security-Policy of the form's replies: the page
// loads nothing (no script, style or image), posts nowhere, and is
// framed only by the sites the form names.
const pageCSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors "

// framing are the headers that say who may frame a form's replies: the
// form's frame_ancestors, else nobody (X-Frame-Options DENY too, for
// browsers without CSP).
func framing(def *core.WebForm) http.Header {
	h := http.Header{}
	if len(def.FrameAncestors) == 0 {
		h.Set("Content-Security-Policy", pageCSP+"'none'")
		h.Set("X-Frame-Options", "DENY")
		return h
	}
	h.Set("Content-Security-Policy", pageCSP+strings.Join(def.FrameAncestors, " "))
	return h
}

// text is an error in English for the poster's software (a redirect's
// ?error=, a site builder's reply): the message and the fields to correct.
func (o outcome) text() string {
	if len(o.fields) == 0 {
		return o.msg
	}
	parts := make([]string, len(o.fields))
	for i, f := range o.fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return o.msg + " (" + strings.Join(parts, "; ") + ")"
}
