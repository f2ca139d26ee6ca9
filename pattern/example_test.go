package pattern_test

import (
	"errors"
	"fmt"

	"github.com/trailwatch/trailwatch/pattern"
)

func ExampleParse() {
	_, err := pattern.Parse([]byte(`{"detail":{"eventName":[{"NUMERIC":["=",5]}]}}`))
	var pe *pattern.Error
	if errors.As(err, &pe) {
		fmt.Printf("%s: %s\n", pe.Path, pe.Msg)
	}
	// Output: detail.eventName: Unrecognized match type NUMERIC
}

func ExampleMatches() {
	p := pattern.MustParse(`{
		"source": ["aws.iam"],
		"detail": {
			"eventName": [{"prefix": "Create"}, "AttachUserPolicy"],
			"errorCode": [{"exists": false}]
		}
	}`)
	ok, _ := pattern.Matches(p, []byte(`{"source":"aws.iam","detail":{"eventName":"CreateAccessKey"}}`))
	fmt.Println(ok)
	ok, _ = pattern.Matches(p, []byte(`{"source":"aws.iam","detail":{"eventName":"CreateAccessKey","errorCode":"AccessDenied"}}`))
	fmt.Println(ok)
	// Output:
	// true
	// false
}

func ExampleBuilder() {
	b := pattern.NewBuilder()
	b.Add(1, pattern.MustParse(`{"detail":{"userIdentity":{"type":["Root"]}}}`))
	b.Add(2, pattern.MustParse(`{"detail":{"sourceIPAddress":[{"anything-but":{"prefix":"10."}}]}}`))
	b.Add(3, pattern.MustParse(`{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/8"}]}}`))
	m := b.Build() // one matcher for all patterns; safe for concurrent use

	event := []byte(`{"detail-type":"AWS Console Sign In via CloudTrail","detail":{"userIdentity":{"type":"Root"},"sourceIPAddress":"198.51.100.7"}}`)
	ids, err := m.Match(event, nil)
	fmt.Println(ids, err)
	// Output: [1 2] <nil>
}

func ExamplePattern_Fields() {
	p := pattern.MustParse(`{"source":["aws.s3"],"$or":[{"detail":{"eventName":["PutBucketPolicy"]}},{"detail.errorCode":[{"exists":true}]}]}`)
	fmt.Println(p.Fields())
	// Output: [detail.errorCode detail.eventName source]
}
