package api

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// AuthConfig configures sign-in.
type AuthConfig struct {
	// SessionTTL is how long a session token lasts. Default 12 h.
	SessionTTL time.Duration
	// PasswordMinLength is the fewest characters a password has.
	// Default 10.
	PasswordMinLength int
	// OIDCClaim names the claim an OIDC token's user is found by: "email"
	// (default) or another, matched against the users' oidc_subject.
	OIDCClaim string
}

func (c *AuthConfig) setDefaults() {
	if c.SessionTTL <= 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.PasswordMinLength <= 0 {
		c.PasswordMinLength = 10
	}
	if c.OIDCClaim == "" {
		c.OIDCClaim = "email"
	}
}

// localSession is where authenticate leaves a session token for logout.
const localSession = "crmhub.session"

// mountAuth registers the routes of a signed-in user (POST /auth/login
// comes before the group's authentication).
func (s *Server) mountAuth(v1 fiber.Router) {
	v1.Post("/auth/logout", s.logout)
	v1.Get("/auth/me", s.me)
	v1.Post("/users/:id/password", jsonBody, s.setPassword)
	if s.deps.Audit != nil {
		v1.Get("/audit", area(core.AreaAudit), s.auditEntries)
	}
}

// bearer reads the request's secret: Authorization: Bearer, or X-API-Key;
// on the lookups of /suggestions also Authorization: Token, as DaData's
// clients send their key.
func bearer(c *fiber.Ctx) (string, error) {
	secret := c.Get("X-API-Key")
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		tokenScheme, _ := c.Locals(localTokenScheme).(bool)
		switch {
		case ok && strings.EqualFold(scheme, "Bearer"):
		case ok && tokenScheme && strings.EqualFold(scheme, "Token"):
		case tokenScheme:
			return "", core.Errorf(core.EUNAUTHORIZED, "use Authorization: Token <key> (or Bearer <key>)")
		default:
			return "", core.Errorf(core.EUNAUTHORIZED, "use Authorization: Bearer <key or token>")
		}
		secret = strings.TrimSpace(token)
	}
	if secret == "" {
		return "", core.Errorf(core.EUNAUTHORIZED, "an API key or a session token is required: Authorization: Bearer <key>")
	}
	if !validToken(secret, maxBearerBytes) {
		return "", core.Errorf(core.EUNAUTHORIZED, "the API key is not valid")
	}
	return secret, nil
}

// maxBearerBytes bounds a bearer secret: an OIDC token with its claims.
const maxBearerBytes = 16 << 10

// looksLikeJWT tells a JWT (three base64url parts) from the hub's own
// secrets.
func looksLikeJWT(s string) bool {
	return strings.Count(s, ".") == 2 && !strings.HasPrefix(s, "crm_") && !core.IsSessionToken(s)
}

// authenticate resolves the request's credentials — an API key, a session
// token or, with OIDC configured, an identity provider's token — into its
// actor and the user's access, which every store call then applies.
func (s *Server) authenticate(c *fiber.Ctx) error {
	secret, err := bearer(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var actor core.Actor
	switch {
	case core.IsSessionToken(secret):
		sess, err := s.deps.Auth.Session(ctx, secret)
		if err != nil {
			return err
		}
		c.Locals(localSession, secret)
		actor = core.Actor{ID: "session:" + sess.ID, Source: "api", UserID: sess.UserID, Scopes: []core.Scope{core.ScopeAdmin}}
	case looksLikeJWT(secret):
		if s.deps.OIDC == nil {
			return core.Errorf(core.EUNAUTHORIZED, "this hub accepts no identity provider's tokens (auth.oidc is not set)")
		}
		value, err := s.deps.OIDC(ctx, secret)
		if core.ErrorCode(err) == core.EUNAVAILABLE {
			return err
		}
		if err != nil {
			return core.Errorf(core.EUNAUTHORIZED, "the identity token is refused: %s", err.Error())
		}
		u, err := s.deps.Auth.UserByClaim(ctx, s.cfg.Auth.OIDCClaim, value)
		if err != nil {
			return core.Errorf(core.EUNAUTHORIZED, "no active user matches the identity token's %s", s.cfg.Auth.OIDCClaim)
		}
		actor = core.Actor{ID: "oidc:" + u.ID, Source: "api", UserID: u.ID, Scopes: []core.Scope{core.ScopeAdmin}}
	default:
		if len(secret) > 200 {
			return core.Errorf(core.EUNAUTHORIZED, "the API key is not valid")
		}
		key, err := s.deps.APIKeys.Authenticate(ctx, secret)
		if err != nil {
			return err
		}
		actor = core.Actor{ID: key.ID, Source: "api", UserID: key.UserID, Scopes: key.Scopes}
	}
	acc, err := s.deps.Auth.Access(ctx, actor.UserID, widest(actor.Scopes))
	if err != nil {
		return err
	}
	c.SetUserContext(core.NewContextWithAccess(core.NewContextWithActor(ctx, actor), acc))
	return c.Next()
}

// widest is the widest of a key's scopes.
func widest(scopes []core.Scope) core.Scope {
	out := core.Scope("")
	for _, sc := range []core.Scope{core.ScopeSuggest, core.ScopeRead, core.ScopeWrite, core.ScopeAdmin} {
		for _, have := range scopes {
			if have.Implies(sc) {
				out = sc
			}
		}
	}
	return out
}

// area requires an admin area: an admin-scoped key (or a session) of a
// user whose role grants it.
func area(name string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		if !core.ActorFromContext(ctx).Has(core.ScopeAdmin) {
			return core.Errorf(core.EFORBIDDEN, "this API key lacks the %q scope", core.ScopeAdmin)
		}
		if acc := core.AccessFromContext(ctx); acc == nil || !acc.HasArea(name) {
			return core.Errorf(core.EFORBIDDEN, "your role does not manage %s (admin area %q)", name, name)
		}
		return c.Next()
	}
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// login signs a user in with their e-mail and password. A wrong e-mail, a
// wrong password, a user without a password and a deactivated one are
// one 401, alike in time; failures in a row make the next attempts wait
// (429 with Retry-After), per user and per address.
func (s *Server) login(c *fiber.Ctx) error {
	var in loginRequest
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return &core.Error{Code: core.EINVALID, Message: "the body is not a login request: {\"email\": …, \"password\": …}",
			Fields: []core.FieldError{{Field: "", Code: "invalid", Message: "must be an object with email and password"}}}
	}
	var errs []core.FieldError
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if email == "" || len(email) > 254 {
		errs = append(errs, core.FieldError{Field: "email", Code: "required", Message: "the e-mail you sign in with"})
	}
	if in.Password == "" || len(in.Password) > core.MaxPasswordBytes {
		errs = append(errs, core.FieldError{Field: "password", Code: "required", Message: "the password, at most 256 bytes"})
	}
	if err := core.Invalid(errs); err != nil {
		return err
	}
	ctx := c.UserContext()
	attempt, err := s.deps.LoginThrottle.Begin(ctx, email, c.IP())
	if err != nil {
		return err
	}
	if attempt.Wait > 0 {
		secs := int(math.Ceil(attempt.Wait.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return fiber.NewError(fiber.StatusTooManyRequests, "too many failed sign-ins: retry in "+strconv.Itoa(secs)+" s")
	}
	cred, err := s.deps.Auth.Credentials(ctx, email)
	if err != nil && core.ErrorCode(err) != core.ENOTFOUND {
		return err
	}
	ok := false
	if err == nil && cred.Active && cred.PasswordHash != "" {
		ok = core.PasswordMatches(cred.PasswordHash, in.Password)
	} else {
		core.DummyPasswordCheck(in.Password)
	}
	if !ok {
		detail, _ := json.Marshal(map[string]any{"email": email, "failures": attempt.Failures})
		_ = s.deps.Audit.Audit(ctx, core.AuditEntry{Action: core.AuditLoginFailed, UserID: cred.UserID, IP: c.IP(), Detail: detail})
		return core.Errorf(core.EUNAUTHORIZED, "the e-mail or the password is wrong")
	}
	if err := attempt.Succeeded(ctx); err != nil {
		return err
	}
	token, sess, err := s.deps.Auth.StartSession(ctx, cred.UserID, s.cfg.Auth.SessionTTL, c.IP())
	if err != nil {
		return err
	}
	_ = s.deps.Audit.Audit(ctx, core.AuditEntry{Action: core.AuditLogin, UserID: cred.UserID, ActorID: "session:" + sess.ID, IP: c.IP()})
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"token": token, "expires_at": sess.ExpiresAt, "user_id": sess.UserID})
}

// logout ends the request's session.
func (s *Server) logout(c *fiber.Ctx) error {
	token, _ := c.Locals(localSession).(string)
	if token == "" {
		return core.Errorf(core.EINVALID, "only a session signs out: an API key is revoked with DELETE /api/v1/apikeys/{id}")
	}
	if err := s.deps.Auth.EndSession(c.UserContext(), token); err != nil {
		return err
	}
	_ = s.deps.Audit.Audit(c.UserContext(), core.AuditEntry{Action: core.AuditLogout, IP: c.IP()})
	return c.SendStatus(fiber.StatusNoContent)
}

// meResponse is who the caller is and what they may do: a front end
// builds its menus from it.
type meResponse struct {
	User   *core.User `json:"user"`
	Role   roleRef    `json:"role"`
	Access meAccess   `json:"access"`
}

type roleRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type meAccess struct {
	IsAdmin bool                                  `json:"is_admin"`
	Scope   core.Scope                            `json:"scope"`
	Rights  map[string]map[core.Action]core.Level `json:"rights"`
	Fields  core.FieldRules                       `json:"fields"`
	Areas   []string                              `json:"areas"`
	Teams   []string                              `json:"teams"`
}

func (s *Server) me(c *fiber.Ctx) error {
	ctx := c.UserContext()
	acc := core.AccessFromContext(ctx)
	if acc == nil {
		return core.Errorf(core.EUNAUTHORIZED, "no user is signed in")
	}
	u, err := s.deps.Users.Get(core.WithoutAccess(ctx), acc.UserID)
	if err != nil {
		return err
	}
	out := meResponse{User: u, Role: roleRef{ID: acc.RoleID, Name: acc.RoleName},
		Access: meAccess{IsAdmin: acc.Admin, Scope: acc.MaxScope, Rights: map[string]map[core.Action]core.Level{},
			Fields: core.FieldRules{}, Areas: []string{}, Teams: nonNilStrings(acc.Teams)}}
	for _, e := range core.RightsEntities() {
		out.Access.Rights[e] = map[core.Action]core.Level{}
		for _, a := range core.Actions() {
			out.Access.Rights[e][a] = acc.Level(e, a)
		}
		if !acc.Admin && len(acc.Fields[e]) > 0 {
			out.Access.Fields[e] = acc.Fields[e]
		}
	}
	for _, a := range core.AdminAreas() {
		if acc.HasArea(a) {
			out.Access.Areas = append(out.Access.Areas, a)
		}
	}
	return c.JSON(out)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type passwordRequest struct {
	Password        string `json:"password"`
	CurrentPassword string `json:"current_password"`
}

// setPassword sets a user's password: the user themself, with their
// current one (when they have one), or a manager of users. The user's
// other sessions end.
func (s *Server) setPassword(c *fiber.Ctx) error {
	var in passwordRequest
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return &core.Error{Code: core.EINVALID, Message: "the body is not a password change: {\"password\": …, \"current_password\": …}",
			Fields: []core.FieldError{{Field: "", Code: "invalid", Message: "must be an object with password (and current_password)"}}}
	}
	ctx := c.UserContext()
	acc := core.AccessFromContext(ctx)
	id := c.Params("id")
	self := acc != nil && acc.UserID == id
	if !self && (acc == nil || !acc.HasArea(core.AreaUsers)) {
		return core.Errorf(core.EFORBIDDEN, "only the user themself or a manager of users (admin area %q) sets a password", core.AreaUsers)
	}
	if err := core.CheckNewPassword(in.Password, s.cfg.Auth.PasswordMinLength); err != nil {
		return err
	}
	current, err := s.deps.Auth.PasswordHash(ctx, id)
	if err != nil {
		return err
	}
	if self && current != "" {
		if err := s.checkCurrentPassword(c, id, current, in.CurrentPassword); err != nil {
			return err
		}
	}
	keep, _ := c.Locals(localSession).(string)
	if !self {
		keep = ""
	}
	if err := s.deps.Auth.SetPassword(ctx, id, core.HashPassword(in.Password), keep); err != nil {
		return err
	}
	detail, _ := json.Marshal(map[string]any{"user_id": id, "by_self": self})
	_ = s.deps.Audit.Audit(ctx, core.AuditEntry{Action: core.AuditPassword, Entity: core.EntityUser, RecordID: id, IP: c.IP(), Detail: detail})
	return c.SendStatus(fiber.StatusNoContent)
}

// checkCurrentPassword checks the current password of a user changing
// their own, through the sign-in throttle: it is a password guess too.
func (s *Server) checkCurrentPassword(c *fiber.Ctx, userID, hash, given string) error {
	ctx := c.UserContext()
	if given == "" {
		return core.Invalid([]core.FieldError{{Field: "current_password", Code: "required", Message: "your current password is required"}})
	}
	attempt, err := s.deps.LoginThrottle.Begin(ctx, "id:"+userID, c.IP())
	if err != nil {
		return err
	}
	if attempt.Wait > 0 {
		secs := int(math.Ceil(attempt.Wait.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return fiber.NewError(fiber.StatusTooManyRequests, "too many wrong passwords: retry in "+strconv.Itoa(secs)+" s")
	}
	if !core.PasswordMatches(hash, given) {
		return core.Invalid([]core.FieldError{{Field: "current_password", Code: "wrong", Message: "is not your current password"}})
	}
	return attempt.Succeeded(ctx)
}

// auditEntries lists the audit log, newest first: ?user_id, ?action,
// ?from and ?to (RFC 3339), ?limit (≤ 1000), ?cursor (the next page).
func (s *Server) auditEntries(c *fiber.Ctx) error {
	f := core.AuditFilter{UserID: c.Query("user_id"), Action: c.Query("action")}
	var errs []core.FieldError
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				errs = append(errs, core.FieldError{Field: name, Code: "invalid", Message: "must be an RFC 3339 time"})
			}
			*dst = t
		}
	}
	if f.UserID != "" && !isUUID(f.UserID) {
		errs = append(errs, core.FieldError{Field: "user_id", Code: "invalid_id", Message: "must be a UUID"})
	}
	f.Limit = c.QueryInt("limit", 100)
	if f.Limit < 1 || f.Limit > 1000 {
		errs = append(errs, core.FieldError{Field: "limit", Code: "out_of_range", Message: "must be 1 to 1000"})
	}
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			errs = append(errs, core.FieldError{Field: "cursor", Code: "invalid", Message: "is not a cursor this list gave"})
		}
		f.Before = n
	}
	if err := core.Invalid(errs); err != nil {
		return err
	}
	items, err := s.deps.Audit.AuditEntries(c.UserContext(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []core.AuditEntry{}
	}
	out := fiber.Map{"items": items}
	if len(items) == f.Limit {
		out["next_cursor"] = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	return c.JSON(out)
}
