package event

// A small validating JSON scanner over a byte slice. It finds where a value
// ends and checks its syntax (strings, escapes, numbers, literals, nesting)
// without building anything, so decoding costs little beside decompression.
// When the slice ends inside a value it returns errShort, unless final is
// set, in which case the value is truncated.

// maxDepth bounds the nesting of arrays and objects.
const maxDepth = 10000

// strPlain[c] is 1 for bytes that may appear in a JSON string as is.
var strPlain = func() (t [256]uint8) {
	for c := 0x20; c < 256; c++ {
		if c != '"' && c != '\\' {
			t[c] = 1
		}
	}
	return t
}()

// isSpace reports JSON whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanner holds the nesting stack, reused between values.
type scanner struct {
	stack []byte
}

// short is the error for a value cut at the end of b.
func short(final bool) error {
	if final {
		return ErrTruncated
	}
	return errShort
}

// scanString returns the index after the string starting at b[i] == '"'.
func scanString(b []byte, i int, final bool) (int, error) {
	i++
	for {
		// Ordinary bytes, four at a time: strings are most of CloudTrail.
		for i+4 <= len(b) && strPlain[b[i]]&strPlain[b[i+1]]&strPlain[b[i+2]]&strPlain[b[i+3]] != 0 {
			i += 4
		}
		for i < len(b) && strPlain[b[i]] != 0 {
			i++
		}
		if i >= len(b) {
			return i, short(final)
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(b) {
				return i, short(final)
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					for j := i + 2; j < len(b); j++ {
						if !isHex(b[j]) {
							return j, syntaxError(j, "bad \\u escape")
						}
					}
					return i, short(final)
				}
				for j := i + 2; j < i+6; j++ {
					if !isHex(b[j]) {
						return j, syntaxError(j, "bad \\u escape")
					}
				}
				i += 6
			default:
				return i, syntaxError(i, "bad escape")
			}
		default:
			return i, syntaxError(i, "control character in string")
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber returns the index after the number starting at b[i].
func scanNumber(b []byte, i int, final bool) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, short(final)
	}
	switch {
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return i, syntaxError(i, "bad number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) {
			return i, short(final)
		}
		if !isDigit(b[i]) {
			return i, syntaxError(i, "bad number")
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) {
			return i, short(final)
		}
		if !isDigit(b[i]) {
			return i, syntaxError(i, "bad number")
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i >= len(b) && !final {
		// More digits may follow in the next read.
		return start, errShort
	}
	return i, nil
}

// scanLiteral checks true, false or null at b[i].
func scanLiteral(b []byte, i int, final bool) (int, error) {
	var lit string
	switch b[i] {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	default:
		lit = "null"
	}
	for j := 0; j < len(lit); j++ {
		if i+j >= len(b) {
			return i, short(final)
		}
		if b[i+j] != lit[j] {
			return i + j, syntaxError(i+j, "bad literal")
		}
	}
	return i + len(lit), nil
}

// valueEnd returns the index just after the JSON value that starts at b[i]
// (the first byte of the value, not whitespace).
func (s *scanner) valueEnd(b []byte, i int, final bool) (int, error) {
	if i < len(b) {
		switch b[i] {
		case '"':
			return scanString(b, i, final)
		case 't', 'f', 'n':
			return scanLiteral(b, i, final)
		}
	}
	end, st, err := valueEnd(b, i, final, s.stack[:0])
	s.stack = st[:0]
	return end, err
}

// valueEnd is scanner.valueEnd with the nesting stack st passed along.
func valueEnd(b []byte, i int, final bool, st []byte) (_ int, _ []byte, err error) {
	for {
		// A value starts at or after i.
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, st, short(final)
		}
		switch c := b[i]; c {
		case '{':
			i = skipSpace(b, i+1)
			if i >= len(b) {
				return i, st, short(final)
			}
			if b[i] == '}' {
				i++
				break
			}
			if len(st) >= maxDepth {
				return i, st, ErrTooDeep
			}
			st = append(st, '{')
			if i, err = scanKey(b, i, final); err != nil {
				return i, st, err
			}
			continue
		case '[':
			i = skipSpace(b, i+1)
			if i >= len(b) {
				return i, st, short(final)
			}
			if b[i] == ']' {
				i++
				break
			}
			if len(st) >= maxDepth {
				return i, st, ErrTooDeep
			}
			st = append(st, '[')
			continue
		case '"':
			if i, err = scanString(b, i, final); err != nil {
				return i, st, err
			}
		case 't', 'f', 'n':
			if i, err = scanLiteral(b, i, final); err != nil {
				return i, st, err
			}
		default:
			if c != '-' && !isDigit(c) {
				return i, st, syntaxError(i, "unexpected character "+quoteByte(c))
			}
			if i, err = scanNumber(b, i, final || len(st) > 0); err != nil {
				if err == ErrTruncated && len(st) > 0 && !final {
					err = errShort
				}
				return i, st, err
			}
		}
		// A value ended at i: close containers or move to the next element.
	next:
		for {
			if len(st) == 0 {
				return i, st, nil
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, st, short(final)
			}
			top := st[len(st)-1]
			switch c := b[i]; {
			case c == ',':
				i++
				if top == '{' {
					i = skipSpace(b, i)
					if i, err = scanKey(b, i, final); err != nil {
						return i, st, err
					}
				}
				break next
			case c == '}' && top == '{', c == ']' && top == '[':
				st = st[:len(st)-1]
				i++
			default:
				return i, st, syntaxError(i, "unexpected character "+quoteByte(c))
			}
		}
	}
}

// scanKey scans `"key" :` at b[i] and returns the index after the colon.
func scanKey(b []byte, i int, final bool) (int, error) {
	if i >= len(b) {
		return i, short(final)
	}
	if b[i] != '"' {
		return i, syntaxError(i, "expected object key, found "+quoteByte(b[i]))
	}
	i, err := scanString(b, i, final)
	if err != nil {
		return i, err
	}
	i = skipSpace(b, i)
	if i >= len(b) {
		return i, short(final)
	}
	if b[i] != ':' {
		return i, syntaxError(i, "expected colon, found "+quoteByte(b[i]))
	}
	return i + 1, nil
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "0x" + string(hex[c>>4]) + string(hex[c&15])
}
