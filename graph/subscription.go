package graph

import (
	"context"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/graph/model"
	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/events"
)

// taskEvents turns broker events into TaskEvents for one subscriber. Each
// created or updated task is loaded with the subscriber's own context, so
// the same read rules apply as for a query; a task the subscriber may not
// read (or that is already gone again) is skipped. The channel is closed
// when the subscriber leaves.
func (r *Resolver) taskEvents(ctx context.Context) <-chan *model.TaskEvent {
	in := r.Events.Subscribe(ctx)
	out := make(chan *model.TaskEvent)
	if r.Metrics != nil {
		r.Metrics.SubscriptionStarted()
	}
	go func() {
		defer close(out)
		if r.Metrics != nil {
			defer r.Metrics.SubscriptionEnded()
		}
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-in:
				if !ok {
					return
				}
				if !e.Kind.IsTask() {
					continue
				}
				ev, ok := r.loadEvent(ctx, e)
				if !ok {
					continue
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

func (r *Resolver) loadEvent(ctx context.Context, e events.Event) (*model.TaskEvent, bool) {
	ev := &model.TaskEvent{ID: e.TaskID, Kind: model.TaskEventKind(e.Kind)}
	if e.Kind == events.Deleted {
		return ev, r.mayKnowAbout(ctx, e.OwnerID)
	}
	t, err := r.Client.Task.Get(ctx, e.TaskID)
	if ent.IsNotFound(err) {
		// Either the subscriber may not read it, or it was deleted since
		// the event was sent. In the second case the subscriber still
		// learns of the change (with no task); a DELETED event follows.
		return ev, r.mayKnowAbout(ctx, e.OwnerID)
	}
	if err != nil {
		if ctx.Err() == nil {
			r.Log.WarnContext(ctx, "loading task for subscription failed", "task_id", e.TaskID, "err", err)
		}
		return nil, false
	}
	ev.Task = t
	return ev, true
}

// mayKnowAbout reports whether the subscriber may learn that a task owned by
// ownerID existed (DELETED events carry no task to load and check).
func (r *Resolver) mayKnowAbout(ctx context.Context, ownerID int) bool {
	return auth.MayReadOwnedBy(auth.FromContext(ctx), ownerID)
}
