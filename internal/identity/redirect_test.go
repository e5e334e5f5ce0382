package identity

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeRedirect(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"", "/", true},
		{"/board", "/board", true},
		{"/board?filter=done#top", "/board?filter=done#top", true},
		{"https://evil.example/", "", false},
		{"//evil.example", "", false},
		{"/\\evil.example", "", false},
		{"\\\\evil.example", "", false},
		{"javascript:alert(1)", "", false},
		{"evil", "", false},
		{"/ok\r\nSet-Cookie: x=1", "", false},
		{"/" + strings.Repeat("a", 600), "", false},
	} {
		got, ok := SafeRedirect(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("SafeRedirect(%q): got %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzSafeRedirect checks the one property that matters: whatever is
// accepted stays on this site when a browser resolves it.
func FuzzSafeRedirect(f *testing.F) {
	for _, s := range []string{"/board", "//x", "/\\x", "https://x", "/%2F%2Fx", "/a/../..//x", "/\t/x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://taskmind.example/")
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := SafeRedirect(in)
		if !ok {
			return
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", out, err)
		}
		if r := base.ResolveReference(u); r.Host != base.Host || r.Scheme != base.Scheme {
			t.Fatalf("accepted %q, which leads to %s", in, r)
		}
	})
}
