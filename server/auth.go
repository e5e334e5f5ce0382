package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/identity"
	"github.com/taskmind/taskmind/internal/requestid"
)

// sessionCookie holds the browser's session ID. With Secure cookies the
// __Host- prefix also pins it to this exact origin and path.
func (s *Server) sessionCookieName() string {
	if s.deps.Config.SecureCookies {
		return "__Host-taskmind_session"
	}
	return "taskmind_session"
}

// credential is how the caller proved who they are, kept so that a
// long-lived websocket can re-check it while it stays open.
type credential struct {
	kind string // "token" or "session"
	raw  string
}

type credentialKey struct{}

// authenticate turns an Authorization: Bearer token or the session cookie
// into the request's auth.Viewer. A bad token is refused outright (401), so
// a script never silently runs as anonymous; a stale cookie is cleared.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ctx := req.Context()
		var (
			v    auth.Viewer
			cred credential
		)
		if h := req.Header.Get(echo.HeaderAuthorization); h != "" {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				return s.invalidToken(c, "Authorization must be: Bearer <token>")
			}
			var err error
			v, err = s.deps.Identity.TokenViewer(ctx, strings.TrimSpace(tok))
			if errors.Is(err, identity.ErrInvalid) {
				if allowed, _ := s.tokenFailures.Allow(c.RealIP()); !allowed {
					return tooManyRequests(c, time.Minute)
				}
				return s.invalidToken(c, "the API token is invalid, expired or revoked")
			}
			if err != nil {
				return err
			}
			cred = credential{kind: "token", raw: strings.TrimSpace(tok)}
		} else if ck, err := req.Cookie(s.sessionCookieName()); err == nil && ck.Value != "" {
			v, err = s.deps.Identity.SessionViewer(ctx, ck.Value)
			switch {
			case errors.Is(err, identity.ErrInvalid):
				s.clearSessionCookie(c)
				v = auth.Viewer{}
			case err != nil:
				return err
			default:
				cred = credential{kind: "session", raw: ck.Value}
			}
		}
		if v.Role == auth.RoleAnonymous && s.deps.Config.AnonymousRole == "VIEWER" {
			v.Role = auth.RoleViewer
		}
		ctx = auth.NewContext(ctx, v)
		if cred.raw != "" {
			ctx = context.WithValue(ctx, credentialKey{}, cred)
		}
		c.SetRequest(req.WithContext(ctx))
		return next(c)
	}
}

func (s *Server) invalidToken(c echo.Context, msg string) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="taskmind", error="invalid_token"`)
	return &httpError{status: http.StatusUnauthorized, body: restErrorBody{Code: string(apperr.Unauthenticated), Message: msg}}
}

func tooManyRequests(c echo.Context, retry time.Duration) error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())))
	return &httpError{status: http.StatusTooManyRequests, body: restErrorBody{Code: string(apperr.TooManyRequests), Message: "too many attempts; try again later"}}
}

// requireViewer answers 401 for anonymous callers on REST routes.
func (s *Server) requireViewer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if auth.FromContext(c.Request().Context()).Role == auth.RoleAnonymous {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="taskmind"`)
			return &httpError{status: http.StatusUnauthorized, body: restErrorBody{
				Code: string(apperr.Unauthenticated), Message: "sign in or send an API token (Authorization: Bearer <token>)"}}
		}
		return next(c)
	}
}

// loginLimiter bounds sign-in attempts per client IP.
func (s *Server) loginLimiter() echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Every(6 * time.Second), Burst: 20, ExpiresIn: 10 * time.Minute,
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return tooManyRequests(c, 10*time.Second)
		},
	})
}

func (s *Server) setSessionCookie(c echo.Context, raw string) {
	c.SetCookie(&http.Cookie{
		Name: s.sessionCookieName(), Value: raw, Path: "/",
		MaxAge: int(s.deps.Config.SessionMaxAge.Seconds()), HttpOnly: true,
		Secure: s.deps.Config.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: s.sessionCookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.deps.Config.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// authProviders tells the sign-in page what to offer.
func (s *Server) authProviders(c echo.Context) error {
	ps := s.deps.OAuth.Providers()
	if ps == nil {
		ps = []identity.Provider{}
	}
	return c.JSON(http.StatusOK, map[string]any{"providers": ps, "loginLink": len(ps) == 0})
}

func (s *Server) authBegin(c echo.Context) error {
	redirect, ok := identity.SafeRedirect(c.QueryParam("redirect"))
	if !ok {
		return badRequest("redirect", "redirect must be a path on this site, such as /board")
	}
	err := s.deps.OAuth.Begin(c.Response(), c.Request(), c.Param("provider"), s.baseURL(), redirect)
	if errors.Is(err, identity.ErrUnknownProvider) {
		return &httpError{status: http.StatusNotFound, body: restErrorBody{Code: string(apperr.NotFound), Message: err.Error()}}
	}
	if err != nil {
		s.deps.Log.ErrorContext(c.Request().Context(), "starting sign-in failed", "request_id", requestid.From(c.Request().Context()), "provider", c.Param("provider"), "err", err)
		return &httpError{status: http.StatusBadGateway, body: restErrorBody{Code: "PROVIDER_UNAVAILABLE", Message: "the sign-in provider is unavailable; try again later"}}
	}
	return nil
}

func (s *Server) authCallback(c echo.Context) error {
	ctx := c.Request().Context()
	provider := c.Param("provider")
	ext, redirect, err := s.deps.OAuth.Complete(c.Response(), c.Request(), provider)
	if errors.Is(err, identity.ErrUnknownProvider) {
		return &httpError{status: http.StatusNotFound, body: restErrorBody{Code: string(apperr.NotFound), Message: err.Error()}}
	}
	if err != nil {
		s.deps.Log.WarnContext(ctx, "sign-in refused", "request_id", requestid.From(ctx), "provider", provider, "err", err)
		return &httpError{status: http.StatusBadRequest, body: restErrorBody{Code: "SIGN_IN_FAILED", Message: "sign-in failed or expired; start again"}}
	}
	u, err := s.deps.Identity.SignInExternal(ctx, ext)
	if errors.Is(err, identity.ErrInvalid) {
		return &httpError{status: http.StatusForbidden, body: restErrorBody{Code: string(apperr.Forbidden), Message: "this account is disabled"}}
	}
	if err != nil {
		return err
	}
	return s.startSession(c, u.ID, redirect)
}

// authLink redeems a one-time sign-in link.
func (s *Server) authLink(c echo.Context) error {
	userID, err := s.deps.Identity.RedeemLoginLink(c.Request().Context(), c.QueryParam("token"))
	if errors.Is(err, identity.ErrInvalid) {
		return &httpError{status: http.StatusUnauthorized, body: restErrorBody{Code: string(apperr.Unauthenticated),
			Message: "this sign-in link is invalid, used or expired; run: taskmind login-link --email you@example.com"}}
	}
	if err != nil {
		return err
	}
	return s.startSession(c, userID, "/board")
}

func (s *Server) startSession(c echo.Context, userID int, redirect string) error {
	ctx := c.Request().Context()
	// Rotate: drop whatever session the browser had before signing in.
	if ck, err := c.Request().Cookie(s.sessionCookieName()); err == nil {
		_ = s.deps.Identity.DeleteSession(ctx, ck.Value)
	}
	raw, err := s.deps.Identity.CreateSession(ctx, userID)
	if err != nil {
		return err
	}
	s.setSessionCookie(c, raw)
	if r, ok := identity.SafeRedirect(redirect); ok && r != "/" {
		redirect = r
	} else {
		redirect = "/board"
	}
	return c.Redirect(http.StatusSeeOther, redirect)
}

// authLogout ends the session. It is POST only and refuses cross-site
// origins, so another site cannot sign a user out.
func (s *Server) authLogout(c echo.Context) error {
	if o := c.Request().Header.Get(echo.HeaderOrigin); o != "" && !s.sameOrigin(c, o) {
		return &httpError{status: http.StatusForbidden, body: restErrorBody{Code: string(apperr.Forbidden), Message: "cross-site sign-out refused"}}
	}
	if ck, err := c.Request().Cookie(s.sessionCookieName()); err == nil {
		if err := s.deps.Identity.DeleteSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	s.clearSessionCookie(c)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) sameOrigin(c echo.Context, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if u.Host == c.Request().Host {
		return true
	}
	for _, o := range s.deps.Config.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// baseURL is the public origin for callbacks and sign-in links.
func (s *Server) baseURL() string { return s.deps.BaseURL }

// websocketInit authenticates a websocket: a token in connection_init
// wins, else the session cookie sent with the upgrade. While the socket is
// open the credential is re-checked every few seconds, so a sign-out, a
// revoked token or a disabled user closes it promptly on every replica.
func (s *Server) websocketInit(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	v := auth.FromContext(ctx)
	cred, _ := ctx.Value(credentialKey{}).(credential)
	if h := p.Authorization(); h != "" {
		tok := strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
		tv, err := s.deps.Identity.TokenViewer(ctx, tok)
		if err != nil {
			return ctx, nil, errors.New("invalid_token")
		}
		v, cred = tv, credential{kind: "token", raw: tok}
		ctx = auth.NewContext(ctx, v)
	}
	if v.Role == auth.RoleAnonymous {
		return ctx, nil, errors.New("unauthenticated: sign in or pass Authorization in connection_init")
	}
	if cred.raw == "" {
		return ctx, nil, nil // anonymous demo viewer: nothing to revoke
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				check := s.deps.Identity.SessionViewer
				if cred.kind == "token" {
					check = s.deps.Identity.TokenViewer
				}
				if _, err := check(ctx, cred.raw); errors.Is(err, identity.ErrInvalid) {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, nil, nil
}
