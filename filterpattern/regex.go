package filterpattern

import (
	"regexp"
	"strings"
)

// readRegex reads a %regex% at s[i] == '%' and compiles it with AWS's
// restrictions, translated to RE2.
func readRegex(s string, i int) (*regexp.Regexp, int, error) {
	end := strings.IndexByte(s[i+1:], '%')
	if end < 0 {
		return nil, i, errAt(i, "unterminated regular expression: missing closing %%")
	}
	body := s[i+1 : i+1+end]
	re, err := compileRegex(body, i+1)
	if err != nil {
		return nil, i, err
	}
	return re, i + end + 2, nil
}

// compileRegex checks a regular expression against the subset CloudWatch
// Logs supports (alphanumerics; the symbols : _ # = @ / ; , - and space; the
// operators ^ $ ? [ ] { } | \ * + .; escapes \d \D \s \S \w \W \xhh and
// escaped symbols; no groups, no multi-byte characters) and translates it
// to RE2. off is the body's offset in the pattern, for errors.
func compileRegex(body string, off int) (*regexp.Regexp, error) {
	if body == "" {
		return nil, errAt(off, "empty regular expression")
	}
	var b strings.Builder
	inClass := false
	for j := 0; j < len(body); j++ {
		c := body[j]
		switch {
		case c >= 0x80:
			return nil, errAt(off+j, "multi-byte characters are not supported in regular expressions")
		case c == '(' || c == ')':
			return nil, errAt(off+j, "%q is not supported in regular expressions (no groups)", c)
		case c == '\\':
			if j+1 >= len(body) {
				return nil, errAt(off+j, "regular expression ends with \\")
			}
			n := body[j+1]
			switch {
			case n == 's' || n == 'S':
				// AWS: whitespace is tab, space and newline.
				switch {
				case inClass && n == 's':
					b.WriteString(`\t\n `)
				case inClass:
					b.WriteString(`\S`)
				case n == 's':
					b.WriteString(`[\t\n ]`)
				default:
					b.WriteString(`[^\t\n ]`)
				}
				j++
			case n == 'd' || n == 'D' || n == 'w' || n == 'W':
				b.WriteByte('\\')
				b.WriteByte(n)
				j++
			case n == 'x':
				if j+3 >= len(body) || !isHex(body[j+2]) || !isHex(body[j+3]) {
					return nil, errAt(off+j, `\x needs two hex digits`)
				}
				b.WriteString(body[j : j+4])
				j += 3
			case n < 0x80 && !isAlnum(n) && n > ' ' || n == ' ':
				b.WriteByte('\\')
				b.WriteByte(n)
				j++
			default:
				return nil, errAt(off+j, "unsupported escape \\%c in regular expression", n)
			}
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			if j+1 < len(body) && body[j+1] == '^' {
				b.WriteByte('^')
				j++
			}
			if j+1 < len(body) && body[j+1] == ']' {
				b.WriteString(`\]`)
				j++
			}
		case c == ']' && inClass:
			inClass = false
			b.WriteByte(c)
		case c == '{' && !inClass && j+1 < len(body) && body[j+1] == ',':
			b.WriteString("{0")
		case isAlnum(c) || strings.IndexByte(":_#=@/;,- ^$?[]{}|*+.", c) >= 0:
			b.WriteByte(c)
		default:
			return nil, errAt(off+j, "%q is not supported in regular expressions", c)
		}
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, errAt(off, "invalid regular expression %q: %v", body, err)
	}
	return re, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
