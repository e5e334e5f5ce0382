// Command testoidc runs a real OpenID Connect provider (mockoidc) on
// 127.0.0.1 for end-to-end tests and local trials of the sign-in flow. It
// has no login page: each authorization signs in the next queued user, or a
// default one, and redirects straight back.
//
// It prints one JSON line with the issuer and client credentials, then
// serves a small control API on its own port:
//
//	POST /users {"subject": "...", "email": "...", "name": "..."}  queue a user
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/oauth2-proxy/mockoidc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "testoidc:", err)
		os.Exit(1)
	}
}

func run() error {
	m, err := mockoidc.Run()
	if err != nil {
		return err
	}
	defer m.Shutdown()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /users", func(w http.ResponseWriter, r *http.Request) {
		var u struct{ Subject, Email, Name string }
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&u); err != nil || u.Subject == "" {
			http.Error(w, "want {subject, email, name}", http.StatusBadRequest)
			return
		}
		m.QueueUser(&mockoidc.MockUser{Subject: u.Subject, Email: u.Email, EmailVerified: true, PreferredUsername: u.Name})
		w.WriteHeader(http.StatusNoContent)
	})
	go func() { log.Println(http.Serve(ln, mux)) }()

	cfg := m.Config()
	if err := json.NewEncoder(os.Stdout).Encode(map[string]string{
		"issuer": m.Issuer(), "clientId": cfg.ClientID, "clientSecret": cfg.ClientSecret,
		"control": "http://" + ln.Addr().String(),
	}); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}
