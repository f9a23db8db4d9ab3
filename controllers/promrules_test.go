package controllers

import (
	"fmt"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/yaml"
)

// A small reader of Prometheus alerting rules, enough to tell which metrics and labels a rule
// file uses (the promql parser lives in github.com/prometheus/prometheus, too heavy a
// dependency for this): the metrics specs check them against a scrape of the operator.

// ruleFile is a PrometheusRule (config/prometheus/rule.yaml); an unknown field is an error.
type ruleFile struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		Groups []ruleGroup `json:"groups"`
	} `json:"spec"`
}

type ruleGroup struct {
	Name  string     `json:"name"`
	Rules []promRule `json:"rules"`
}

type promRule struct {
	Alert       string            `json:"alert,omitempty"`
	Record      string            `json:"record,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// readRules returns the rules of a PrometheusRule file.
func readRules(path string) ([]promRule, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f ruleFile
	if err := yaml.UnmarshalStrict(raw, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var rules []promRule
	for _, g := range f.Spec.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules, nil
}

// matcher is a label matcher of a vector selector: label op "value", op one of = != =~ !~.
type promMatcher struct{ label, op, value string }

// selector is a vector selector: a metric name and its label matchers.
type promSelector struct {
	metric   string
	matchers []promMatcher
}

// exprRefs are what a PromQL expression reads: its vector selectors, the labels of its
// by (...) clauses, and the labels of its without, on, ignoring and group_left/right clauses.
type exprRefs struct {
	selectors []promSelector
	by        []string
	grouping  []string
}

// promqlKeywords are the words that are not metric names: operators, aggregations (which may
// be followed by a by or without clause before their parenthesis), and numbers.
var promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"atan2": true, "inf": true, "nan": true, "sum": true, "min": true, "max": true, "avg": true, "group": true,
	"stddev": true, "stdvar": true, "count": true, "count_values": true, "bottomk": true, "topk": true,
	"quantile": true, "limitk": true, "limit_ratio": true}

// groupingKeywords take a list of labels in parentheses (optional after group_left/right).
var groupingKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true}

// parseExpr reads the selectors and grouping labels of a PromQL expression. It does not check
// the expression's syntax beyond what it reads; a character it does not know is an error.
func parseExpr(expr string) (exprRefs, error) {
	var out exprRefs
	p := &exprScanner{s: expr}
	for p.skipSpace(); p.i < len(p.s); p.skipSpace() {
		c := p.s[p.i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			if _, err := p.str(); err != nil {
				return out, err
			}
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case c == '[': // a range or subquery: durations only
			end := strings.IndexByte(p.s[p.i:], ']')
			if end < 0 {
				return out, fmt.Errorf("unclosed [ at %d", p.i)
			}
			p.i += end + 1
		case isIdentStart(c):
			word := p.ident(true)
			p.skipSpace()
			next := p.peek()
			lower := strings.ToLower(word)
			switch {
			case groupingKeywords[lower]:
				if next != '(' {
					if lower == "group_left" || lower == "group_right" {
						continue
					}
					return out, fmt.Errorf("%s without a label list at %d", word, p.i)
				}
				labels, err := p.labelList()
				if err != nil {
					return out, err
				}
				if lower == "by" {
					out.by = append(out.by, labels...)
				} else {
					out.grouping = append(out.grouping, labels...)
				}
			case next == '(' || promqlKeywords[lower]: // a function, an aggregation or an operator
			default:
				sel := promSelector{metric: word}
				if next == '{' {
					m, err := p.matchers()
					if err != nil {
						return out, err
					}
					sel.matchers = m
				}
				out.selectors = append(out.selectors, sel)
			}
		case c == '{':
			m, err := p.matchers()
			if err != nil {
				return out, err
			}
			sel := promSelector{}
			for _, x := range m {
				if x.label == "__name__" && x.op == "=" {
					sel.metric = x.value
				} else {
					sel.matchers = append(sel.matchers, x)
				}
			}
			if sel.metric == "" {
				return out, fmt.Errorf("a selector without a metric name (__name__=\"...\") in %q", expr)
			}
			out.selectors = append(out.selectors, sel)
		case c >= '0' && c <= '9' || c == '.': // a number or a duration (5m, 1e3, 0x1f)
			for p.i < len(p.s) && (isIdentChar(p.s[p.i]) || p.s[p.i] == '.') {
				p.i++
			}
		case strings.IndexByte("+-*/%^=!<>(),@", c) >= 0:
			p.i++
		default:
			return out, fmt.Errorf("unexpected %q at %d in %q", c, p.i, expr)
		}
	}
	return out, nil
}

// exprScanner walks an expression.
type exprScanner struct {
	s string
	i int
}

func (p *exprScanner) skipSpace() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *exprScanner) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// ident reads a metric name (colons allowed) or a label name.
func (p *exprScanner) ident(colons bool) string {
	start := p.i
	for p.i < len(p.s) && isIdentChar(p.s[p.i]) && (colons || p.s[p.i] != ':') {
		p.i++
	}
	return p.s[start:p.i]
}

// str reads a quoted string: "..." and '...' with Go escapes, `...` raw.
func (p *exprScanner) str() (string, error) {
	q := p.s[p.i]
	for j := p.i + 1; j < len(p.s); j++ {
		switch {
		case p.s[j] == '\\' && q != '`':
			j++
		case p.s[j] == q:
			raw := p.s[p.i : j+1]
			p.i = j + 1
			if q == '`' {
				return raw[1 : len(raw)-1], nil
			}
			if q == '\'' {
				raw = `"` + strings.ReplaceAll(raw[1:len(raw)-1], `"`, `\"`) + `"`
			}
			return strconv.Unquote(raw)
		}
	}
	return "", fmt.Errorf("unclosed string at %d", p.i)
}

// labelList reads "(a, b, ...)".
func (p *exprScanner) labelList() ([]string, error) {
	p.i++ // (
	var labels []string
	for {
		p.skipSpace()
		if p.peek() == ')' {
			p.i++
			return labels, nil
		}
		l := p.ident(false)
		if l == "" {
			return nil, fmt.Errorf("a label name expected at %d in %q", p.i, p.s)
		}
		labels = append(labels, l)
		p.skipSpace()
		if p.peek() == ',' {
			p.i++
		} else if p.peek() != ')' {
			return nil, fmt.Errorf("',' or ')' expected at %d in %q", p.i, p.s)
		}
	}
}

// matchers reads "{label op "value", ...}".
func (p *exprScanner) matchers() ([]promMatcher, error) {
	p.i++ // {
	var out []promMatcher
	for {
		p.skipSpace()
		if p.peek() == '}' {
			p.i++
			return out, nil
		}
		l := p.ident(false)
		if l == "" {
			return nil, fmt.Errorf("a label name expected at %d in %q", p.i, p.s)
		}
		p.skipSpace()
		var op string
		for _, o := range []string{"=~", "!~", "!=", "="} {
			if strings.HasPrefix(p.s[p.i:], o) {
				op = o
				break
			}
		}
		if op == "" {
			return nil, fmt.Errorf("a matcher operator expected at %d in %q", p.i, p.s)
		}
		p.i += len(op)
		p.skipSpace()
		if c := p.peek(); c != '"' && c != '\'' && c != '`' {
			return nil, fmt.Errorf("a quoted value expected at %d in %q", p.i, p.s)
		}
		v, err := p.str()
		if err != nil {
			return nil, err
		}
		out = append(out, promMatcher{label: l, op: op, value: v})
		p.skipSpace()
		if p.peek() == ',' {
			p.i++
		} else if p.peek() != '}' {
			return nil, fmt.Errorf("',' or '}' expected at %d in %q", p.i, p.s)
		}
	}
}

// series is one sample's name and labels in a scrape.
type promSeries struct {
	name   string
	labels map[string]string
}

// scrapeSeries lists the series of a scrape (as Prometheus stores them: a histogram x is
// x_bucket with le, x_sum and x_count; a summary x has quantile, x_sum and x_count).
func scrapeSeries(families map[string]*dto.MetricFamily) []promSeries {
	var out []promSeries
	for _, name := range slices.Sorted(maps.Keys(families)) {
		f := families[name]
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			with := func(k, v string) map[string]string {
				c := maps.Clone(labels)
				c[k] = v
				return c
			}
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				inf := false // client_golang leaves the +Inf bucket implicit, the text format has it
				for _, b := range m.GetHistogram().GetBucket() {
					inf = inf || math.IsInf(b.GetUpperBound(), +1)
					out = append(out, promSeries{name + "_bucket", with("le", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))})
				}
				if !inf {
					out = append(out, promSeries{name + "_bucket", with("le", "+Inf")})
				}
				out = append(out, promSeries{name + "_sum", labels}, promSeries{name + "_count", labels})
			case dto.MetricType_SUMMARY:
				for _, q := range m.GetSummary().GetQuantile() {
					out = append(out, promSeries{name, with("quantile", strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64))})
				}
				out = append(out, promSeries{name + "_sum", labels}, promSeries{name + "_count", labels})
			default:
				out = append(out, promSeries{name, labels})
			}
		}
	}
	return out
}

// matches tells whether a series' labels satisfy a matcher (an absent label is "").
func (m promMatcher) matches(labels map[string]string) (bool, error) {
	v := labels[m.label]
	switch m.op {
	case "=":
		return v == m.value, nil
	case "!=":
		return v != m.value, nil
	}
	re, err := regexp.Compile("^(?:" + m.value + ")$")
	if err != nil {
		return false, err
	}
	return re.MatchString(v) == (m.op == "=~"), nil
}

var templateLabel = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)

// checkRules returns what the rules use that the scrape lacks: a metric with no series, a
// matched label no series of its metric has, a selector no series satisfies, a grouping label
// the selected series lack, and a $labels.x of the labels or annotations that the expression's
// result cannot carry (not on the selected series, or not among its by (...) labels).
func checkRules(rules []promRule, scrape []promSeries) []string {
	var problems []string
	for _, r := range rules {
		name := r.Alert + r.Record
		refs, err := parseExpr(r.Expr)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if len(refs.selectors) == 0 {
			problems = append(problems, fmt.Sprintf("%s: its expression reads no metric", name))
		}
		var used []string
		for _, text := range slices.Concat(slices.Collect(maps.Values(r.Labels)), slices.Collect(maps.Values(r.Annotations))) {
			for _, m := range templateLabel.FindAllStringSubmatch(text, -1) {
				used = append(used, m[1])
			}
		}
		slices.Sort(used)
		used = slices.Compact(used)
		for _, l := range used {
			if len(refs.by) > 0 && !slices.Contains(refs.by, l) {
				problems = append(problems, fmt.Sprintf("%s: $labels.%s is not among the labels it aggregates by %v", name, l, refs.by))
			}
		}
		carried := slices.Concat(refs.by, refs.grouping, used)
		slices.Sort(carried)
		carried = slices.Compact(carried)
		for _, sel := range refs.selectors {
			problems = append(problems, checkSelector(name, sel, carried, scrape)...)
		}
	}
	return problems
}

// checkSelector checks one selector of rule name, and that the series it selects carry labels.
func checkSelector(name string, sel promSelector, labels []string, scrape []promSeries) []string {
	var problems []string
	var ofMetric []promSeries
	for _, s := range scrape {
		if s.name == sel.metric {
			ofMetric = append(ofMetric, s)
		}
	}
	if len(ofMetric) == 0 {
		return []string{fmt.Sprintf("%s: metric %s is not in the scrape", name, sel.metric)}
	}
	has := func(list []promSeries, label string) bool {
		return slices.ContainsFunc(list, func(s promSeries) bool { _, ok := s.labels[label]; return ok })
	}
	for _, m := range sel.matchers {
		if !has(ofMetric, m.label) {
			problems = append(problems, fmt.Sprintf("%s: no series of %s has the label %s", name, sel.metric, m.label))
		}
	}
	selected, err := selectSeries(sel, ofMetric)
	if err != nil {
		return append(problems, fmt.Sprintf("%s: %v", name, err))
	}
	if len(selected) == 0 {
		return append(problems, fmt.Sprintf("%s: no series of %s matches %v", name, sel.metric, sel.matchers))
	}
	for _, l := range labels {
		if !has(selected, l) {
			problems = append(problems, fmt.Sprintf("%s: the series %s%v selects have no label %s", name, sel.metric, sel.matchers, l))
		}
	}
	return problems
}

// selectSeries returns the series of scrape that a selector selects.
func selectSeries(sel promSelector, scrape []promSeries) ([]promSeries, error) {
	var out []promSeries
	for _, s := range scrape {
		if s.name != sel.metric {
			continue
		}
		ok := true
		for _, m := range sel.matchers {
			match, err := m.matches(s.labels)
			if err != nil {
				return nil, fmt.Errorf("%s{%s%s%q}: %w", sel.metric, m.label, m.op, m.value, err)
			}
			ok = ok && match
		}
		if ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// selectedServices returns the services ("namespace/name", sorted) whose series a rule's
// selectors select: those it would alert on, when its expression only aggregates them by
// namespace and name.
func selectedServices(r promRule, scrape []promSeries) ([]string, error) {
	refs, err := parseExpr(r.Expr)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sel := range refs.selectors {
		selected, err := selectSeries(sel, scrape)
		if err != nil {
			return nil, err
		}
		for _, s := range selected {
			out = append(out, s.labels["namespace"]+"/"+s.labels["name"])
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
