package filterpattern

import (
	"bytes"
	"regexp"
	"strings"
)

// termPattern is an unstructured pattern: terms that must all occur, terms
// that must not occur, and "?" terms of which one must occur (ignored when
// the pattern has any other term, as AWS documents).
type termPattern struct {
	include, exclude, optional []term
	all                        bool // empty pattern, "" or " ": matches everything
}

// term is a case-sensitive substring or an unanchored regular expression.
type term struct {
	text []byte
	re   *regexp.Regexp
}

func (t *term) in(msg []byte) bool {
	if t.re != nil {
		return t.re.Match(msg)
	}
	return bytes.Contains(msg, t.text)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func parseTerms(src string) (*termPattern, error) {
	tp := &termPattern{}
	regexes := 0
	i := 0
	for {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i >= len(src) {
			break
		}
		kind := byte(0)
		if src[i] == '?' || src[i] == '-' {
			kind = src[i]
			i++
			for i < len(src) && isSpace(src[i]) {
				i++
			}
			if i >= len(src) {
				return nil, errAt(i-1, "expected a term after %q", kind)
			}
		}
		var t term
		start := i
		switch src[i] {
		case '"':
			v, end, err := readQuoted(src, i)
			if err != nil {
				return nil, err
			}
			i = end
			if strings.TrimSpace(v) == "" {
				// "" (2021 doc) and " " (current doc) match everything.
				if kind == 0 {
					tp.all = true
				}
				if kind != '-' {
					continue
				}
			}
			t.text = []byte(v)
		case '%':
			re, end, err := readRegex(src, i)
			if err != nil {
				return nil, err
			}
			regexes++
			t.re = re
			i = end
		default:
			for i < len(src) && !isSpace(src[i]) {
				i++
			}
			t.text = []byte(src[start:i])
		}
		if i < len(src) && !isSpace(src[i]) {
			return nil, errAt(i, "expected a space after a term, got %q", src[i])
		}
		switch kind {
		case '?':
			tp.optional = append(tp.optional, t)
		case '-':
			tp.exclude = append(tp.exclude, t)
		default:
			tp.include = append(tp.include, t)
		}
	}
	if len(tp.include) == 0 && len(tp.exclude) == 0 && len(tp.optional) == 0 {
		tp.all = true
	}
	return tp, nil
}

func (tp *termPattern) match(msg []byte) bool {
	if len(tp.include) == 0 && len(tp.exclude) == 0 {
		if len(tp.optional) == 0 {
			return true
		}
		for i := range tp.optional {
			if tp.optional[i].in(msg) {
				return true
			}
		}
		return false
	}
	for i := range tp.include {
		if !tp.include[i].in(msg) {
			return false
		}
	}
	for i := range tp.exclude {
		if tp.exclude[i].in(msg) {
			return false
		}
	}
	return true
}
