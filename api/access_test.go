package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// company is a sales department as access control sees it: a head of
// department A with manager m1 below; m2 and m3, plain managers under the
// seeded head, in team «Север»; an accountant; an intern who may not see
// deal amounts nor change an account's ИНН.
type company struct {
	b                                    *bundle
	headA, m1, m2, m3, acct, intern      person
	roleHeadA, roleMgrA, roleAcct, roleI string
	north                                string
}

type person struct {
	id, key string
}

func (c *company) admin() string { return c.b.admin }

func newCompany(t *testing.T) *company {
	t.Helper()
	b := setup(t)
	c := &company{b: b}
	c.roleHeadA = c.role(t, "Руководитель отдела А", core.RoleAdminID, rightsJSON(core.LevelSubordinates), `{}`)
	c.roleMgrA = c.role(t, "Менеджер отдела А", c.roleHeadA, rightsJSON(core.LevelOwn), `{}`)
	c.roleAcct = c.role(t, "Бухгалтер", core.RoleAdminID, `{"account":{"view":"own","edit":"own"},"invoice":{"view":"all"},"payment":{"view":"all","create":"all"}}`, `{}`)
	c.roleI = c.role(t, "Стажёр", core.RoleManagerID, rightsJSON(core.LevelOwn), `{"deal":{"amount":"hidden"},"account":{"inn":"read_only"}}`)
	c.headA = c.user(t, "Глава А", c.roleHeadA)
	c.m1 = c.user(t, "Менеджер Один", c.roleMgrA)
	c.m2 = c.user(t, "Менеджер Два", core.RoleManagerID)
	c.m3 = c.user(t, "Менеджер Три", core.RoleManagerID)
	c.acct = c.user(t, "Бухгалтер", c.roleAcct)
	c.intern = c.user(t, "Стажёр", c.roleI)
	r := b.do(t, "POST", "/api/v1/teams", b.admin, fmt.Sprintf(`{"name":"Север","member_ids":[%q,%q]}`, c.m2.id, c.m3.id))
	require.Equal(t, 201, r.status, string(r.body))
	c.north = r.json(t)["id"].(string)
	return c
}

// rightsJSON gives every action on every entity the level.
func rightsJSON(l core.Level) string {
	m := map[string]map[string]string{}
	for _, e := range core.RightsEntities() {
		m[e] = map[string]string{}
		for _, a := range core.Actions() {
			m[e][string(a)] = string(l)
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (c *company) role(t *testing.T, name, parent, rights, fields string) string {
	t.Helper()
	r := c.b.do(t, "POST", "/api/v1/roles", c.admin(),
		fmt.Sprintf(`{"name":%q,"parent_id":%q,"rights":%s,"fields":%s}`, name, parent, rights, fields))
	require.Equal(t, 201, r.status, string(r.body))
	return r.json(t)["id"].(string)
}

func (c *company) user(t *testing.T, name, role string) person {
	t.Helper()
	r := c.b.do(t, "POST", "/api/v1/users", c.admin(), fmt.Sprintf(`{"name":%q,"role_id":%q}`, name, role))
	require.Equal(t, 201, r.status, string(r.body))
	id := r.json(t)["id"].(string)
	r = c.b.do(t, "POST", "/api/v1/apikeys", c.admin(), fmt.Sprintf(`{"name":%q,"user_id":%q,"scopes":["write"]}`, name, id))
	require.Equal(t, 201, r.status, string(r.body))
	return person{id: id, key: r.json(t)["key"].(string)}
}

func (c *company) create(t *testing.T, who person, path, body string) string {
	t.Helper()
	r := c.b.do(t, "POST", path, who.key, body)
	require.Equal(t, 201, r.status, string(r.body))
	return r.json(t)["id"].(string)
}

func ids(t *testing.T, r reply) []string {
	t.Helper()
	require.Equal(t, 200, r.status, string(r.body))
	var out []string
	for _, it := range r.json(t)["items"].([]any) {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

func TestRecordVisibility(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	l1 := c.create(t, c.m1, "/api/v1/leads", `{"last_name":"Первый","company":"Лид М1"}`)
	l2 := c.create(t, c.m2, "/api/v1/leads", `{"last_name":"Второй","company":"Лид М2"}`)

	t.Run("AManagerSeesOnlyOwnRecords", func(t *testing.T) {
		require.Equal(t, 200, b.do(t, "GET", "/api/v1/leads/"+l1, c.m1.key, "").status)
		for _, r := range []reply{
			b.do(t, "GET", "/api/v1/leads/"+l1, c.m2.key, ""),
			b.do(t, "PATCH", "/api/v1/leads/"+l1, c.m2.key, `{"title":"чужой"}`),
			b.do(t, "DELETE", "/api/v1/leads/"+l1, c.m2.key, ""),
			b.do(t, "GET", "/api/v1/leads/"+l1+"/history", c.m2.key, ""),
		} {
			requireProblem(t, r, 404, core.ENOTFOUND)
		}
		require.Equal(t, []string{l2}, ids(t, b.do(t, "GET", "/api/v1/leads", c.m2.key, "")))
		require.Empty(t, ids(t, b.do(t, "GET", "/api/v1/leads?q=Лид%20М1", c.m2.key, "")))
		require.Empty(t, ids(t, b.do(t, "GET", "/api/v1/leads?owner_id="+c.m1.id, c.m2.key, "")), "a filter by another owner finds nothing")
	})

	t.Run("AHeadSeesTheirSubordinatesOnly", func(t *testing.T) {
		require.Equal(t, 200, b.do(t, "GET", "/api/v1/leads/"+l1, c.headA.key, "").status)
		requireProblem(t, b.do(t, "GET", "/api/v1/leads/"+l2, c.headA.key, ""), 404, core.ENOTFOUND)
		require.Equal(t, []string{l1}, ids(t, b.do(t, "GET", "/api/v1/leads", c.headA.key, "")))
		r := b.do(t, "PATCH", "/api/v1/leads/"+l1, c.headA.key, `{"title":"Проверено"}`)
		require.Equal(t, 200, r.status, string(r.body))
	})

	t.Run("TheAdminSeesEverything", func(t *testing.T) {
		require.ElementsMatch(t, []string{l1, l2}, ids(t, b.do(t, "GET", "/api/v1/leads", c.admin(), "")))
	})

	t.Run("TeamMatesSeeEachOthersAccountsButEditOnlyOwn", func(t *testing.T) {
		a3 := c.create(t, c.m3, "/api/v1/accounts", `{"name":"ООО Третий"}`)
		require.Equal(t, 200, b.do(t, "GET", "/api/v1/accounts/"+a3, c.m2.key, "").status)
		requireProblem(t, b.do(t, "PATCH", "/api/v1/accounts/"+a3, c.m2.key, `{"website":"x.ru"}`), 403, core.EFORBIDDEN)
		requireProblem(t, b.do(t, "GET", "/api/v1/accounts/"+a3, c.m1.key, ""), 404, core.ENOTFOUND)
	})

	t.Run("ARecordOfATeamIsEveryMembersOwn", func(t *testing.T) {
		id := c.create(t, c.m2, "/api/v1/leads", fmt.Sprintf(`{"last_name":"Общий","company":"Север","team_id":%q}`, c.north))
		require.Equal(t, 200, b.do(t, "GET", "/api/v1/leads/"+id, c.m3.key, "").status)
		r := b.do(t, "PATCH", "/api/v1/leads/"+id, c.m3.key, `{"title":"Взял"}`)
		require.Equal(t, 200, r.status, string(r.body))
		requireProblem(t, b.do(t, "GET", "/api/v1/leads/"+id, c.m1.key, ""), 404, core.ENOTFOUND)
		requireProblem(t, b.do(t, "POST", "/api/v1/leads", c.m1.key, fmt.Sprintf(`{"last_name":"Чужая","company":"К","team_id":%q}`, c.north)),
			403, core.EFORBIDDEN)
	})

	t.Run("GivingARecordAwayNeedsTheNewOwnerInReach", func(t *testing.T) {
		requireProblem(t, b.do(t, "PATCH", "/api/v1/leads/"+l1, c.m1.key, fmt.Sprintf(`{"owner_id":%q}`, c.m2.id)), 403, core.EFORBIDDEN)
		requireProblem(t, b.do(t, "POST", "/api/v1/leads", c.m1.key, fmt.Sprintf(`{"last_name":"Л","company":"К","owner_id":%q}`, c.m2.id)), 403, core.EFORBIDDEN)
		r := b.do(t, "PATCH", "/api/v1/leads/"+l2, c.admin(), fmt.Sprintf(`{"owner_id":%q}`, c.m3.id))
		require.Equal(t, 200, r.status, string(r.body))
		require.Equal(t, 200, b.do(t, "GET", "/api/v1/leads/"+l2, c.m3.key, "").status)
		requireProblem(t, b.do(t, "GET", "/api/v1/leads/"+l2, c.m2.key, ""), 404, core.ENOTFOUND)
	})
}

func TestSharesAndFieldRules(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	a1 := c.create(t, c.m1, "/api/v1/accounts", `{"name":"ООО Первый","inn":"7707083893","kpp":"773601001"}`)

	t.Run("AShareLetsTheAccountantRead", func(t *testing.T) {
		requireProblem(t, b.do(t, "GET", "/api/v1/accounts/"+a1, c.acct.key, ""), 404, core.ENOTFOUND)
		requireProblem(t, b.do(t, "POST", "/api/v1/accounts/"+a1+"/shares", c.m2.key, fmt.Sprintf(`{"user_id":%q,"access":"read"}`, c.acct.id)),
			404, core.ENOTFOUND)
		r := b.do(t, "POST", "/api/v1/accounts/"+a1+"/shares", c.m1.key, fmt.Sprintf(`{"user_id":%q,"access":"read"}`, c.acct.id))
		require.Equal(t, 201, r.status, string(r.body))
		share := r.json(t)["id"].(string)
		require.Equal(t, 200, b.do(t, "GET", "/api/v1/accounts/"+a1, c.acct.key, "").status)
		require.Equal(t, []string{a1}, ids(t, b.do(t, "GET", "/api/v1/accounts", c.acct.key, "")))
		requireProblem(t, b.do(t, "PATCH", "/api/v1/accounts/"+a1, c.acct.key, `{"website":"x.ru"}`), 403, core.EFORBIDDEN)

		r = b.do(t, "POST", "/api/v1/accounts/"+a1+"/shares", c.m1.key, fmt.Sprintf(`{"user_id":%q,"access":"edit"}`, c.acct.id))
		require.Equal(t, 201, r.status, string(r.body))
		r = b.do(t, "PATCH", "/api/v1/accounts/"+a1, c.acct.key, `{"website":"x.ru"}`)
		require.Equal(t, 200, r.status, string(r.body))

		require.Equal(t, 204, b.do(t, "DELETE", "/api/v1/accounts/"+a1+"/shares/"+share, c.m1.key, "").status)
		requireProblem(t, b.do(t, "GET", "/api/v1/accounts/"+a1, c.acct.key, ""), 404, core.ENOTFOUND)
	})

	t.Run("AHiddenFieldIsNeitherShownNorWritable", func(t *testing.T) {
		requireProblem(t, b.do(t, "POST", "/api/v1/deals", c.intern.key, `{"name":"Сделка","amount":"1000"}`), 422, core.EINVALID, "amount:unknown_field")
		r := b.do(t, "POST", "/api/v1/deals", c.intern.key, `{"name":"Сделка"}`)
		require.Equal(t, 201, r.status, string(r.body))
		deal := r.json(t)
		require.NotContains(t, deal, "amount")
		id := deal["id"].(string)
		r = b.do(t, "PATCH", "/api/v1/deals/"+id, c.admin(), `{"amount":"5000"}`)
		require.Equal(t, 200, r.status, string(r.body))
		require.Equal(t, "5000.00", r.json(t)["amount"], "the admin sees it")
		require.NotContains(t, b.do(t, "GET", "/api/v1/deals/"+id, c.intern.key, "").json(t), "amount")
		page := b.do(t, "GET", "/api/v1/deals", c.intern.key, "").json(t)
		require.Len(t, page["items"], 1)
		require.NotContains(t, page["items"].([]any)[0], "amount")
		require.NotContains(t, string(b.do(t, "GET", "/api/v1/deals/"+id+"/history", c.intern.key, "").body), "5000")
	})

	t.Run("AReadOnlyFieldIsRefusedByName", func(t *testing.T) {
		id := c.create(t, c.intern, "/api/v1/accounts", `{"name":"ООО Стажёра"}`)
		requireProblem(t, b.do(t, "PATCH", "/api/v1/accounts/"+id, c.intern.key, `{"inn":"7707083893","kpp":"773601001"}`), 422, core.EINVALID, "inn:read_only")
		r := b.do(t, "PATCH", "/api/v1/accounts/"+id, c.intern.key, `{"website":"stazher.ru"}`)
		require.Equal(t, 200, r.status, string(r.body))
	})
}

func TestAdminAreasAndAudit(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	for _, r := range []reply{
		b.do(t, "POST", "/api/v1/users", c.m1.key, `{"name":"Новый"}`),
		b.do(t, "POST", "/api/v1/roles", c.headA.key, `{"name":"Своя"}`),
		b.do(t, "GET", "/api/v1/audit", c.headA.key, ""),
		b.do(t, "GET", "/api/v1/apikeys", c.m1.key, ""),
	} {
		requireProblem(t, r, 403, core.EFORBIDDEN)
	}
	id := c.create(t, c.m1, "/api/v1/leads", `{"last_name":"Удалить","company":"К"}`)
	require.Equal(t, 204, b.do(t, "DELETE", "/api/v1/leads/"+id, c.m1.key, "").status)
	r := b.do(t, "GET", "/api/v1/audit?action=delete", c.admin(), "")
	require.Equal(t, 200, r.status, string(r.body))
	items := r.json(t)["items"].([]any)
	require.Len(t, items, 1)
	e := items[0].(map[string]any)
	require.Equal(t, c.m1.id, e["user_id"])
	require.Equal(t, id, e["record_id"])
	require.Equal(t, "lead", e["entity"])
	r = b.do(t, "GET", "/api/v1/audit?action=role_change", c.admin(), "")
	require.Len(t, r.json(t)["items"], 4, "the four roles newCompany made")
}

func TestPasswordSignIn(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	r := b.do(t, "PATCH", "/api/v1/users/"+c.m1.id, c.admin(), `{"email":"m1@example.ru"}`)
	require.Equal(t, 200, r.status, string(r.body))
	requireProblem(t, b.do(t, "POST", "/api/v1/users/"+c.m1.id+"/password", c.admin(), `{"password":"short"}`), 422, core.EINVALID, "password:too_short")
	require.Equal(t, 204, b.do(t, "POST", "/api/v1/users/"+c.m1.id+"/password", c.admin(), `{"password":"верный-пароль-1"}`).status)
	requireProblem(t, b.do(t, "POST", "/api/v1/users/"+c.m2.id+"/password", c.m1.key, `{"password":"чужой-пароль-1"}`), 403, core.EFORBIDDEN)

	wrong := b.do(t, "POST", "/api/v1/auth/login", "", `{"email":"m1@example.ru","password":"не тот пароль"}`)
	unknown := b.do(t, "POST", "/api/v1/auth/login", "", `{"email":"nobody@example.ru","password":"не тот пароль"}`)
	requireProblem(t, wrong, 401, core.EUNAUTHORIZED)
	requireProblem(t, unknown, 401, core.EUNAUTHORIZED)
	require.Equal(t, wrong.json(t)["detail"], unknown.json(t)["detail"], "a wrong e-mail and a wrong password read alike")

	r = b.do(t, "POST", "/api/v1/auth/login", "", `{"email":"M1@example.ru","password":"верный-пароль-1"}`)
	require.Equal(t, 200, r.status, string(r.body))
	token := r.json(t)["token"].(string)
	require.True(t, strings.HasPrefix(token, "crs_"))
	me := b.do(t, "GET", "/api/v1/auth/me", token, "")
	require.Equal(t, 200, me.status, string(me.body))
	m := me.json(t)
	require.Equal(t, "Менеджер отдела А", m["role"].(map[string]any)["name"])
	access := m["access"].(map[string]any)
	require.Equal(t, "own", access["rights"].(map[string]any)["lead"].(map[string]any)["view"])
	require.Empty(t, access["areas"])
	var stored int
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), "SELECT count(*) FROM auth_sessions WHERE token_hash = sha256($1::bytea)", token).Scan(&stored))
	require.Equal(t, 1, stored, "only the token's hash is kept")
	require.NotContains(t, string(me.body), "argon2", "the hash is never shown")

	// Changing one's own password needs the current one, and ends the
	// other sessions.
	other := b.do(t, "POST", "/api/v1/auth/login", "", `{"email":"m1@example.ru","password":"верный-пароль-1"}`).json(t)["token"].(string)
	requireProblem(t, b.do(t, "POST", "/api/v1/users/"+c.m1.id+"/password", token, `{"password":"новый-пароль-22"}`), 422, core.EINVALID, "current_password:required")
	require.Equal(t, 204, b.do(t, "POST", "/api/v1/users/"+c.m1.id+"/password", token,
		`{"password":"новый-пароль-22","current_password":"верный-пароль-1"}`).status)
	require.Equal(t, 200, b.do(t, "GET", "/api/v1/auth/me", token, "").status, "the session that changed it stays")
	requireProblem(t, b.do(t, "GET", "/api/v1/auth/me", other, ""), 401, core.EUNAUTHORIZED)

	require.Equal(t, 204, b.do(t, "POST", "/api/v1/auth/logout", token, "").status)
	requireProblem(t, b.do(t, "GET", "/api/v1/auth/me", token, ""), 401, core.EUNAUTHORIZED)

	r = b.do(t, "GET", "/api/v1/audit?user_id="+c.m1.id, c.admin(), "")
	var actions []string
	for _, it := range r.json(t)["items"].([]any) {
		actions = append(actions, it.(map[string]any)["action"].(string))
	}
	require.Subset(t, actions, []string{"login", "login_failed", "logout", "password_changed"})
}

func TestSignInLockout(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	require.Equal(t, 200, b.do(t, "PATCH", "/api/v1/users/"+c.m2.id, c.admin(), `{"email":"m2@example.ru"}`).status)
	require.Equal(t, 204, b.do(t, "POST", "/api/v1/users/"+c.m2.id+"/password", c.admin(), `{"password":"пароль-менеджера"}`).status)
	for range 5 {
		requireProblem(t, b.do(t, "POST", "/api/v1/auth/login", "", `{"email":"m2@example.ru","password":"подбор"}`), 401, core.EUNAUTHORIZED)
	}
	r := b.do(t, "POST", "/api/v1/auth/login", "", `{"email":"m2@example.ru","password":"пароль-менеджера"}`)
	require.Equal(t, 429, r.status, "while locked even the right password waits: %s", r.body)
	require.NotEmpty(t, r.header.Get("Retry-After"))
}

func TestReadPathsFollowTheRights(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	c.create(t, c.m1, "/api/v1/leads", `{"last_name":"Первый","company":"Лид М1","phone":"+79005550101"}`)
	mine := c.create(t, c.m2, "/api/v1/leads", `{"last_name":"Второй","company":"Лид М2"}`)

	t.Run("AnExportHoldsWhatTheExportRightReaches", func(t *testing.T) {
		r := b.do(t, "GET", "/api/v1/leads/export.xlsx", c.m2.key, "")
		require.Equal(t, 200, r.status, string(r.body))
		require.Equal(t, "1", r.header.Get("X-Rows"))
		r = b.do(t, "GET", "/api/v1/leads/export.xlsx", c.admin(), "")
		require.Equal(t, "2", r.header.Get("X-Rows"))
		noExport := c.user(t, "Без выгрузки", c.role(t, "Без выгрузки", core.RoleAdminID, `{"lead":{"view":"all"}}`, `{}`))
		requireProblem(t, b.do(t, "GET", "/api/v1/leads/export.xlsx", noExport.key, ""), 403, core.EFORBIDDEN)
		r = b.do(t, "GET", "/api/v1/audit?action=export", c.admin(), "")
		require.Len(t, r.json(t)["items"], 2, "each export is audited")
	})

	t.Run("SearchAndDuplicatesFindOnlyWhatTheUserSees", func(t *testing.T) {
		r := b.do(t, "GET", "/api/v1/search?q=Лид", c.m2.key, "")
		require.Equal(t, 200, r.status, string(r.body))
		require.Len(t, r.json(t)["items"], 1)
		require.Equal(t, mine, r.json(t)["items"].([]any)[0].(map[string]any)["id"])
		r = b.do(t, "GET", "/api/v1/duplicates?phone=%2B79005550101", c.m2.key, "")
		require.Equal(t, 200, r.status, string(r.body))
		require.Empty(t, r.json(t)["items"])
		r = b.do(t, "GET", "/api/v1/duplicates?phone=%2B79005550101", c.headA.key, "")
		require.Len(t, r.json(t)["items"], 1, "the head sees the subordinate's")
	})

	t.Run("TheFunnelAndReportsCountOnlyVisibleDealsAndHideHiddenFields", func(t *testing.T) {
		c.create(t, c.m1, "/api/v1/deals", `{"name":"Сделка М1","amount":"1000"}`)
		c.create(t, c.m2, "/api/v1/deals", `{"name":"Сделка М2","amount":"20"}`)
		c.create(t, c.intern, "/api/v1/deals", `{"name":"Сделка стажёра"}`)
		total := func(key string) any {
			r := b.do(t, "GET", "/api/v1/funnel", key, "")
			require.Equal(t, 200, r.status, string(r.body))
			return r.json(t)["total"]
		}
		require.Equal(t, float64(1), total(c.m2.key).(map[string]any)["count"])
		require.Equal(t, "20.00", total(c.m2.key).(map[string]any)["amount"])
		require.Equal(t, float64(3), total(c.admin()).(map[string]any)["count"])
		require.Equal(t, "0.00", total(c.intern.key).(map[string]any)["amount"], "the intern's funnel shows no amounts")
		requireProblem(t, b.do(t, "POST", "/api/v1/reports", c.intern.key, `{"name":"Суммы","entity":"deal","columns":["name","amount"]}`),
			422, core.EINVALID, "columns[1]:unknown_field")
		r := b.do(t, "POST", "/api/v1/reports", c.m2.key, `{"name":"Мои сделки","entity":"deal","related":["account"],"columns":["name","amount","account.name"]}`)
		require.Equal(t, 201, r.status, string(r.body))
		rep := r.json(t)["id"].(string)
		r = b.do(t, "GET", "/api/v1/reports/"+rep+"/run", c.m2.key, "")
		require.Equal(t, 200, r.status, string(r.body))
		require.Len(t, r.json(t)["rows"], 1)
		requireProblem(t, b.do(t, "GET", "/api/v1/reports/"+rep+"/run", c.m1.key, ""), 404, core.ENOTFOUND)
	})

	t.Run("ConversionMergeAndDocumentsNeedTheRecords", func(t *testing.T) {
		other := c.create(t, c.m1, "/api/v1/leads", `{"last_name":"Чужой","company":"Чужая"}`)
		requireProblem(t, b.do(t, "POST", "/api/v1/leads/"+other+"/convert", c.m2.key, `{}`), 404, core.ENOTFOUND)
		requireProblem(t, b.do(t, "POST", "/api/v1/leads/"+mine+"/merge", c.m2.key, fmt.Sprintf(`{"duplicate_id":%q}`, other)), 404, core.ENOTFOUND)
		r := b.do(t, "POST", "/api/v1/leads/"+other+"/convert", c.m1.key, `{}`)
		require.Equal(t, 201, r.status, string(r.body))
		require.Equal(t, c.m1.id, r.json(t)["contact"].(map[string]any)["owner_id"], "the created records are the converter's reach")

		svc := c.create(t, c.admin2(t), "/api/v1/services", `{"name":"Монтаж","unit":"усл","vat_rate":"22","price":"500"}`)
		acc := c.create(t, c.m1, "/api/v1/accounts", `{"name":"ООО Счёт"}`)
		q := c.create(t, c.m1, "/api/v1/quotes", `{"subject":"КП","account_id":"`+acc+`","date":"2026-11-20","lines":[{"service_id":"`+svc+`","quantity":"2"}]}`)
		r = b.do(t, "POST", "/api/v1/quotes/"+q+"/invoice", c.m1.key, `{"date":"2026-11-21"}`)
		require.Equal(t, 201, r.status, string(r.body))
		inv := r.json(t)["id"].(string)
		for _, path := range []string{"/api/v1/invoices/" + inv, "/api/v1/invoices/" + inv + "/remaining", "/api/v1/invoices/" + inv + "/pdf",
			"/api/v1/quotes/" + q + "/pdf"} {
			requireProblem(t, b.do(t, "GET", path, c.m2.key, ""), 404, core.ENOTFOUND)
		}
		requireProblem(t, b.do(t, "POST", "/api/v1/quotes/"+q+"/invoice", c.m2.key, `{"date":"2026-11-21"}`), 404, core.ENOTFOUND)
		requireProblem(t, b.do(t, "POST", "/api/v1/invoices/"+inv+"/act", c.m2.key, `{"date":"2026-11-25"}`), 404, core.ENOTFOUND)
		require.Equal(t, 200, b.do(t, "GET", "/api/v1/invoices/"+inv+"/remaining", c.headA.key, "").status)

		// The accountant sees every invoice and records payments, though
		// she may not edit the invoice the payment settles.
		r = b.do(t, "POST", "/api/v1/invoices/"+inv+"/payments", c.acct.key, `{"amount":"100","date":"2026-11-26","method":"cash"}`)
		require.Equal(t, 201, r.status, string(r.body))
		r = b.do(t, "GET", "/api/v1/invoices/"+inv, c.acct.key, "")
		require.Equal(t, "100.00", r.json(t)["amount_paid"])
		requireProblem(t, b.do(t, "PATCH", "/api/v1/invoices/"+inv, c.acct.key, `{"subject":"x"}`), 403, core.EFORBIDDEN)
	})
}

// admin2 is the administrator as a person (the catalog is the admin's).
func (c *company) admin2(t *testing.T) person { return person{key: c.b.admin} }

// A link names only a record its writer may see: one beyond their reach
// reads as one that does not exist, and conversion neither links to such
// an account nor creates a second company of the same ИНН behind it.
func TestLinksStayWithinReach(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	a1 := c.create(t, c.m1, "/api/v1/accounts", `{"name":"ООО Ромашка","inn":"7707083893","kpp":"773601001"}`)
	l1 := c.create(t, c.m1, "/api/v1/leads", `{"last_name":"Чужой","company":"К"}`)
	missing := "01900000-0000-7000-8000-000000000000"

	t.Run("ALinkBeyondReachReadsAsAMissingRecord", func(t *testing.T) {
		for _, link := range [][2]string{{a1, l1}, {missing, missing}} {
			requireProblem(t, b.do(t, "POST", "/api/v1/contacts", c.m2.key, fmt.Sprintf(`{"last_name":"Связь","account_id":%q}`, link[0])),
				422, core.EINVALID, "account_id:not_found")
			requireProblem(t, b.do(t, "POST", "/api/v1/activities", c.m2.key, fmt.Sprintf(`{"kind":"task","subject":"Позвонить","start_at":"2026-12-10T09:00:00Z","due_at":"2026-12-10T10:00:00Z","lead_id":%q}`, link[1])),
				422, core.EINVALID, "lead_id:not_found")
		}
		c.create(t, c.m1, "/api/v1/contacts", fmt.Sprintf(`{"last_name":"Свой","account_id":%q}`, a1))
	})

	t.Run("ConversionDoesNotCopyACompanyItCannotSee", func(t *testing.T) {
		lead := c.create(t, c.m2, "/api/v1/leads", `{"last_name":"Петров","company":"Ромашка"}`)
		requireProblem(t, b.do(t, "POST", "/api/v1/leads/"+lead+"/convert", c.m2.key, `{"account":{"inn":"7707083893","kpp":"773601001"}}`), 409, core.ECONFLICT)
		requireProblem(t, b.do(t, "POST", "/api/v1/leads/"+lead+"/convert", c.m2.key, fmt.Sprintf(`{"account":{"id":%q}}`, a1)),
			422, core.EINVALID, "account.id:not_found")

		r := b.do(t, "POST", "/api/v1/accounts/"+a1+"/shares", c.m1.key, fmt.Sprintf(`{"user_id":%q,"access":"read"}`, c.m2.id))
		require.Equal(t, 201, r.status, string(r.body))
		r = b.do(t, "POST", "/api/v1/leads/"+lead+"/convert", c.m2.key, `{"account":{"inn":"7707083893","kpp":"773601001"}}`)
		require.Equal(t, 201, r.status, string(r.body))
		require.Equal(t, a1, r.json(t)["account"].(map[string]any)["id"], "shared, the company is the same account")
	})
}

// The calendar feed follows the field rules as the API does: a hidden
// description is not in it.
func TestCalendarFeedHidesHiddenFields(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	role := c.role(t, "Без описаний", core.RoleManagerID, rightsJSON(core.LevelOwn), `{"activity":{"description":"hidden"}}`)
	u := c.user(t, "Скрытный", role)
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	r := b.do(t, "POST", "/api/v1/activities", b.admin, fmt.Sprintf(`{"kind":"meeting","subject":"Встреча","owner_id":%q,`+
		`"start_at":%q,"end_at":%q,"location":"Офис","description":"Секретные условия"}`,
		u.id, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)))
	require.Equal(t, 201, r.status, string(r.body))
	r = b.do(t, "POST", "/api/v1/users/"+u.id+"/calendar-token", b.admin, "")
	require.Equal(t, 201, r.status, string(r.body))
	feed := b.do(t, "GET", r.json(t)["url"].(string), "", "")
	require.Equal(t, 200, feed.status, string(feed.body))
	require.Contains(t, string(feed.body), "SUMMARY:Встреча")
	require.Contains(t, string(feed.body), "LOCATION:Офис")
	require.NotContains(t, string(feed.body), "Секретные")
}
