package store

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// notifier wakes the relay (of whichever hub instance holds the relay
// lock) after commits that added outbox events. It sends NOTIFY on a short
// transaction of its own, after the write committed: a NOTIFY inside the
// writing transaction would make PostgreSQL serialize the commits of all
// writers (a database-wide lock is held from queueing the notification to
// the end of the commit, WAL flush included). Wake-ups are coalesced: while
// one NOTIFY is in flight, any number of commits ask for one more. A lost
// wake-up (a crash right after a commit) costs at most the relay's polling
// interval.
type notifier struct {
	pool *pgxpool.Pool
	kick chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// notifyInterval spaces wake-ups: a few milliseconds of relay latency
// against a transaction per commit.
const notifyInterval = 2 * time.Millisecond

func newNotifier(pool *pgxpool.Pool) *notifier {
	n := &notifier{pool: pool, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	n.wg.Add(1)
	go n.run()
	return n
}

// poke asks for a wake-up; it never blocks.
func (n *notifier) poke() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

func (n *notifier) run() {
	defer n.wg.Done()
	for {
		select {
		case <-n.stop:
			return
		case <-n.kick:
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, _ = n.pool.Exec(ctx, "SELECT pg_notify('crmhub_outbox', '')") // best effort: the relay also polls
			cancel()
			// At most one wake-up per interval: under load the relay reads
			// a batch per wake-up anyway, and each NOTIFY is a transaction.
			select {
			case <-n.stop:
				return
			case <-time.After(notifyInterval):
			}
		}
	}
}

func (n *notifier) close() {
	n.once.Do(func() { close(n.stop) })
	n.wg.Wait()
}
