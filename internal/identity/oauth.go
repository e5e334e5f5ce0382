package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/markbates/goth"
	"github.com/markbates/goth/gothic"
	"github.com/markbates/goth/providers/github"
	"github.com/markbates/goth/providers/google"
	"github.com/markbates/goth/providers/openidConnect"

	"github.com/taskmind/taskmind/internal/config"
)

// Provider is an enabled sign-in option, as the login page lists it.
type Provider struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

// OAuth runs the OAuth / OpenID Connect dance through goth. goth keeps its
// providers and cookie store in package variables; this type is the one
// place that sets them, once, at start-up.
type OAuth struct {
	cfg       config.Config
	log       *slog.Logger
	providers []Provider
	flow      *securecookie.SecureCookie

	mu       sync.Mutex
	oidcOK   bool
	verifier *oidc.IDTokenVerifier
}

// flowCookie carries what the callback must check, beside gothic's state:
// the PKCE verifier and where to go afterwards.
const flowCookie = "taskmind_oauth"

type flowState struct {
	Provider string
	Verifier string
	Redirect string
}

// ErrUnknownProvider is returned for a provider that is not enabled.
var ErrUnknownProvider = errors.New("unknown or disabled sign-in provider")

// CallbackURL is where a provider sends the browser back.
func CallbackURL(baseURL, provider string) string {
	return strings.TrimSuffix(baseURL, "/") + "/auth/" + provider + "/callback"
}

// SetupOAuth configures goth from cfg. An OpenID Connect issuer that cannot
// be reached yet does not stop start-up: discovery is retried on the next
// sign-in attempt, so a provider outage never takes the whole app down.
func SetupOAuth(ctx context.Context, cfg config.Config, key SecretKey, baseURL string, log *slog.Logger) *OAuth {
	store := sessions.NewCookieStore(key.Derive("gothic-hash"), key.Derive("gothic-block"))
	store.Options = &sessions.Options{
		Path: "/auth", MaxAge: 600, HttpOnly: true, Secure: cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	}
	gothic.Store = store
	gothic.SetState = func(*http.Request) string { return randomString() }

	o := &OAuth{cfg: cfg, log: log}
	o.flow = securecookie.New(key.Derive("oauth-flow-hash"), key.Derive("oauth-flow-block"))
	o.flow.MaxAge(600)

	var ps []goth.Provider
	if cfg.GitHubKey != "" {
		ps = append(ps, github.New(cfg.GitHubKey, cfg.GitHubSecret, CallbackURL(baseURL, "github"), "read:user", "user:email"))
		o.providers = append(o.providers, Provider{Name: "github", Label: "GitHub"})
	}
	if cfg.GoogleKey != "" {
		ps = append(ps, google.New(cfg.GoogleKey, cfg.GoogleSecret, CallbackURL(baseURL, "google"), "openid", "email", "profile"))
		o.providers = append(o.providers, Provider{Name: "google", Label: "Google"})
	}
	goth.ClearProviders()
	goth.UseProviders(ps...)
	if cfg.OIDCIssuer != "" {
		o.providers = append(o.providers, Provider{Name: "oidc", Label: cfg.OIDCName})
		if err := o.ensureOIDC(ctx, baseURL); err != nil {
			log.Error("OpenID Connect issuer unreachable; will retry at the next sign-in", "issuer", cfg.OIDCIssuer, "err", err)
		}
	}
	return o
}

// ensureOIDC sets up the generic OpenID Connect provider if it is not yet.
func (o *OAuth) ensureOIDC(ctx context.Context, baseURL string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.oidcOK {
		return nil
	}
	issuer := strings.TrimSuffix(o.cfg.OIDCIssuer, "/")
	p, err := openidConnect.New(o.cfg.OIDCClientID, o.cfg.OIDCSecret, CallbackURL(baseURL, "oidc"),
		issuer+"/.well-known/openid-configuration", "email", "profile")
	if err != nil {
		return err
	}
	p.SetName("oidc")
	// goth does not check ID token signatures; go-oidc does.
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	op, err := oidc.NewProvider(dctx, issuer)
	if err != nil {
		return err
	}
	o.verifier = op.Verifier(&oidc.Config{ClientID: o.cfg.OIDCClientID})
	goth.UseProviders(p)
	o.oidcOK = true
	return nil
}

// Providers lists the enabled providers.
func (o *OAuth) Providers() []Provider { return o.providers }

func (o *OAuth) enabled(name string) bool {
	for _, p := range o.providers {
		if p.Name == name {
			return true
		}
	}
	return false
}

// Begin redirects the browser to the provider. redirect must already be a
// validated same-origin path.
func (o *OAuth) Begin(w http.ResponseWriter, r *http.Request, provider, baseURL, redirect string) error {
	if !o.enabled(provider) {
		return ErrUnknownProvider
	}
	if provider == "oidc" {
		if err := o.ensureOIDC(r.Context(), baseURL); err != nil {
			o.log.ErrorContext(r.Context(), "OpenID Connect issuer unreachable", "err", err)
			return fmt.Errorf("sign-in provider unavailable: %w", err)
		}
	}
	r = gothic.GetContextWithProvider(r, provider)
	authURL, err := gothic.GetAuthURL(w, r)
	if err != nil {
		return err
	}
	st := flowState{Provider: provider, Redirect: redirect}
	if provider == "oidc" {
		// PKCE (S256): goth's OpenID Connect provider passes code_verifier
		// on to the token request; GitHub's and Google's goth providers do
		// not, so PKCE is used where it is supported end to end.
		st.Verifier = randomString()
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		q := u.Query()
		sum := sha256.Sum256([]byte(st.Verifier))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
		u.RawQuery = q.Encode()
		authURL = u.String()
	}
	enc, err := o.flow.Encode(flowCookie, st)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: flowCookie, Value: enc, Path: "/auth", MaxAge: 600,
		HttpOnly: true, Secure: o.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

// Complete finishes the dance on the callback and returns the user as the
// provider describes them, plus where to send the browser. Missing or
// tampered state, or a flow cookie for another provider, fail.
func (o *OAuth) Complete(w http.ResponseWriter, r *http.Request, provider string) (External, string, error) {
	if !o.enabled(provider) {
		return External{}, "", ErrUnknownProvider
	}
	c, err := r.Cookie(flowCookie)
	if err != nil {
		return External{}, "", errors.New("sign-in flow expired or not started here")
	}
	var st flowState
	if err := o.flow.Decode(flowCookie, c.Value, &st); err != nil || st.Provider != provider {
		return External{}, "", errors.New("sign-in flow cookie invalid")
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: "/auth", MaxAge: -1, HttpOnly: true, Secure: o.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})

	r = gothic.GetContextWithProvider(r, provider)
	if st.Verifier != "" {
		r = r.Clone(r.Context())
		q := r.URL.Query()
		q.Set("code_verifier", st.Verifier)
		r.URL.RawQuery = q.Encode()
	}
	if r.URL.Query().Get("state") == "" {
		return External{}, "", errors.New("state missing")
	}
	gu, err := gothic.CompleteUserAuth(w, r)
	if err != nil {
		return External{}, "", err
	}
	if provider == "oidc" {
		o.mu.Lock()
		v := o.verifier
		o.mu.Unlock()
		idt, err := v.Verify(r.Context(), gu.IDToken)
		if err != nil {
			return External{}, "", fmt.Errorf("ID token rejected: %w", err)
		}
		if idt.Subject != gu.UserID {
			return External{}, "", errors.New("ID token subject does not match the user info")
		}
	}
	name := gu.Name
	if name == "" {
		name = strings.TrimSpace(gu.FirstName + " " + gu.LastName)
	}
	if name == "" {
		name = gu.NickName
	}
	return External{Provider: provider, Subject: gu.UserID, Email: gu.Email, Name: name, AvatarURL: gu.AvatarURL}, st.Redirect, nil
}

func randomString() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// SafeRedirect accepts only same-origin relative paths ("/board"), so the
// post-login redirect cannot send a user to another site.
func SafeRedirect(p string) (string, bool) {
	if p == "" {
		return "/", true
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsAny(p, "\\\r\n\t") || len(p) > 512 {
		return "", false
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "", false
	}
	return p, true
}
