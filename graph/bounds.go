package graph

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/taskmind/taskmind/internal/apperr"
)

// Codes of the per-operation cost limits.
const (
	codeRootFields  = "ROOT_FIELD_LIMIT_EXCEEDED"
	codeCostlyField = "COSTLY_FIELD_LIMIT_EXCEEDED"
)

// costlyFields run a model or store one: complexity cannot price them (each
// is a single scalar-ish field), so they are counted on their own.
var costlyFields = map[string]bool{"predict": true, "classifyDigit": true, "uploadModel": true}

// operationBounds caps what one operation may run: its root fields (aliases
// included, so 500 aliases of one field are 500), its costly fields
// anywhere in the document, and refuses NUL bytes and invalid UTF-8 in any
// string argument, literal or variable, on every transport.
type operationBounds struct {
	maxRoot, maxCostly int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operationBounds{}

func (operationBounds) ExtensionName() string                   { return "OperationBounds" }
func (operationBounds) Validate(graphql.ExecutableSchema) error { return nil }

func (b operationBounds) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	root, costly := 0, 0
	countFields(oc.Operation.SelectionSet, true, &root, &costly, 0)
	if b.maxRoot > 0 && root > b.maxRoot {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("operation selects %d root fields (aliases included); the limit is %d", root, b.maxRoot),
			Extensions: map[string]any{"code": codeRootFields},
		}
	}
	if b.maxCostly > 0 && costly > b.maxCostly {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("operation runs inference or upload fields %d times; the limit is %d", costly, b.maxCostly),
			Extensions: map[string]any{"code": codeCostlyField},
		}
	}
	for name, v := range oc.Variables {
		if field, problem := badString(name, v); problem != "" {
			return inputError(field, problem)
		}
	}
	if field, problem := badLiteral(oc.Operation.SelectionSet, 0); problem != "" {
		return inputError(field, problem)
	}
	return nil
}

func inputError(field, problem string) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf("%s %s", field, problem),
		Extensions: map[string]any{"code": string(apperr.BadUserInput), "field": field},
	}
}

// maxFragmentHops stops a walk through fragments early; validation has
// already refused cycles, this only bounds the work of deep spreads.
const maxFragmentHops = 64

func countFields(set ast.SelectionSet, root bool, rootN, costly *int, hops int) {
	if hops > maxFragmentHops {
		return
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if root {
				*rootN++
			}
			if costlyFields[s.Name] {
				*costly++
			}
			countFields(s.SelectionSet, false, rootN, costly, hops)
		case *ast.InlineFragment:
			countFields(s.SelectionSet, root, rootN, costly, hops+1)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				countFields(s.Definition.SelectionSet, root, rootN, costly, hops+1)
			}
		}
	}
}

// badString finds a NUL byte or invalid UTF-8 in a decoded variable value
// and names the innermost key holding it.
func badString(field string, v any) (string, string) {
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return field, "is not valid UTF-8"
		}
		if strings.IndexByte(x, 0) >= 0 {
			return field, "contains a NUL byte"
		}
	case map[string]any:
		for k, e := range x {
			if f, p := badString(k, e); p != "" {
				return f, p
			}
		}
	case []any:
		for _, e := range x {
			if f, p := badString(field, e); p != "" {
				return f, p
			}
		}
	}
	return "", ""
}

func badLiteral(set ast.SelectionSet, hops int) (string, string) {
	if hops > maxFragmentHops {
		return "", ""
	}
	for _, sel := range set {
		var f, p string
		switch s := sel.(type) {
		case *ast.Field:
			for _, arg := range s.Arguments {
				if f, p = badValue(arg.Name, arg.Value); p != "" {
					return f, p
				}
			}
			f, p = badLiteral(s.SelectionSet, hops)
		case *ast.InlineFragment:
			f, p = badLiteral(s.SelectionSet, hops+1)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				f, p = badLiteral(s.Definition.SelectionSet, hops+1)
			}
		}
		if p != "" {
			return f, p
		}
	}
	return "", ""
}

func badValue(field string, v *ast.Value) (string, string) {
	if v == nil {
		return "", ""
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		return badString(field, v.Raw)
	case ast.ObjectValue:
		for _, c := range v.Children {
			if f, p := badValue(c.Name, c.Value); p != "" {
				return f, p
			}
		}
	case ast.ListValue:
		for _, c := range v.Children {
			if f, p := badValue(field, c.Value); p != "" {
				return f, p
			}
		}
	}
	return "", ""
}
