package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/database"
	"github.com/taskmind/taskmind/internal/identity"
)

// firstRunEmail is the admin created when no sign-in provider is set up.
const firstRunEmail = "admin@localhost"

func newIdentity(db *database.DB, cfg config.Config, log *slog.Logger) *identity.Service {
	return identity.New(db.Client, log, identity.Options{
		SessionIdle:   cfg.SessionIdle,
		SessionMaxAge: cfg.SessionMaxAge,
		DefaultRole:   user.Role(cfg.DefaultRole),
		AdminEmails:   cfg.AdminEmails,
		Dialect:       db.Dialect,
		// The option's zero means the default; the setting's means off.
		CredentialCacheTTL: cmp.Or(cfg.CredentialCacheTTL, -1),
	})
}

// baseURL is where browsers reach this server: TASKMIND_BASE_URL, or the
// listen address (with a wildcard host shown as localhost).
func baseURL(cfg config.Config) string {
	if cfg.BaseURL != "" {
		return strings.TrimSuffix(cfg.BaseURL, "/")
	}
	host := cfg.ListenHost
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(cfg.Port))
}

func loginURL(base, token string) string {
	return base + "/auth/link?token=" + url.QueryEscape(token)
}

// printFirstRunLink makes sure an admin exists and prints a one-time
// sign-in link for it, Jupyter-style, since no provider is configured.
// The link goes to the console only, never to the log.
func printFirstRunLink(ctx context.Context, ids *identity.Service, base string, stdout io.Writer) error {
	email := firstRunEmail
	admin, err := ids.EnsureAdminIfNone(ctx, email)
	if err != nil {
		return err
	}
	tok, err := ids.CreateLoginLink(ctx, admin.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n  No sign-in provider is configured. Sign in as %s (valid 15 minutes, once):\n\n      %s\n\n  For a new link later: taskmind login-link --email %s\n\n", admin.Email, loginURL(base, tok), admin.Email)
	return nil
}

func openForCLI(ctx context.Context, getenv func(string) string) (config.Config, *database.DB, *identity.Service, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return cfg, nil, nil, err
	}
	db, err := database.Open(ctx, cfg)
	if err != nil {
		return cfg, nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg, db, newIdentity(db, cfg, log), nil
}

func cmdLoginLink(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("login-link", "Print a one-time sign-in link (15 minutes) for an admin, creating or promoting the account.", stdout)
	email := fs.String("email", "", "the admin's email address (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !strings.Contains(*email, "@") {
		return errors.New("login-link: --email is required, e.g. --email you@example.com")
	}
	cfg, db, ids, err := openForCLI(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := ids.EnsureAdmin(ctx, *email)
	if err != nil {
		return err
	}
	tok, err := ids.CreateLoginLink(ctx, u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, loginURL(baseURL(cfg), tok))
	return nil
}

func cmdToken(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, "Usage: taskmind token create --email EMAIL --name NAME [--expires 720h]")
			return nil
		}
		return errors.New("usage: taskmind token create --email EMAIL --name NAME [--expires 720h]")
	}
	fs := newFlags("token create", "Create an API token for an existing user and print it (shown only once).", stdout)
	email := fs.String("email", "", "the user's email address (required)")
	name := fs.String("name", "", "what the token is for (required)")
	expires := fs.Duration("expires", 0, "lifetime, e.g. 720h; 0 means no expiry")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || *name == "" {
		return errors.New("token create: --email and --name are required")
	}
	_, db, ids, err := openForCLI(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := ids.UserByEmail(ctx, *email)
	if err != nil {
		return fmt.Errorf("token create: no user with email %s", *email)
	}
	var exp *time.Time
	if *expires > 0 {
		t := time.Now().Add(*expires)
		exp = &t
	}
	ctx = auth.NewContext(ctx, auth.Viewer{UserID: u.ID, Role: auth.RoleOf(u.Role)})
	raw, _, err := ids.CreateToken(ctx, u.ID, *name, exp)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, raw)
	return nil
}
