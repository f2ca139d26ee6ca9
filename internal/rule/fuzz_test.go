package rule

import "testing"

// FuzzParse checks that no rule file makes the loader panic, and that a
// file that loads compiles into a Set and runs its tests.
func FuzzParse(f *testing.F) {
	f.Add([]byte(oneRule))
	f.Add([]byte("rules:\n  - name: a\n    pattern: {source: [aws.s3]}\n"))
	f.Add([]byte("- name: a\n  pattern: '{\"detail-type\":[{\"anything-but\":{\"prefix\":\"AWS Console Sign\"}}]}'\n"))
	f.Add([]byte("name: a\npattern: {detail: {n: [1.5e3, null, true]}}\nsummary: '{{index . \"x\"}}'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse(data, "fuzz.yaml")
		if err != nil {
			return
		}
		if _, err := NewSet(rs); err != nil {
			return
		}
		RunTests(rs)
	})
}
