package registry

import (
	"context"
	"sync"

	"github.com/taskmind/taskmind/ent"
)

// recorder writes prediction rows with group commit: concurrent requests'
// rows go to the database in one bulk insert, and each request returns only
// once its own row is stored. Under load this turns hundreds of single-row
// transactions (serialised on SQLite's one writer) into a few, so inference
// is not throttled by bookkeeping, and no acknowledged prediction is lost.
type recorder struct {
	client  *ent.Client
	queue   chan pending
	once    sync.Once
	maxRows int
}

type pending struct {
	row  *ent.PredictionCreate
	done chan error
}

func newRecorder(client *ent.Client) *recorder {
	return &recorder{client: client, queue: make(chan pending, 1024), maxRows: 256}
}

// record stores row (built on the recorder's client) and waits for it.
func (r *recorder) record(ctx context.Context, row *ent.PredictionCreate) error {
	r.once.Do(func() { go r.loop() })
	p := pending{row: row, done: make(chan error, 1)}
	select {
	case r.queue <- p:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loop takes whatever is queued (at least one row) and stores it at once;
// while a batch is being written the next one accumulates.
func (r *recorder) loop() {
	for first := range r.queue {
		batch := []pending{first}
	fill:
		for len(batch) < r.maxRows {
			select {
			case p := <-r.queue:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		rows := make([]*ent.PredictionCreate, len(batch))
		for i, p := range batch {
			rows[i] = p.row
		}
		err := r.client.Prediction.CreateBulk(rows...).Exec(systemCtx())
		for _, p := range batch {
			p.done <- err
		}
	}
}
