package graph

import (
	"context"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/taskmind/taskmind/ent"
)

// ownerCache remembers task owners for a second. Every page of tasks shows
// its owners, and for a member they are all the member: without the cache
// each page costs a second database query. Only display data comes from
// here (no permission is ever decided from it), and whoever may see a task
// may see its owner, so a hit leaks nothing; at worst a renamed user shows
// the old name for a second on other replicas. Changes made here drop the
// entry at once.
type ownerCache struct {
	users *expirable.LRU[int, *ent.User]
}

const (
	ownerCacheSize = 10000
	ownerCacheTTL  = time.Second
)

func newOwnerCache() *ownerCache {
	return &ownerCache{users: expirable.NewLRU[int, *ent.User](ownerCacheSize, nil, ownerCacheTTL)}
}

// owner returns the user with id, from the cache or the database. Inside a
// mutation it reads through the mutation's transaction: the transaction
// already holds a pool connection, and asking the pool for another one
// while holding it deadlocks as soon as every connection is held by a
// mutation waiting the same way. What a transaction reads is not cached,
// since it may yet roll back.
func (r *Resolver) owner(ctx context.Context, id int) (*ent.User, error) {
	if u, ok := r.owners.users.Get(id); ok {
		return u, nil
	}
	if tx := ent.FromContext(ctx); tx != nil {
		return tx.User.Get(ctx, id)
	}
	u, err := r.Client.User.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	r.owners.users.Add(id, u)
	return u, nil
}

// db is the client to read with: the mutation's transaction when there is
// one (see owner), otherwise the pool.
func (r *Resolver) db(ctx context.Context) *ent.Client {
	if tx := ent.FromContext(ctx); tx != nil {
		return tx
	}
	return r.Client
}

// forgetOwner drops a changed user.
func (r *Resolver) forgetOwner(id int) { r.owners.users.Remove(id) }
