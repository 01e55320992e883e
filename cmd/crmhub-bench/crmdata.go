package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/pgembed"
	"github.com/crmhub/crmhub/core/store"
)

// Russian names for generated data.
var (
	lastNames = []string{"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
		"Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев",
		"Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев",
		"Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
		"Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов"}
	firstNames  = []string{"Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Максим", "Евгений", "Иван", "Михаил", "Артём", "Анна", "Елена", "Ольга", "Наталья", "Мария", "Татьяна", "Ирина", "Екатерина"}
	middleNames = []string{"Александрович", "Сергеевич", "Дмитриевич", "Андреевич", "Алексеевич", "Иванович", "Петрович", "Михайлович"}
	dealWords   = []string{"Поставка", "Внедрение", "Монтаж", "Аренда", "Обслуживание", "Лицензии", "Консалтинг"}
	goods       = []string{"металлопроката", "ноутбуков", "серверов", "кабеля", "CRM", "оборудования", "мебели", "спецодежды"}
)

// crmData loads a large CRM with COPY and times the reads the issue names.
func crmData(ctx context.Context, contacts, deals, iterations int, hold time.Duration) error {
	db, err := newBenchDB(ctx, "crmbench", pgembed.Config{Port: 5497,
		// Autovacuum off: the first access pass sees what a brand-new
		// install sees straight after importing its data, no statistics.
		Settings: map[string]string{"maintenance_work_mem": "512MB", "work_mem": "32MB", "autovacuum": "off"}})
	if err != nil {
		return err
	}
	defer db.close()
	pool := db.pool
	st := store.New(pool, slog.New(slog.DiscardHandler))
	defer st.Close()
	admin, _, err := st.EnsureAdmin(ctx, "Administrator")
	if err != nil {
		return err
	}
	if _, err := st.Pipelines().Ensure(ctx, []core.Pipeline{core.DefaultPipeline()}); err != nil {
		return err
	}
	g := &gen{r: rand.New(rand.NewPCG(42, 7)), now: time.Now().UTC()}
	var viewers []viewer
	if g.owners, viewers, err = makeStaff(ctx, st, admin.ID); err != nil {
		return err
	}
	pipeline, err := st.Pipelines().List(ctx, core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 1})
	if err != nil {
		return err
	}
	p := pipeline.Items[0]
	if err := defineContactFields(ctx, st); err != nil {
		return err
	}

	// Bulk loads build GIN indexes afterwards, in one pass, rather than row by row.
	var gin []string
	rows, err := pool.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexdef LIKE '%USING gin%'`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return err
		}
		names, gin = append(names, name), append(gin, def)
	}
	rows.Close()
	for _, n := range names {
		if _, err := pool.Exec(ctx, "DROP INDEX "+n); err != nil {
			return err
		}
	}
	start := time.Now()
	nAccounts := contacts / 10
	if err := g.copyAccounts(ctx, pool, nAccounts); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	if err := g.copyContacts(ctx, pool, contacts); err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	history, err := g.copyDeals(ctx, pool, &p, deals)
	if err != nil {
		return fmt.Errorf("deals: %w", err)
	}
	load := time.Since(start)
	start = time.Now()
	for _, def := range gin {
		if _, err := pool.Exec(ctx, def); err != nil {
			return err
		}
	}
	fmt.Printf("crmhub-bench -crm: loaded %d accounts, %d contacts, %d deals and %d stage-history rows with COPY in %s (%.0f rows/s, b-tree indexes included); %d GIN indexes built in %s\n",
		nAccounts, contacts, deals, history, load.Round(time.Second), float64(nAccounts+contacts+deals+history)/load.Seconds(),
		len(gin), time.Since(start).Round(time.Second))
	ctx = core.NewContextWithActor(ctx, core.Actor{ID: "bench", Source: "bench"})
	if err := accessPass(ctx, st, g, viewers, iterations, "straight after the import (no statistics yet)"); err != nil {
		return err
	}
	start = time.Now()
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	fmt.Printf("\nVACUUM ANALYZE in %s\n", time.Since(start).Round(time.Second))
	if err := accessPass(ctx, st, g, viewers, iterations, "analyzed"); err != nil {
		return err
	}
	fmt.Println("\nthe hub's own reads (no access rules), analyzed:")

	timeIt := func(name string, target time.Duration, fn func(i int) (int, error)) error {
		var lat []time.Duration
		rows := 0
		for i := range iterations {
			t0 := time.Now()
			n, err := fn(i)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			lat = append(lat, time.Since(t0))
			rows += n
		}
		p50, p99 := percentile(lat, 50), percentile(lat, 99)
		verdict := "met"
		if p99 > target {
			verdict = "NOT MET"
		}
		fmt.Printf("%-52s p50 %8s  p99 %8s  (target p99 <= %s: %s; %.1f rows a query)\n", name,
			p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), target, verdict, float64(rows)/float64(iterations))
		return nil
	}
	steps := []struct {
		name   string
		target time.Duration
		fn     func(i int) (int, error)
	}{
		{"contacts by account, newest first, limit 50", 20 * time.Millisecond, func(i int) (int, error) {
			page, err := st.Contacts().List(ctx, core.ContactFilter{AccountID: g.account(),
				ListParams: core.ListParams{Sort: core.Sort{Field: "created_at", Desc: true}, Limit: 50}})
			return len(page.Items), err
		}},
		{"contacts by owner, by last name, limit 50", 20 * time.Millisecond, func(i int) (int, error) {
			page, err := st.Contacts().List(ctx, core.ContactFilter{ListParams: core.ListParams{OwnerID: g.owners[i%len(g.owners)],
				Sort: core.Sort{Field: "last_name"}, Limit: 50}})
			return len(page.Items), err
		}},
		{"search by phone fragment (6 digits)", 50 * time.Millisecond, func(i int) (int, error) {
			hits, err := st.Search(ctx, fmt.Sprintf("%03d %03d", 900+g.r.IntN(99), g.r.IntN(1000)), 20)
			return len(hits), err
		}},
		{"search by Russian name (inflected surname)", 50 * time.Millisecond, func(i int) (int, error) {
			hits, err := st.Search(ctx, lastNames[i%len(lastNames)]+"ым", 20)
			return len(hits), err
		}},
		{"search by full name", 50 * time.Millisecond, func(i int) (int, error) {
			hits, err := st.Search(ctx, lastNames[i%len(lastNames)]+" "+firstNames[i%len(firstNames)], 20)
			return len(hits), err
		}},
		{"funnel over all deals", 200 * time.Millisecond, func(i int) (int, error) {
			f, err := st.Funnel(ctx, core.FunnelFilter{})
			if err != nil {
				return 0, err
			}
			return int(f.Total.Count), nil
		}},
	}
	for _, s := range steps {
		if err := timeIt(s.name, s.target, s.fn); err != nil {
			return err
		}
	}
	if hold > 0 {
		fmt.Printf("holding the database for %s: psql -h %s -p 5497 -U crmhub crmhub\n", hold, filepath.Join(db.dir, "pg", "run"))
		time.Sleep(hold)
	}
	return nil
}

type gen struct {
	r        *rand.Rand
	now      time.Time
	owners   []string
	accounts []string
	contacts []string
}

func (g *gen) account() string { return g.accounts[g.r.IntN(len(g.accounts))] }

// The contacts' custom fields: a segment of eight (each on 1/8 of them), a
// code of a thousand (1/1000) and a staff count from 1 to 10,000, range
// filterable.
var segments = []string{"retail", "b2b", "gov", "horeca", "it", "pharma", "build", "agro"}

func defineContactFields(ctx context.Context, st *store.Store) error {
	opts := make([]map[string]any, len(segments))
	for i, s := range segments {
		opts[i] = map[string]any{"code": s, "label": map[string]string{"ru": s}}
	}
	for _, def := range []map[string]any{
		{"key": "segment", "label": map[string]string{"ru": "Сегмент"}, "type": "picklist", "options": opts, "filterable": true},
		{"key": "code", "label": map[string]string{"ru": "Код"}, "type": "text", "filterable": true},
		{"key": "staff", "label": map[string]string{"ru": "Штат"}, "type": "integer", "filterable": true},
	} {
		if _, err := st.CreateCustomField(ctx, core.EntityContact, core.PatchOf(def)); err != nil {
			return fmt.Errorf("custom field %s: %w", def["key"], err)
		}
	}
	return nil
}

func (g *gen) custom() map[string]any {
	return map[string]any{"segment": segments[g.r.IntN(len(segments))], "code": fmt.Sprintf("K%04d", g.r.IntN(1000)),
		"staff": 1 + g.r.IntN(10000)}
}

func (g *gen) when() time.Time {
	return g.now.Add(-time.Duration(g.r.Int64N(int64(2 * 365 * 24 * time.Hour)))).Truncate(time.Microsecond)
}

func (g *gen) phone() string { return fmt.Sprintf("+79%09d", g.r.IntN(1_000_000_000)) }

func (g *gen) copyAccounts(ctx context.Context, pool *pgxpool.Pool, n int) error {
	g.accounts = make([]string, n)
	i := 0
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"accounts"},
		[]string{"id", "name", "name_key", "type", "phone", "owner_id", "created_at", "updated_at", "version"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			id := uuid.Must(uuid.NewV7()).String()
			g.accounts[i] = id
			name := fmt.Sprintf("ООО «%s-%s %d»", dealWords[g.r.IntN(len(dealWords))], lastNames[g.r.IntN(len(lastNames))], i)
			t := g.when()
			i++
			return []any{id, name, core.NormalizeCompanyName(name), "customer", g.phone(), g.owners[g.r.IntN(len(g.owners))], t, t, 1}, nil
		}))
	return err
}

func (g *gen) copyContacts(ctx context.Context, pool *pgxpool.Pool, n int) error {
	g.contacts = make([]string, 0, n/5)
	i := 0
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"contacts"},
		[]string{"id", "first_name", "middle_name", "last_name", "mobile", "email", "account_id", "owner_id", "created_at", "updated_at", "version", "custom"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			id := uuid.Must(uuid.NewV7()).String()
			if i%5 == 0 {
				g.contacts = append(g.contacts, id)
			}
			last := lastNames[g.r.IntN(len(lastNames))]
			first := firstNames[g.r.IntN(len(firstNames))]
			middle := middleNames[g.r.IntN(len(middleNames))]
			if first[len(first)-2:] == "а" || first[len(first)-2:] == "я" { // a woman: the feminine surname
				last += "а"
				middle = middle[:len(middle)-len("ич")] + "на"
			}
			t := g.when()
			i++
			return []any{id, first, middle, last, g.phone(), fmt.Sprintf("user%d@example.ru", i), g.account(),
				g.owners[g.r.IntN(len(g.owners))], t, t, 1, g.custom()}, nil
		}))
	return err
}

// copyDeals loads deals spread over the pipeline's stages, each with the
// stage history that led it there; it returns the history rows loaded.
func (g *gen) copyDeals(ctx context.Context, pool *pgxpool.Pool, p *core.Pipeline, n int) (int, error) {
	type deal struct {
		id, owner  string
		pos, reach int // current stage, furthest open stage
		at         time.Time
	}
	all := make([]deal, n)
	lastOpen := len(p.Stages) - 3
	i := 0
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"deals"},
		[]string{"id", "name", "pipeline_id", "stage", "furthest_stage", "probability", "amount", "currency", "close_date", "account_id",
			"contact_id", "owner_id", "closed_at", "created_at", "updated_at", "version"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			d := deal{id: uuid.Must(uuid.NewV7()).String(), owner: g.owners[g.r.IntN(len(g.owners))], at: g.when()}
			// Fewer deals get further: a geometric walk down the stages.
			for d.pos < lastOpen && g.r.IntN(100) < 65 {
				d.pos++
			}
			d.reach = d.pos
			switch r := g.r.IntN(100); {
			case r < 25:
				d.pos = lastOpen + 1 // won
			case r < 45:
				d.pos = lastOpen + 2 // lost
			}
			all[i] = d
			st := p.Stages[d.pos]
			var closed *time.Time
			if st.Kind != core.StageOpen {
				closed = &d.at
			}
			amount := fmt.Sprintf("%d.%02d", 10_000+g.r.IntN(5_000_000), g.r.IntN(100))
			name := dealWords[g.r.IntN(len(dealWords))] + " " + goods[g.r.IntN(len(goods))]
			i++
			return []any{d.id, name, p.ID, st.Code, p.Stages[d.reach].Code, st.Probability, amount, "RUB", d.at.AddDate(0, 1, 0), g.account(),
				g.contacts[g.r.IntN(len(g.contacts))], d.owner, closed, d.at, d.at, 1}, nil
		}))
	if err != nil {
		return 0, err
	}
	rows := 0
	di, step := 0, 0
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"deal_stage_history"},
		[]string{"deal_id", "pipeline_id", "from_stage", "to_stage", "probability", "actor", "at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for di < len(all) {
				d := all[di]
				// From "" to the first stage, then up to where the deal is.
				reach := d.reach
				if step <= reach || (d.pos > lastOpen && step == reach+1) {
					from, to := "", p.Stages[0].Code
					if step > 0 {
						from, to = p.Stages[step-1].Code, p.Stages[step].Code
					}
					if step == reach+1 {
						from, to = p.Stages[reach].Code, p.Stages[d.pos].Code
					}
					step++
					rows++
					return []any{d.id, p.ID, from, to, p.Stages[min(step-1, len(p.Stages)-1)].Probability, "bench", d.at}, nil
				}
				di, step = di+1, 0
			}
			return nil, nil
		}))
	return rows, err
}
