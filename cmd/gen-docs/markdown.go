package main

import (
	"strings"
	"unicode"
)

// markdownLong turns a command's Long help, written for a terminal, into
// markdown that renders the same text: indented lines (aligned tables,
// sample output) become fenced blocks kept verbatim, and characters that
// markdown or the man page converter would interpret (<port> as an HTML tag,
// repo:org/* as emphasis) are escaped in the prose.
func markdownLong(long string) string {
	lines := strings.Split(strings.TrimRight(long, "\n"), "\n")
	var b strings.Builder
	inBlock := false
	for i, line := range lines {
		indented := strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
		switch {
		case indented && !inBlock:
			if i > 0 && lines[i-1] != "" {
				b.WriteString("\n")
			}
			b.WriteString("```\n")
			inBlock = true
		case !indented && inBlock:
			b.WriteString("```\n")
			inBlock = false
			if line != "" {
				b.WriteString("\n")
			}
		}
		if inBlock {
			b.WriteString(line)
		} else {
			b.WriteString(escapeMarkdown(line))
		}
		b.WriteString("\n")
	}
	if inBlock {
		b.WriteString("```\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// escapeMarkdown backslash-escapes the characters of one line of prose that
// markdown would not print as they are. Code spans (`...`) are kept.
func escapeMarkdown(line string) string {
	var b strings.Builder
	rs := []rune(line)
	inCode := false
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if !inCode && (i == 0 || !isWordRune(rs[i-1])) {
			if n := urlLen(rs[i:]); n > 0 {
				// A URL is code: autolinking would otherwise cut it at a
				// placeholder such as http://localhost:<port>/login.
				b.WriteString("`" + string(rs[i:i+n]) + "`")
				i += n - 1
				continue
			}
		}
		if r == '`' {
			inCode = !inCode
			b.WriteRune(r)
			continue
		}
		if inCode {
			b.WriteRune(r)
			continue
		}
		switch r {
		case '\\', '<', '>', '*', '[', ']', '&':
			b.WriteByte('\\')
		case '_':
			// Inside a word (THARSIS_CONFIG_DIR) an underscore never
			// starts emphasis; escape only the others.
			if i == 0 || i == len(rs)-1 || !isWordRune(rs[i-1]) || !isWordRune(rs[i+1]) {
				b.WriteByte('\\')
			}
		case '#':
			if strings.TrimSpace(string(rs[:i])) == "" {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// urlLen is the length of the http(s) URL at the start of rs (0 if none),
// without trailing punctuation.
func urlLen(rs []rune) int {
	s := string(rs)
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return 0
	}
	n := 0
	for n < len(rs) && !unicode.IsSpace(rs[n]) && rs[n] != '`' {
		n++
	}
	for n > 0 && strings.ContainsRune(".,;:)'\"", rs[n-1]) {
		n--
	}
	return n
}
