package events

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/lib/pq"
)

// Channel is the PostgreSQL NOTIFY channel Taskmind uses.
const Channel = "taskmind_task_events"

// Postgres fans events out through LISTEN/NOTIFY so that every replica's
// subscribers see every change. Local delivery also goes through the
// database, so the publishing replica sees events in the same order as the
// others.
type Postgres struct {
	db       *sql.DB
	listener *pq.Listener
	h        *hub
	log      *slog.Logger
	done     chan struct{}
}

// NewPostgres starts listening on Channel with its own connection.
func NewPostgres(db *sql.DB, dsn string, log *slog.Logger) (*Postgres, error) {
	p := &Postgres{db: db, h: newHub(), log: log, done: make(chan struct{})}
	p.listener = pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventConnectionAttemptFailed, pq.ListenerEventDisconnected:
			log.Warn("event listener lost its database connection", "err", err)
		case pq.ListenerEventReconnected:
			log.Info("event listener reconnected")
		}
	})
	if err := p.listener.Listen(Channel); err != nil {
		p.listener.Close()
		return nil, err
	}
	go p.loop()
	return p, nil
}

func (p *Postgres) loop() {
	defer close(p.done)
	for n := range p.listener.Notify {
		if n == nil {
			// Reconnected: notifications sent while we were away are lost.
			// Live views refetch on their own; caches must start over.
			p.h.broadcast(Event{Kind: Resync})
			continue
		}
		e, err := decode(n.Extra)
		if err != nil {
			p.log.Warn("dropping malformed task event", "err", err)
			continue
		}
		p.h.broadcast(e)
	}
}

// Publish implements Broker.
func (p *Postgres) Publish(ctx context.Context, e Event) error { return Notify(ctx, p.db, e) }

// Execer runs a statement: a *sql.DB, a *sql.Tx, an ent client.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Notify publishes e through PostgreSQL on db, without a broker. Sent inside
// a transaction it is delivered when that commits and dropped if it rolls
// back, so a change and its announcement cannot disagree; and a process that
// runs no listener (the CLI) still reaches every replica.
func Notify(ctx context.Context, db Execer, e Event) error {
	payload, err := encode(e)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "SELECT pg_notify($1, $2)", Channel, payload)
	return err
}

// Subscribe implements Broker.
func (p *Postgres) Subscribe(ctx context.Context) <-chan Event { return p.h.subscribe(ctx) }

// Close implements Broker.
func (p *Postgres) Close() error {
	err := p.listener.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.log.Warn("event listener did not stop in time")
	}
	p.h.close()
	return err
}
