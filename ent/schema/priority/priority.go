// Package priority defines a task's priority. It is stored as a small
// integer so that ordering by priority in SQL means LOW < MEDIUM < HIGH,
// and it is exposed to GraphQL as the enum TaskPriority.
package priority

import (
	"fmt"
	"io"
	"strconv"
)

// Priority is a task's priority; the zero value is invalid on purpose so a
// forgotten assignment is caught by validation instead of meaning "low".
type Priority int

// The priorities, in ascending order of urgency.
const (
	Low    Priority = 1
	Medium Priority = 2
	High   Priority = 3
)

var names = map[Priority]string{Low: "LOW", Medium: "MEDIUM", High: "HIGH"}

// Values lists every valid priority name, in ascending order.
func Values() []string { return []string{"LOW", "MEDIUM", "HIGH"} }

// Parse turns a GraphQL or REST name into a Priority.
func Parse(s string) (Priority, error) {
	for p, n := range names {
		if n == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%q is not a valid priority (LOW, MEDIUM, HIGH)", s)
}

// String returns the GraphQL name.
func (p Priority) String() string {
	if n, ok := names[p]; ok {
		return n
	}
	return "Priority(" + strconv.Itoa(int(p)) + ")"
}

// Valid reports whether p is one of the defined priorities.
func (p Priority) Valid() bool { _, ok := names[p]; return ok }

// MarshalGQL implements graphql.Marshaler.
func (p Priority) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(p.String())) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (p *Priority) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("priority must be a string, got %T", v)
	}
	parsed, err := Parse(s)
	if err != nil {
		return err
	}
	*p = parsed
	return nil
}

// MarshalText lets encoding/json (the REST API) use the names too.
func (p Priority) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("invalid priority %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText parses a name.
func (p *Priority) UnmarshalText(b []byte) error {
	parsed, err := Parse(string(b))
	if err != nil {
		return err
	}
	*p = parsed
	return nil
}
