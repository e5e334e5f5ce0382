package deploy

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"
)

// The files are embedded so that a test in any package can call Expressions
// without knowing where the repository lies on disk.
var (
	//go:embed grafana/dashboards/taskmind.json
	dashboardJSON []byte
	//go:embed prometheus/alerts.yml
	alertsYAML []byte
)

// Kind tells where an expression comes from, and so what a result means.
type Kind string

const (
	// KindPanel is a query of a dashboard panel. After some traffic it
	// should return data.
	KindPanel Kind = "panel"
	// KindVariable is the series selector of a dashboard variable's
	// label_values() query; it returns data as soon as Taskmind is scraped.
	KindVariable Kind = "variable"
	// KindAlert is an alerting or recording rule. An alert's expression is
	// its firing condition: an empty result means "not firing", not an error.
	KindAlert Kind = "alert"
)

// Expression is one PromQL expression, ready to send to Prometheus.
type Expression struct {
	Kind Kind
	// Source names the expression for messages, e.g.
	// `dashboard panel "Requests by route" (A)` or `alert TaskmindHighErrorRate`.
	Source string
	// Query is the PromQL text, with Grafana's variables replaced by
	// concrete values (see Expressions).
	Query string
}

// Expressions returns every PromQL expression of the Grafana dashboard and
// of the alert rules. Grafana's variables are replaced so that Prometheus
// can evaluate the queries as they are: the interval variables
// ($__rate_interval, $__interval, $__range) by rateInterval, and each
// dashboard variable by its "All" value, which selects every job and instance.
//
// rateInterval must cover at least two scrapes for rate() to return data:
// with a 1 s scrape interval, 15s is ample.
func Expressions(rateInterval time.Duration) ([]Expression, error) {
	if rateInterval <= 0 {
		return nil, fmt.Errorf("rate interval %v: must be positive", rateInterval)
	}
	dash, err := dashboardExpressions(dashboardJSON, model.Duration(rateInterval).String())
	if err != nil {
		return nil, fmt.Errorf("grafana/dashboards/taskmind.json: %w", err)
	}
	rules, err := ruleExpressions(alertsYAML)
	if err != nil {
		return nil, fmt.Errorf("prometheus/alerts.yml: %w", err)
	}
	return append(dash, rules...), nil
}

// dashboard is the part of Grafana's dashboard model that holds queries.
type dashboard struct {
	Templating struct {
		List []templateVar `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type templateVar struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Definition string `json:"definition"`
	IncludeAll bool   `json:"includeAll"`
	AllValue   string `json:"allValue"`
}

type panel struct {
	ID      int      `json:"id"`
	Type    string   `json:"type"`
	Title   string   `json:"title"`
	Targets []target `json:"targets"`
	// Panels holds the children of a collapsed row.
	Panels []panel `json:"panels"`
}

type target struct {
	RefID string `json:"refId"`
	Expr  string `json:"expr"`
}

// labelValues matches Grafana's label_values(selector, label) variable query.
var labelValues = regexp.MustCompile(`^\s*label_values\(\s*(.+?)\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$`)

func dashboardExpressions(data []byte, interval string) ([]Expression, error) {
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	vars := map[string]string{
		"__rate_interval": interval,
		"__interval":      interval,
		"__range":         interval,
	}
	var queries []templateVar
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			// Chooses where queries go; it never appears inside PromQL.
		case "query":
			if !v.IncludeAll || v.AllValue == "" {
				return nil, fmt.Errorf("variable %q: want includeAll with an allValue, so that queries can be expanded to select everything", v.Name)
			}
			vars[v.Name] = v.AllValue
			queries = append(queries, v)
		default:
			return nil, fmt.Errorf("variable %q: type %q is not handled by Expressions", v.Name, v.Type)
		}
	}

	var out []Expression
	for _, v := range queries {
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			return nil, fmt.Errorf("variable %q: query %q is not label_values(selector, label)", v.Name, v.Definition)
		}
		q, err := expandVariables(m[1], vars)
		if err != nil {
			return nil, fmt.Errorf("variable %q: %w", v.Name, err)
		}
		out = append(out, Expression{Kind: KindVariable, Source: fmt.Sprintf("dashboard variable %q", v.Name), Query: q})
	}

	var walk func([]panel) error
	walk = func(ps []panel) error {
		for _, p := range ps {
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) == "" {
					return fmt.Errorf("panel %q (%s): empty expression", p.Title, t.RefID)
				}
				q, err := expandVariables(t.Expr, vars)
				if err != nil {
					return fmt.Errorf("panel %q (%s): %w", p.Title, t.RefID, err)
				}
				out = append(out, Expression{
					Kind:   KindPanel,
					Source: fmt.Sprintf("dashboard panel %q (%s)", p.Title, t.RefID),
					Query:  q,
				})
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return nil, err
	}
	return out, nil
}

// grafanaVariable matches $name, ${name} and ${name:format}.
var grafanaVariable = regexp.MustCompile(`\$(?:\{([A-Za-z0-9_]+)(?::[A-Za-z0-9_]+)?\}|([A-Za-z0-9_]+))`)

// expandVariables replaces Grafana variables by their values. An unknown
// variable is an error: left in place it would reach Prometheus as invalid
// PromQL, or worse, as a valid regular expression that matches nothing.
func expandVariables(expr string, vars map[string]string) (string, error) {
	var unknown []string
	out := grafanaVariable.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVariable.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		v, ok := vars[name]
		if !ok {
			unknown = append(unknown, m)
			return m
		}
		return v
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown Grafana variable %s in %q", strings.Join(unknown, ", "), expr)
	}
	return out, nil
}

// ruleFile is Prometheus's rule file format, reduced to what names and holds
// an expression.
type ruleFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert  string `json:"alert"`
			Record string `json:"record"`
			Expr   string `json:"expr"`
		} `json:"rules"`
	} `json:"groups"`
}

func ruleExpressions(data []byte) ([]Expression, error) {
	var f ruleFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	var out []Expression
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			name := r.Alert
			source := "alert " + r.Alert
			if name == "" {
				name = r.Record
				source = "recording rule " + r.Record
			}
			if name == "" {
				return nil, fmt.Errorf("group %q: a rule has neither alert nor record", g.Name)
			}
			if strings.TrimSpace(r.Expr) == "" {
				return nil, fmt.Errorf("group %q, %s: empty expression", g.Name, source)
			}
			out = append(out, Expression{Kind: KindAlert, Source: source, Query: strings.TrimSpace(r.Expr)})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no rules")
	}
	return out, nil
}
