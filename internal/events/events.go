// Package events carries change notifications (a task changed, a model
// changed, credentials were revoked) to every subscriber on every replica:
// in-process for SQLite (one process owns the file), and through PostgreSQL
// LISTEN/NOTIFY when replicas share a database.
package events

import (
	"context"
	"encoding/json"
	"sync"
)

// Kind says what happened to a task.
type Kind string

// The event kinds.
const (
	Created Kind = "CREATED"
	Updated Kind = "UPDATED"
	Deleted Kind = "DELETED"
	// ModelChanged says the model registry changed (upload, delete), so
	// every replica reloads that model from the database.
	ModelChanged Kind = "MODEL"
	// CredentialsChanged says a user's sessions, tokens, role or status
	// changed, so every replica forgets what it cached about them (UserID
	// 0: about everyone).
	CredentialsChanged Kind = "CREDENTIALS"
	// Resync is never published: a broker hands it to its subscribers when
	// events may have been lost (its database connection dropped), so that
	// whoever keeps state built from events throws it away.
	Resync Kind = "RESYNC"
)

// IsTask reports whether the event is about a task.
func (k Kind) IsTask() bool { return k == Created || k == Updated || k == Deleted }

// Event is one change. It carries ids only: subscribers load the task (or
// model) themselves, with their own permissions, so nothing private travels
// through the channel.
type Event struct {
	Kind    Kind `json:"k"`
	TaskID  int  `json:"t"`
	OwnerID int  `json:"o,omitempty"`
	// Version lets a subscriber drop a stale reload.
	Version int `json:"v,omitempty"`
	// Model names the model of a ModelChanged event.
	Model string `json:"m,omitempty"`
	// UserID names the user of a CredentialsChanged event.
	UserID int `json:"u,omitempty"`
}

// Broker publishes events and fans them out to local subscribers.
type Broker interface {
	// Publish sends e to every subscriber on every replica. It is called
	// after the change is committed.
	Publish(ctx context.Context, e Event) error
	// Subscribe returns a channel of events that is closed when ctx ends.
	Subscribe(ctx context.Context) <-chan Event
	// Close stops the broker and closes every subscription.
	Close() error
}

// subscriberBuffer is how many events a slow subscriber may lag behind before
// events are dropped for it (a live view then refetches; blocking would let one
// slow client stall everyone).
const subscriberBuffer = 64

// hub is the in-process fan-out shared by both brokers.
type hub struct {
	mu     sync.Mutex
	subs   map[chan Event]struct{}
	closed bool
}

func newHub() *hub { return &hub{subs: make(map[chan Event]struct{})} }

func (h *hub) subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, subscriberBuffer)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(ch)
		return ch
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.remove(ch)
	}()
	return ch
}

func (h *hub) remove(ch chan Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
	}
}

func (h *hub) broadcast(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default: // subscriber too slow: drop rather than block everyone
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		delete(h.subs, ch)
		close(ch)
	}
}

// Local is the in-process broker, for a single process.
type Local struct{ h *hub }

// NewLocal returns an in-process broker.
func NewLocal() *Local { return &Local{h: newHub()} }

// Publish implements Broker.
func (l *Local) Publish(_ context.Context, e Event) error { l.h.broadcast(e); return nil }

// Subscribe implements Broker.
func (l *Local) Subscribe(ctx context.Context) <-chan Event { return l.h.subscribe(ctx) }

// Close implements Broker.
func (l *Local) Close() error { l.h.close(); return nil }

func encode(e Event) (string, error) {
	b, err := json.Marshal(e)
	return string(b), err
}

func decode(s string) (Event, error) {
	var e Event
	err := json.Unmarshal([]byte(s), &e)
	return e, err
}
