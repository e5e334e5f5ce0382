package events

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/taskmind/taskmind/internal/dbtest"
)

func TestLocalFanOut(t *testing.T) {
	b := NewLocal()
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	a, c := b.Subscribe(ctx), b.Subscribe(context.Background())
	want := Event{Kind: Created, TaskID: 7, OwnerID: 3, Version: 1}
	if err := b.Publish(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan Event{a, c} {
		select {
		case got := <-ch:
			if got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		case <-time.After(time.Second):
			t.Fatal("event not delivered")
		}
	}
	cancel()
	select {
	case _, ok := <-a:
		if ok {
			t.Fatal("got an event after the subscriber left, want a closed channel")
		}
	case <-time.After(time.Second):
		t.Fatal("subscription not closed when its context ended")
	}
	b.Close()
	if _, ok := <-c; ok {
		t.Fatal("subscription still open after Close")
	}
}

// A subscriber that never reads must not block publishers or the others:
// its events are dropped once its buffer is full.
func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	b := NewLocal()
	defer b.Close()
	_ = b.Subscribe(context.Background()) // never read
	fast := b.Subscribe(context.Background())
	done := make(chan struct{})
	go func() {
		for i := range subscriberBuffer * 3 {
			_ = b.Publish(context.Background(), Event{Kind: Updated, TaskID: i})
			<-fast // the fast subscriber keeps up
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("publishing blocked on a subscriber that does not read")
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, e := range []Event{{Kind: Deleted, TaskID: 1 << 40}, {Kind: ModelChanged, Model: "digits"}, {Kind: CredentialsChanged, UserID: 9}} {
		s, err := encode(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decode(s)
		if err != nil || got != e {
			t.Fatalf("round trip: got %+v (%v), want %+v", got, err, e)
		}
	}
	if _, err := decode("not json"); err == nil {
		t.Fatal("decode accepted garbage")
	}
}

// Notify sent inside a transaction is delivered when it commits, never when
// it rolls back, and a broker's own publishes arrive alike.
func TestNotifyFollowsTheTransaction(t *testing.T) {
	db := dbtest.Open(t, dbtest.Postgres(t))
	p, err := NewPostgres(db.SQL, db.DSN, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ch := p.Subscribe(context.Background())
	ctx := context.Background()
	for _, commit := range []bool{false, true} {
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := Notify(ctx, tx, Event{Kind: CredentialsChanged, UserID: 42}); err != nil {
			t.Fatal(err)
		}
		end := tx.Rollback
		if commit {
			end = tx.Commit
		}
		if err := end(); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Publish(ctx, Event{Kind: CredentialsChanged}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []Event{{Kind: CredentialsChanged, UserID: 42}, {Kind: CredentialsChanged}} {
		select {
		case got := <-ch:
			if got != want {
				t.Fatalf("got %+v, want %+v (a rolled-back notification must not arrive)", got, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("got nothing, want %+v", want)
		}
	}
}
