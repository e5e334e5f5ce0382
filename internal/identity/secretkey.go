package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/taskmind/taskmind/internal/config"
)

// SecretKey is the server's master key; purpose-specific keys are derived
// from it so that one leaked derived key reveals nothing about the others.
type SecretKey []byte

// LoadSecretKey returns TASKMIND_SECRET_KEY, or the key kept in the data
// dir, generating a strong one on first start. generated reports that a new
// key was written (the caller says so in the log).
func LoadSecretKey(cfg config.Config) (key SecretKey, generated bool, err error) {
	if cfg.SecretKey != "" {
		return SecretKey(cfg.SecretKey), false, nil
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		k := strings.TrimSpace(string(b))
		if len(k) < config.MinSecretKeyLen {
			return nil, false, fmt.Errorf("TASKMIND_DATA_DIR: %s holds a key shorter than %d characters; delete it to generate a new one", path, config.MinSecretKeyLen)
		}
		return SecretKey(k), false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("TASKMIND_DATA_DIR: reading %s: %w", path, err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("TASKMIND_DATA_DIR: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, false, err
	}
	k := hex.EncodeToString(raw[:])
	// O_EXCL: two processes starting at once must not each write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadSecretKey(cfg)
	}
	if err != nil {
		return nil, false, fmt.Errorf("TASKMIND_DATA_DIR: writing %s: %w", path, err)
	}
	if _, err := f.WriteString(k + "\n"); err != nil {
		f.Close()
		return nil, false, err
	}
	return SecretKey(k), true, f.Close()
}

// Derive returns a 32-byte key for one purpose.
func (k SecretKey) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("taskmind:" + purpose))
	return m.Sum(nil)
}
