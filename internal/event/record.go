package event

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// FromRecord builds the EventBridge event for one CloudTrail record (JSON
// object text), as EventBridge builds it. rec is copied once: Event.Record
// is the record's bytes inside Event.JSON (its "detail").
func FromRecord(rec []byte) (*Event, error) {
	var s scanner
	var f fields
	b := bytes.TrimSpace(rec)
	if err := s.walkWhole(b, &f); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	e, err := fromRecord(b, &f, &s)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return e, nil
}

// FromEnvelope reads an EventBridge event (an object with detail-type,
// source, detail...). If its detail is a CloudTrail record, Record,
// EventID, EventName, EventType and ReadOnly are filled from it. b is
// copied into Event.JSON.
func FromEnvelope(b []byte) (*Event, error) {
	var s scanner
	var f fields
	b = bytes.TrimSpace(b)
	if err := s.walkWhole(b, &f); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	e, err := fromEnvelope(bytes.Clone(b), &f, &s)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return e, nil
}

// walkWhole checks that b is exactly one JSON object and collects its fields.
func (s *scanner) walkWhole(b []byte, f *fields) error {
	if len(b) == 0 {
		return ErrTruncated
	}
	if b[0] != '{' {
		if _, err := s.valueEnd(b, 0, true); err != nil {
			return err
		}
		return ErrNotObject
	}
	end, err := s.walkObject(b, 0, true, false, f)
	if err != nil {
		return err
	}
	if skipSpace(b, end) != len(b) {
		return ErrTrailingData
	}
	return nil
}

// idNamespace is the UUID namespace of envelope ids derived from eventIDs.
var idNamespace = [16]byte{0x8c, 0x2f, 0x4e, 0x1a, 0x3b, 0x5d, 0x4c, 0x6e, 0x9a, 0x7b, 0x1c, 0x0d, 0x2e, 0x3f, 0x40, 0x51}

// fromRecord builds the event for the record rec, whose fields f were
// collected with offsets relative to rec. rec is copied.
func fromRecord(rec []byte, f *fields, s *scanner) (*Event, error) {
	t, ok := parseTime(str(rec, f.eventTime))
	if !ok {
		t, ok = parseTime(str(rec, f.timestamp))
	}
	if !ok && !f.eventVersion.ok() && !f.eventID.ok() && !f.eventName.ok() && !f.eventSource.ok() {
		// Neither a time nor anything else a CloudTrail record has.
		return nil, ErrNotRecord
	}
	// A record whose time is missing or unreadable still becomes an event
	// (with a zero Time), so that its rules still run: no data is lost.
	e := &Event{
		EventID:   str(rec, f.eventID),
		EventName: str(rec, f.eventName),
		EventType: str(rec, f.eventType),
		Region:    str(rec, f.awsRegion),
		Account:   str(rec, f.recipientAccountID),
		Time:      t,
	}
	if e.Account == "" && f.userIdentity.ok() && rec[f.userIdentity.start] == '{' {
		var u fields
		ui := f.userIdentity.of(rec)
		if _, err := s.walkObject(ui, 0, true, false, &u); err == nil {
			e.Account = str(ui, u.accountID)
		}
	}
	e.DetailType = detailType(e.EventType)
	eventSource := str(rec, f.eventSource)
	e.Source = sourceOf(eventSource, e.EventType)
	e.ReadOnly = readOnly(rec, f.readOnly, e.EventName)

	// The envelope, in EventBridge's member order, then the record verbatim.
	n := 160 + len(e.DetailType) + len(e.Source) + len(e.Account) + len(e.Region) + len(rec)
	buf := make([]byte, 0, n)
	buf = append(buf, `{"version":"0","id":"`...)
	idAt := len(buf)
	if e.EventID != "" {
		buf = appendUUID(buf, []byte(e.EventID))
	} else {
		buf = appendUUID(buf, rec)
	}
	e.ID = string(buf[idAt:])
	buf = append(buf, `","detail-type":`...)
	buf = appendString(buf, e.DetailType)
	buf = append(buf, `,"source":`...)
	buf = appendString(buf, e.Source)
	buf = append(buf, `,"account":`...)
	buf = appendString(buf, e.Account)
	buf = append(buf, `,"time":`...)
	if e.Time.IsZero() {
		// As it stands in the record, or "" when it is not a string.
		if f.eventTime.ok() && rec[f.eventTime.start] == '"' {
			buf = append(buf, f.eventTime.of(rec)...)
		} else {
			buf = append(buf, `""`...)
		}
	} else {
		buf = append(buf, '"')
		buf = appendTime(buf, e.Time)
		buf = append(buf, '"')
	}
	buf = append(buf, `,"region":`...)
	buf = appendString(buf, e.Region)
	buf = append(buf, `,"resources":[],"detail":`...)
	at := len(buf)
	buf = append(buf, rec...)
	buf = append(buf, '}')
	e.JSON = buf
	e.Record = buf[at : at+len(rec) : at+len(rec)]
	return e, nil
}

// fromEnvelope builds the event for the EventBridge event b (owned), whose
// fields f were collected with offsets relative to b.
func fromEnvelope(b []byte, f *fields, s *scanner) (*Event, error) {
	if !f.detailType.ok() || !f.detail.ok() {
		return nil, ErrNotEnvelope
	}
	e := &Event{
		JSON:       b,
		ID:         str(b, f.id),
		DetailType: str(b, f.detailType),
		Source:     str(b, f.source),
		Account:    str(b, f.account),
		Region:     str(b, f.region),
	}
	t, tok := parseTime(str(b, f.time))
	if r := f.resources; r.ok() && b[r.start] == '[' && r.end-r.start > 2 {
		var res []string
		if json.Unmarshal(r.of(b), &res) == nil && len(res) > 0 {
			e.Resources = res
		}
	}
	if d := f.detail; b[d.start] == '{' {
		var g fields
		rec := b[d.start:d.end:d.end]
		if _, err := s.walkObject(rec, 0, true, false, &g); err == nil && (g.eventVersion.ok() || g.eventID.ok()) {
			e.Record = rec
			e.EventID = str(rec, g.eventID)
			e.EventName = str(rec, g.eventName)
			e.EventType = str(rec, g.eventType)
			e.ReadOnly = readOnly(rec, g.readOnly, e.EventName)
			if !tok {
				t, tok = parseTime(str(rec, g.eventTime))
			}
		}
	}
	// As for records, an event whose time is unreadable still counts.
	if tok {
		e.Time = t
	}
	return e, nil
}

// detailType is EventBridge's detail-type for a CloudTrail eventType.
func detailType(eventType string) string {
	switch eventType {
	case "AwsConsoleSignIn":
		return DetailTypeSignIn
	case "AwsConsoleAction":
		return DetailTypeConsole
	case "AwsServiceEvent":
		return DetailTypeServiceEvent
	case "AwsCloudTrailInsight":
		return DetailTypeInsight
	case "AwsVpceEvent":
		return DetailTypeNetwork
	case "AwsApiCall", "":
		return DetailTypeAPICall
	}
	// Some examples in AWS's documentation write "AwsConsoleSignin".
	if strings.EqualFold(eventType, "AwsConsoleSignIn") {
		return DetailTypeSignIn
	}
	return DetailTypeAPICall
}

// sourceOf is EventBridge's source for an eventSource: "aws." and the
// service name. Records without eventSource (Insights events) come from
// CloudTrail itself: "aws.cloudtrail".
func sourceOf(eventSource, eventType string) string {
	svc := strings.TrimSuffix(eventSource, ".amazonaws.com")
	switch svc {
	case "":
		return "aws.cloudtrail"
	case "s3":
		return "aws.s3"
	case "ec2":
		return "aws.ec2"
	case "iam":
		return "aws.iam"
	case "sts":
		return "aws.sts"
	case "kms":
		return "aws.kms"
	case "signin":
		return "aws.signin"
	case "cloudtrail":
		return "aws.cloudtrail"
	case "lambda":
		return "aws.lambda"
	case "logs":
		return "aws.logs"
	case "monitoring":
		return "aws.monitoring"
	}
	return "aws." + svc
}

// readOnly says whether a record is a read-only management event: its
// readOnly member, or when absent, EventBridge's rule that names starting
// with Get, List or Describe are read-only (except STS GetFederationToken
// and GetSessionToken).
func readOnly(rec []byte, ro span, eventName string) bool {
	if ro.ok() {
		v := ro.of(rec)
		return string(v) == "true" || string(v) == `"true"`
	}
	switch {
	case eventName == "GetFederationToken", eventName == "GetSessionToken":
		return false
	case strings.HasPrefix(eventName, "Get"), strings.HasPrefix(eventName, "List"), strings.HasPrefix(eventName, "Describe"):
		return true
	}
	return false
}

// str returns the string value at s in b, unescaped; "" when absent or
// not a string.
func str(b []byte, s span) string {
	if !s.ok() || b[s.start] != '"' {
		return ""
	}
	v := b[s.start+1 : s.end-1]
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v)
	}
	return string(appendUnescaped(nil, v))
}

// appendUnescaped appends the JSON string body v (without quotes, already
// validated) unescaped to dst. Lone surrogates become U+FFFD.
func appendUnescaped(dst, v []byte) []byte {
	for i := 0; i < len(v); {
		j := bytes.IndexByte(v[i:], '\\')
		if j < 0 {
			return append(dst, v[i:]...)
		}
		dst = append(dst, v[i:i+j]...)
		i += j
		if i+1 >= len(v) {
			return dst
		}
		switch c := v[i+1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(v, i+2)
			if !ok {
				return dst
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(v, i+2); ok && i+1 < len(v) && v[i] == '\\' && v[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						dst = utf8.AppendRune(dst, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			dst = append(dst, c)
		}
		i += 2
	}
	return dst
}

func hex4(v []byte, i int) (rune, bool) {
	if i+4 > len(v) {
		return 0, false
	}
	var r rune
	for _, c := range v[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendUUID appends a version 5 (SHA-1, name-based) UUID of name.
func appendUUID(dst, name []byte) []byte {
	const hex = "0123456789abcdef"
	var in [128]byte
	sum := sha1.Sum(append(append(in[:0], idNamespace[:]...), name...))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	for i, c := range sum[:16] {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[c>>4], hex[c&15])
	}
	return dst
}

// timeLayouts are the eventTime spellings seen in real data, tried in turn
// after the fast path. Parsing accepts fractional seconds without them
// being in the layout.
var timeLayouts = [...]string{
	time.RFC3339,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -0700 MST",
}

// parseTime reads an eventTime, in UTC to the second.
func parseTime(s string) (time.Time, bool) {
	if t, ok := parseTimeFast(s); ok {
		return t, true
	}
	if len(s) < 19 || len(s) > 64 {
		return time.Time{}, false
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Truncate(time.Second), true
		}
	}
	return time.Time{}, false
}

// parseTimeFast reads "2006-01-02T15:04:05Z", CloudTrail's usual spelling.
func parseTimeFast(s string) (time.Time, bool) {
	if len(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return time.Time{}, false
	}
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, se := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false // no such day, as time.Parse would say
	}
	return t, true
}

// appendTime appends t as "2006-01-02T15:04:05Z"; t is in UTC.
func appendTime(dst []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 0 || y > 9999 {
		return t.AppendFormat(dst, "2006-01-02T15:04:05Z")
	}
	two := func(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }
	dst = two(two(dst, y/100), y%100)
	dst = two(append(dst, '-'), int(mo))
	dst = two(append(dst, '-'), d)
	dst = two(append(dst, 'T'), h)
	dst = two(append(dst, ':'), mi)
	dst = two(append(dst, ':'), s)
	return append(dst, 'Z')
}
