package pattern

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const cloudTrailDir = "../../shared/data/cloudtrail/real/invictus-ir_aws_dataset"

// loadEnvelopes reads real CloudTrail log files ({"Records":[...]}) and
// wraps each record in a minimal EventBridge envelope.
func loadEnvelopes(tb testing.TB) (events [][]byte, records []map[string]any) {
	tb.Helper()
	if _, err := os.Stat(cloudTrailDir); err != nil {
		tb.Skipf("no CloudTrail data: %v", err)
	}
	var paths []string
	filepath.WalkDir(cloudTrailDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		var file struct{ Records []json.RawMessage }
		if json.Unmarshal(data, &file) != nil {
			continue
		}
		for _, raw := range file.Records {
			var rec map[string]any
			if json.Unmarshal(raw, &rec) != nil {
				continue
			}
			str := func(k string) string { s, _ := rec[k].(string); return s }
			src := "aws." + strings.TrimSuffix(str("eventSource"), ".amazonaws.com")
			dt := "AWS API Call via CloudTrail"
			if str("eventType") == "AwsConsoleSignIn" {
				dt = "AWS Console Sign In via CloudTrail"
			}
			env := fmt.Sprintf(`{"version":"0","id":%q,"detail-type":%q,"source":%q,"account":%q,"time":%q,"region":%q,"resources":[],"detail":%s}`,
				str("eventID"), dt, src, str("recipientAccountId"), str("eventTime"), str("awsRegion"), raw)
			events = append(events, []byte(env))
			records = append(records, rec)
		}
	}
	if len(events) == 0 {
		tb.Skip("no CloudTrail records")
	}
	return events, records
}

// benchPatterns generates n patterns from values found in the records, so
// that a realistic fraction of them match.
func benchPatterns(tb testing.TB, n int, records []map[string]any) []*Pattern {
	tb.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	uniq := func(get func(map[string]any) string) []string {
		set := map[string]bool{}
		for _, rec := range records {
			if v := get(rec); v != "" {
				set[v] = true
			}
		}
		var out []string
		for v := range set {
			out = append(out, v)
		}
		sort.Strings(out)
		if len(out) == 0 {
			out = []string{"none"}
		}
		return out
	}
	field := func(k string) func(map[string]any) string {
		return func(rec map[string]any) string { s, _ := rec[k].(string); return s }
	}
	names := uniq(field("eventName"))
	sources := uniq(field("eventSource"))
	agents := uniq(field("userAgent"))
	ips := uniq(field("sourceIPAddress"))
	codes := uniq(field("errorCode"))
	regions := uniq(field("awsRegion"))
	arns := uniq(func(rec map[string]any) string {
		u, _ := rec["userIdentity"].(map[string]any)
		s, _ := u["arn"].(string)
		return s
	})
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	svc := func(es string) string { return q("aws." + strings.TrimSuffix(es, ".amazonaws.com")) }
	var out []*Pattern
	for i := 0; len(out) < n; i++ {
		var src string
		switch i % 12 {
		case 0:
			es := pick(sources)
			src = fmt.Sprintf(`{"source":[%s],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventName":[%s,%s,%s]}}`, svc(es), q(pick(names)), q(pick(names)), q(pick(names)))
		case 1:
			src = fmt.Sprintf(`{"detail":{"eventSource":[%s],"eventName":[%s]}}`, q(pick(sources)), q(pick(names)))
		case 2:
			ua := pick(agents)
			k := 3 + r.IntN(12)
			if k > len(ua) {
				k = len(ua)
			}
			src = fmt.Sprintf(`{"detail":{"userAgent":[{"prefix":%s}],"eventName":[%s]}}`, q(ua[:k]), q(pick(names)))
		case 3:
			ip := pick(ips)
			cidr := "10.0.0.0/8"
			if parts := strings.Split(ip, "."); len(parts) == 4 {
				cidr = strings.Join(parts[:3], ".") + ".0/24"
			}
			src = fmt.Sprintf(`{"detail":{"sourceIPAddress":[{"cidr":%s}],"eventSource":[%s]}}`, q(cidr), q(pick(sources)))
		case 4:
			src = fmt.Sprintf(`{"detail":{"eventSource":[%s],"eventName":[{"anything-but":[%s,%s]}]}}`, q(pick(sources)), q(pick(names)), q(pick(names)))
		case 5:
			src = fmt.Sprintf(`{"detail":{"errorCode":[{"exists":true}],"eventSource":[%s]}}`, q(pick(sources)))
		case 6:
			src = fmt.Sprintf(`{"source":[%s],"$or":[{"detail":{"eventName":[%s]}},{"detail":{"errorCode":[%s]}}]}`, svc(pick(sources)), q(pick(names)), q(pick(codes)))
		case 7:
			arn := pick(arns)
			if k := strings.LastIndexByte(arn, '/'); k > 0 {
				arn = "arn:aws:*" + arn[k:]
			} else {
				arn = "*" + arn[len(arn)/2:]
			}
			src = fmt.Sprintf(`{"detail":{"userIdentity":{"arn":[{"wildcard":%s}]},"eventName":[{"prefix":%s}]}}`, q(strings.ReplaceAll(arn, "**", "*")), q(pick(names)[:3]))
		case 8:
			src = fmt.Sprintf(`{"detail":{"requestParameters":{"maxResults":[{"numeric":[">",%d,"<=",%d]}]},"eventSource":[%s]}}`, r.IntN(50), 50+r.IntN(1000), q(pick(sources)))
		case 9:
			src = fmt.Sprintf(`{"region":[%s],"detail":{"eventName":[{"equals-ignore-case":%s}]}}`, q(pick(regions)), q(strings.ToLower(pick(names))))
		case 10:
			src = fmt.Sprintf(`{"detail":{"userIdentity":{"type":["Root","IAMUser"]},"eventName":[{"suffix":%s}],"readOnly":[false]}}`, q(pick(names)[2:]))
		case 11:
			src = fmt.Sprintf(`{"detail":{"errorCode":[{"exists":false}],"eventName":[%s],"readOnly":[true]}}`, q(pick(names)))
		}
		p, err := Parse([]byte(src))
		if err != nil {
			tb.Fatalf("generated pattern %s: %v", src, err)
		}
		out = append(out, p)
	}
	return out
}

func benchMatch(b *testing.B, n int) {
	events, records := loadEnvelopes(b)
	patterns := benchPatterns(b, n, records)
	bld := NewBuilder()
	for i, p := range patterns {
		bld.Add(i, p)
	}
	m := bld.Build()
	total := 0
	for _, e := range events {
		total += len(e)
	}
	var dst []int
	matches := 0
	for _, e := range events {
		dst, _ = m.Match(e, dst[:0])
		matches += len(dst)
	}
	b.SetBytes(int64(total / len(events)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		dst, err = m.Match(events[i%len(events)], dst[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(matches)/float64(len(events)), "matches/event")
}

func BenchmarkMatch10(b *testing.B)   { benchMatch(b, 10) }
func BenchmarkMatch100(b *testing.B)  { benchMatch(b, 100) }
func BenchmarkMatch1000(b *testing.B) { benchMatch(b, 1000) }

// BenchmarkDecodeStdlib measures reading the events with encoding/json,
// for comparison with Match.
func BenchmarkDecodeStdlib(b *testing.B) {
	events, _ := loadEnvelopes(b)
	total := 0
	for _, e := range events {
		total += len(e)
	}
	b.SetBytes(int64(total / len(events)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var v map[string]any
		if err := json.Unmarshal(events[i%len(events)], &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch1000Parallel(b *testing.B) {
	events, records := loadEnvelopes(b)
	bld := NewBuilder()
	for i, p := range benchPatterns(b, 1000, records) {
		bld.Add(i, p)
	}
	m := bld.Build()
	total := 0
	for _, e := range events {
		total += len(e)
	}
	b.SetBytes(int64(total / len(events)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var dst []int
		i := 0
		for pb.Next() {
			dst, _ = m.Match(events[i%len(events)], dst[:0])
			i++
		}
	})
}

func BenchmarkBuild1000(b *testing.B) {
	_, records := loadEnvelopes(b)
	patterns := benchPatterns(b, 1000, records)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bld := NewBuilder()
		for j, p := range patterns {
			bld.Add(j, p)
		}
		bld.Build()
	}
}

func BenchmarkParse(b *testing.B) {
	src := []byte(`{"source":["aws.iam"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventName":["CreateUser","CreateAccessKey"],"userIdentity":{"arn":[{"wildcard":"arn:aws:iam::*:user/*"}]},"sourceIPAddress":[{"anything-but":{"prefix":"10."}}],"errorCode":[{"exists":false}]}}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
