package slug

import (
	"fmt"
	"regexp"
	"strings"
)

// This file implements .terraformignore matching with exactly the semantics
// of hashicorp/go-slug v1.0.0 (whose rule engine lives in an internal package
// and cannot be imported). Compatibility matters more than elegance here:
// Terraform's own remote/cloud backend packs with go-slug, so a
// configuration must upload the same set of files whichever tool sends it.
// The differential tests in ignore_test.go pack trees with go-slug itself and
// compare the file lists.
//
// The semantics, as go-slug defines them:
//   - Only <dir>/.terraformignore is read; a .terraformignore in a
//     subdirectory is an ordinary file with no effect.
//   - Built-in rules come first: "**/.terraform/**", "!**/.terraform/modules/**",
//     "**/.git/**". User rules are appended, so they can override them.
//   - Each line is trimmed; empty lines and lines starting with "#" are skipped;
//     "!" negates; a trailing "/" appends "**"; a leading "/" anchors the rule
//     at the root, otherwise "**/" is prepended.
//   - The pattern becomes an anchored regular expression: "**/" and a
//     trailing "**" match any number of path elements, "*" and "?" match
//     within one element, "." and "$" are literal, "\x" escapes x, and every
//     other character is copied into the regular expression as is (so
//     "[a-z]" is a class and "a|b" an alternation). A rule whose expression
//     does not compile never matches.
//   - The last matching rule decides. A path excluded by a rule with no
//     negated rule after it is "dominating": an excluded directory is then
//     not walked at all.
//   - A directory is first matched by its name ("a/b"), then with a
//     trailing slash ("a/b/"). Matching by name only drops the directory's own
//     entry: its contents are still walked and kept unless they match a rule
//     themselves. So "node_modules" keeps node_modules/x/y while
//     "node_modules/" drops the whole directory; we keep this behaviour and
//     warn about it.

// rule is one compiled ignore rule.
type rule struct {
	negated        bool
	negationsAfter bool           // a negated rule follows this one
	re             *regexp.Regexp // nil: the pattern did not compile and never matches
	literal        string         // a substring every match must contain ("" = unknown)
	source         string         // the line as written, for messages
	line           int            // line in .terraformignore; 0 for built-in rules
}

// ruleset is an ordered list of rules; the zero value matches nothing.
type ruleset struct {
	rules []rule
}

// matchResult is the outcome of matching one path.
type matchResult struct {
	excluded   bool
	dominating bool
	rule       *rule // the deciding rule, nil when no rule matched
}

// defaultRuleSources are go-slug's built-in rules, already in the rewritten
// form ("**/" prefix, "**" suffix).
var defaultRuleSources = [...]struct {
	pattern string
	negated bool
}{
	{"**/.terraform/**", false},
	{"**/.terraform/modules/**", true},
	{"**/.git/**", false},
}

// newRuleset parses the content of a .terraformignore file (nil or empty
// content gives the defaults). Problems that go-slug silently ignores (or
// crashes on) are returned as warnings; the affected lines are skipped.
func newRuleset(content []byte) (*ruleset, []string) {
	rs := &ruleset{}
	for _, d := range defaultRuleSources {
		rs.rules = append(rs.rules, compileRule(d.pattern, d.negated, d.pattern, 0))
	}
	var warnings []string
	// A UTF-8 byte-order mark would otherwise become part of the first
	// pattern (go-slug keeps it, so that rule never matches).
	text := strings.TrimPrefix(string(content), "\uFEFF")
	for i, raw := range strings.Split(text, "\n") {
		lineNo := i + 1
		raw = strings.TrimSuffix(raw, "\r")
		p := strings.TrimSpace(raw)
		if p == "" || p[0] == '#' {
			// go-slug panics on a line made only of blanks; we skip it.
			continue
		}
		negated := false
		if p[0] == '!' {
			negated = true
			p = p[1:]
			if p == "" {
				warnings = append(warnings, fmt.Sprintf(".terraformignore:%d: a lone \"!\" matches nothing; line ignored", lineNo))
				continue
			}
		}
		if strings.HasSuffix(p, "/") {
			p += "**"
		}
		if strings.HasPrefix(p, "/") {
			p = p[1:]
		} else {
			p = "**/" + p
		}
		r := compileRule(p, negated, strings.TrimSpace(raw), lineNo)
		if r.re == nil {
			warnings = append(warnings, fmt.Sprintf(".terraformignore:%d: pattern %q is not valid and matches nothing", lineNo, r.source))
		}
		rs.rules = append(rs.rules, r)
	}
	seenNegation := false
	for i := len(rs.rules) - 1; i >= 0; i-- {
		rs.rules[i].negationsAfter = seenNegation
		if rs.rules[i].negated {
			seenNegation = true
		}
	}
	return rs, warnings
}

// regexpSyntax holds the characters that go-slug passes through to the
// regular expression with a special meaning; a pattern containing any of
// them gets no literal prefilter.
const regexpSyntax = `\[](){}|+^`

// compileRule translates a rewritten pattern into its anchored regular
// expression, following go-slug's translation character by character.
func compileRule(pattern string, negated bool, source string, line int) rule {
	var re strings.Builder
	re.WriteString("^")
	// Literal runs between wildcards, for the prefilter.
	var lit, longest strings.Builder
	endRun := func() {
		if lit.Len() > longest.Len() {
			longest.Reset()
			longest.WriteString(lit.String())
		}
		lit.Reset()
	}
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '*' && i+1 < len(rs) && rs[i+1] == '*':
			i++ // the second '*'
			if i+1 < len(rs) && rs[i+1] == '/' {
				i++ // "**/" is treated as "**"
			}
			if i+1 >= len(rs) {
				re.WriteString(".*")
			} else {
				re.WriteString("(.*/)?")
			}
			endRun()
		case c == '*':
			re.WriteString("[^/]*")
			endRun()
		case c == '?':
			re.WriteString("[^/]")
			endRun()
		case c == '.' || c == '$':
			re.WriteString(`\`)
			re.WriteRune(c)
			lit.WriteRune(c)
		case c == '\\':
			re.WriteString(`\`)
			if i+1 < len(rs) {
				i++
				re.WriteRune(rs[i])
			}
		default:
			re.WriteRune(c)
			lit.WriteRune(c)
		}
	}
	endRun()
	re.WriteString("$")
	r := rule{negated: negated, source: source, line: line}
	if compiled, err := regexp.Compile(re.String()); err == nil {
		r.re = compiled
	}
	if !strings.ContainsAny(pattern, regexpSyntax) {
		r.literal = longest.String()
	}
	return r
}

// match reports whether the slash-separated path p is excluded. The last
// matching rule decides, as in go-slug.
func (rs *ruleset) match(p string) matchResult {
	var res matchResult
	for i := range rs.rules {
		r := &rs.rules[i]
		if r.re == nil || (r.literal != "" && !strings.Contains(p, r.literal)) {
			continue
		}
		if r.re.MatchString(p) {
			res.excluded = !r.negated
			res.dominating = res.excluded && !r.negationsAfter
			res.rule = r
		}
	}
	return res
}
