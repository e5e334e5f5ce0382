package graph

import (
	"context"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/auth"
)

// userAdmin holds the admin operations on users. They run inside the
// mutation's transaction, so a disable and its revocations land together.
type userAdmin struct{ r *Resolver }

func (r *Resolver) users() userAdmin { return userAdmin{r} }

func (a userAdmin) db(ctx context.Context) *ent.Client { return a.r.db(ctx) }

// SetRole changes a user's role, keeping at least one enabled admin.
func (a userAdmin) SetRole(ctx context.Context, id int, role user.Role) (*ent.User, error) {
	c := a.db(ctx)
	u, err := c.User.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.Role == user.RoleAdmin && role != user.RoleAdmin {
		if err := a.keepAnAdmin(ctx, c); err != nil {
			return nil, err
		}
	}
	defer a.r.forgetOwner(id)
	return c.User.UpdateOne(u).SetRole(role).Save(ctx)
}

// SetDisabled disables or re-enables a user; disabling revokes their
// sessions and tokens at once.
func (a userAdmin) SetDisabled(ctx context.Context, id int, disabled bool) (*ent.User, error) {
	c := a.db(ctx)
	if disabled && id == auth.FromContext(ctx).UserID {
		return nil, apperr.New(apperr.Conflict, "you cannot disable yourself")
	}
	defer a.r.forgetOwner(id)
	u, err := c.User.UpdateOneID(id).SetDisabled(disabled).Save(ctx)
	if err != nil {
		return nil, err
	}
	if disabled {
		if err := a.r.Identity.RevokeUser(ctx, id); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (a userAdmin) keepAnAdmin(ctx context.Context, c *ent.Client) error {
	n, err := c.User.Query().Where(user.RoleEQ(user.RoleAdmin), user.Disabled(false)).Count(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return apperr.New(apperr.Conflict, "this is the last admin; make someone else admin first")
	}
	return nil
}
