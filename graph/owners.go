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

// owner returns the user with id, from the cache or the database.
func (r *Resolver) owner(ctx context.Context, id int) (*ent.User, error) {
	if u, ok := r.owners.users.Get(id); ok {
		return u, nil
	}
	u, err := r.Client.User.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	r.owners.users.Add(id, u)
	return u, nil
}

// forgetOwner drops a changed user.
func (r *Resolver) forgetOwner(id int) { r.owners.users.Remove(id) }
