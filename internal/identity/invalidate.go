package identity

import (
	"context"
	"slices"

	"entgo.io/ent/dialect"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/ent/apitoken"
	"github.com/taskmind/taskmind/ent/session"
	"github.com/taskmind/taskmind/internal/events"
)

// Revocations are caught as ent hooks rather than in this package's methods:
// users are also disabled and demoted by the GraphQL admin resolvers and the
// CLI, and a hook cannot be forgotten by the next code path that writes.

// maxAnnouncedUsers caps the events of one change; beyond it every replica
// forgets everything, which costs no more than one TTL's worth of lookups.
const maxAnnouncedUsers = 16

// watch makes every change to users, sessions and tokens made through client
// (or a transaction opened from it) forget the cached credentials it touches.
func (s *Service) watch(client *ent.Client) {
	client.User.Use(s.invalidates("", func(ctx context.Context, m ent.Mutation) ([]int, error) {
		return m.(*ent.UserMutation).IDs(ctx)
	}))
	client.Session.Use(s.invalidates(session.FieldLastSeenAt, func(ctx context.Context, m ent.Mutation) ([]int, error) {
		sm := m.(*ent.SessionMutation)
		ids, err := sm.IDs(ctx)
		if err != nil || len(ids) == 0 {
			return nil, err
		}
		return sm.Client().Session.Query().Where(session.IDIn(ids...)).Unique(true).Select(session.FieldUserID).Ints(ctx)
	}))
	client.APIToken.Use(s.invalidates(apitoken.FieldLastUsedAt, func(ctx context.Context, m ent.Mutation) ([]int, error) {
		tm := m.(*ent.APITokenMutation)
		ids, err := tm.IDs(ctx)
		if err != nil || len(ids) == 0 {
			return nil, err
		}
		return tm.Client().APIToken.Query().Where(apitoken.IDIn(ids...)).Unique(true).Select(apitoken.FieldUserID).Ints(ctx)
	}))
}

// txMutation is what every generated mutation offers.
type txMutation interface {
	ent.Mutation
	Client() *ent.Client
	Tx() (*ent.Tx, error)
}

// invalidates returns a hook that, after any update or delete, forgets the
// cached credentials of the users owners names. Creating never revokes, and
// recording a use (the bookkeeping field alone) changes nothing a cache holds
// that it does not track itself.
func (s *Service) invalidates(bookkeeping string, owners func(context.Context, ent.Mutation) ([]int, error)) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if m.Op().Is(ent.OpCreate) || onlySets(m, bookkeeping) {
				return next.Mutate(ctx, m)
			}
			// Asked before the change: afterwards a deleted row is gone and
			// an update may no longer match its own predicates.
			users, err := owners(sys(ctx), m)
			if err != nil {
				return nil, err
			}
			v, err := next.Mutate(ctx, m)
			if err != nil || len(users) == 0 {
				return v, err
			}
			return v, s.announce(ctx, m.(txMutation), users)
		})
	}
}

func onlySets(m ent.Mutation, field string) bool {
	return field != "" && slices.Equal(m.Fields(), []string{field}) && len(m.ClearedFields()) == 0 &&
		len(m.AddedEdges()) == 0 && len(m.RemovedEdges()) == 0 && len(m.ClearedEdges()) == 0
}

// announce forgets users' cached credentials here once the change is
// durable, and tells the other replicas through the same transaction.
func (s *Service) announce(ctx context.Context, m txMutation, users []int) error {
	if len(users) > maxAnnouncedUsers {
		users = []int{0}
	}
	tx, err := m.Tx()
	inTx := err == nil
	if s.dialect == dialect.Postgres {
		for _, u := range users {
			err := events.Notify(ctx, m.Client(), events.Event{Kind: events.CredentialsChanged, UserID: u})
			if err != nil && inTx {
				// The transaction is aborted anyway; failing the change beats
				// committing a revocation other replicas never hear of.
				return err
			}
			if err != nil {
				s.log.WarnContext(ctx, "announcing a credential change failed; other replicas notice within the cache TTL", "user_id", u, "err", err)
			}
		}
	}
	if !inTx {
		s.forget(users)
		return nil
	}
	// Forgetting before the commit would let a request re-read the old row
	// in between and cache it again.
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			s.forget(users)
			return err
		})
	})
	return nil
}

func (s *Service) forget(users []int) {
	for _, u := range users {
		s.cache.forget(u)
	}
}

// Follow keeps the credential cache in step with changes made by other
// replicas, or by the CLI, until ctx ends or the broker closes. Without it
// they are noticed only when cached entries expire.
func (s *Service) Follow(ctx context.Context, b events.Broker) {
	ch := b.Subscribe(ctx)
	// Whatever was cached before subscribing may have missed an event.
	s.cache.forget(0)
	go func() {
		for e := range ch {
			switch e.Kind {
			case events.CredentialsChanged:
				s.cache.forget(e.UserID)
			case events.Resync:
				s.cache.forget(0)
			}
		}
	}()
}
