package telephony

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/crmhub/crmhub/core"
)

// consistent accepts a signed notification only when what the signature
// leaves out (pbx_call_id, duration, disposition…) agrees with what it
// covers and with what the hub already knows:
//   - call_start is at most MaxAge old and not ahead of the clock by more
//     than MaxSkew (a captured notification is good for a day, not for
//     ever);
//   - the duration fits between call_start and now;
//   - the signed fields belong to one call: the first notification to
//     present them claims them for its pbx_call_id, and the same fields
//     under another call id are a replay;
//   - a call ends once: another closing notification of it with other
//     figures is refused.
//
// NOTIFY_RECORD signs its call id and passes.
func (z *Zadarma) consistent(ctx context.Context, r core.WebhookRequest, form url.Values, rep *core.CallReport) (core.WebhookResponse, bool) {
	kind, signed, _ := zadarmaSigned(form)
	if kind == "record" {
		return core.WebhookResponse{}, true
	}
	if rep.StartedAt == nil {
		return z.refused(r, form, 400, "malformed", "call_start is required"), false
	}
	now := z.cfg.Now()
	age := now.Sub(*rep.StartedAt)
	switch {
	case age > z.cfg.MaxAge:
		return z.refused(r, form, 403, "stale", fmt.Sprintf("call_start is %s old: notifications are accepted for %s",
			age.Round(time.Second), z.cfg.MaxAge)), false
	case age < -z.cfg.MaxSkew:
		return z.refused(r, form, 403, "future", fmt.Sprintf("call_start is %s ahead of the hub's clock: "+
			"is telephony.zadarma.timezone the account's time zone?", (-age).Round(time.Second))), false
	case rep.Duration != nil && time.Duration(*rep.Duration)*time.Second > age+z.cfg.MaxSkew:
		return z.refused(r, form, 422, "duration", fmt.Sprintf("duration %d s is longer than the %d s since call_start",
			*rep.Duration, int(age.Seconds()))), false
	}
	expires := rep.StartedAt.Add(z.cfg.MaxAge + z.cfg.MaxSkew) // older notifications are refused above
	sum := sha256.Sum256([]byte(signed))
	if resp, ok := z.claim(ctx, r, form, kind+":"+hex.EncodeToString(sum[:]), rep.CallID, now, expires,
		"replayed", "call_start and the numbers it signs belong to another call"); !ok {
		return resp, false
	}
	if rep.Final {
		sum := sha256.Sum256([]byte(form.Encode())) // every field, in key order
		return z.claim(ctx, r, form, "end:"+form.Get("event")+":"+rep.CallID, hex.EncodeToString(sum[:]), now, expires,
			"ended", "the call already ended with other figures")
	}
	return core.WebhookResponse{}, true
}

// claim binds claim to value, refusing the notification (409) when it is
// bound to another value.
func (z *Zadarma) claim(ctx context.Context, r core.WebhookRequest, form url.Values, claim, value string, now, expires time.Time,
	reason, msg string) (core.WebhookResponse, bool) {
	bound, err := z.claims.ClaimCall(ctx, "zadarma", claim, value, now, expires)
	if err != nil {
		z.cfg.Logger.Error("telephony_claim", "provider", "zadarma", "error", err)
		return refuse(503, "could not check the notification; retry"), false
	}
	if bound != value {
		return z.refused(r, form, 409, reason, msg), false
	}
	return core.WebhookResponse{}, true
}

// refused answers a notification that is not accepted, logs it (what it
// names, never the signature) and counts it.
func (z *Zadarma) refused(r core.WebhookRequest, form url.Values, status int, reason, msg string) core.WebhookResponse {
	z.cfg.Logger.Warn("telephony_refused", "provider", "zadarma", "event", clipText(form.Get("event"), 40),
		"pbx_call_id", clipText(form.Get("pbx_call_id"), 200), "status", status, "reason", reason, "detail", msg, "ip", r.RemoteIP)
	if z.cfg.OnRefused != nil {
		z.cfg.OnRefused(reason)
	}
	return refuse(status, msg)
}
