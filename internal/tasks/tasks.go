// Package tasks is the one implementation of what can be done to a task,
// shared by the GraphQL resolvers and the REST API so that both validate,
// version and announce changes the same way.
package tasks

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/ent/task"
	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/events"
)

// Service changes tasks and publishes the changes.
type Service struct {
	client *ent.Client
	events events.Broker
	log    *slog.Logger
}

// NewService returns a Service.
func NewService(client *ent.Client, broker events.Broker, log *slog.Logger) *Service {
	return &Service{client: client, events: broker, log: log}
}

// db returns the transaction's client inside a GraphQL mutation (see
// entgql.Transactioner) and the root client elsewhere.
func (s *Service) db(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return s.client
}

// Create stores a new task.
func (s *Service) Create(ctx context.Context, in ent.CreateTaskInput, ownerID int) (*ent.Task, error) {
	create := s.db(ctx).Task.Create().SetInput(in)
	if ownerID != 0 {
		create.SetOwnerID(ownerID)
	}
	t, err := create.Save(ctx)
	if err != nil {
		return nil, apperr.FromEnt(err, "task")
	}
	s.announce(ctx, events.Event{Kind: events.Created, TaskID: t.ID, OwnerID: t.OwnerID, Version: t.Version})
	return t, nil
}

// Update changes a task. With expectedVersion set, the write happens only if
// the stored version still matches, in the same statement, so two editors
// cannot both win.
func (s *Service) Update(ctx context.Context, id int, in ent.UpdateTaskInput, expectedVersion *int) (*ent.Task, error) {
	return s.update(ctx, id, expectedVersion, func(u *ent.TaskUpdate) { u.SetInput(in) })
}

// SetDone marks a task done or not done.
func (s *Service) SetDone(ctx context.Context, id int, done bool) (*ent.Task, error) {
	return s.update(ctx, id, nil, func(u *ent.TaskUpdate) { u.SetDone(done) })
}

func (s *Service) update(ctx context.Context, id int, expectedVersion *int, apply func(*ent.TaskUpdate)) (*ent.Task, error) {
	c := s.db(ctx)
	u := c.Task.Update().Where(task.ID(id))
	if expectedVersion != nil {
		u.Where(task.Version(*expectedVersion))
	}
	apply(u)
	n, err := u.Save(ctx)
	if err != nil {
		return nil, apperr.FromEnt(err, "task")
	}
	if n == 0 {
		current, err := c.Task.Get(ctx, id)
		if err != nil {
			return nil, apperr.FromEnt(err, "task")
		}
		return nil, &apperr.Error{
			Code:    apperr.Conflict,
			Message: "task was changed by someone else: expected version " + itoa(*expectedVersion) + ", current version " + itoa(current.Version),
		}
	}
	t, err := c.Task.Get(ctx, id)
	if err != nil {
		return nil, apperr.FromEnt(err, "task")
	}
	s.announce(ctx, events.Event{Kind: events.Updated, TaskID: t.ID, OwnerID: t.OwnerID, Version: t.Version})
	return t, nil
}

// Delete removes a task.
func (s *Service) Delete(ctx context.Context, id int) error {
	c := s.db(ctx)
	t, err := c.Task.Get(ctx, id)
	if err != nil {
		return apperr.FromEnt(err, "task")
	}
	if err := c.Task.DeleteOneID(id).Exec(ctx); err != nil {
		return apperr.FromEnt(err, "task")
	}
	s.announce(ctx, events.Event{Kind: events.Deleted, TaskID: id, OwnerID: t.OwnerID})
	return nil
}

// announce publishes e once the change is durable: after the surrounding
// transaction commits, or at once when there is none. A failed publish
// loses only a live-view notification, never data, so it is logged.
func (s *Service) announce(ctx context.Context, e events.Event) {
	publish := func() {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.events.Publish(pctx, e); err != nil {
			s.log.Warn("publishing task event failed", "task_id", e.TaskID, "kind", string(e.Kind), "err", err)
		}
	}
	tx := ent.TxFromContext(ctx)
	if tx == nil {
		publish()
		return
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				publish()
			}
			return err
		})
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
