package transform_test

import (
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/transform"
)

func Example() {
	// The input transformer of a rule target, as in a CloudFormation template.
	t, err := transform.New(map[string]string{
		"instance": "$.detail.instance-id",
		"state":    "$.detail.state",
		"missing":  "$.detail.nope",
	}, `{"instance": <instance>, "status": "<instance> is <state>", "rule": <aws.events.rule-name>, "m": <missing>}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	event := []byte(`{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":[],"detail":{"instance-id":"i-0123456789","state":"RUNNING"}}`)
	body, err := t.Render(event, transform.Vars{
		RuleARN:       "arn:aws:events:us-east-1:123456789012:rule/example",
		RuleName:      "example",
		IngestionTime: time.Date(2015, 11, 11, 21, 29, 55, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(body))

	// A string template is sent as it is, quotes included.
	s, _ := transform.New(map[string]string{"state": "$.detail.state"}, `"now <state>"`)
	body, _ = s.Render(event, transform.Vars{})
	fmt.Println(string(body))

	// An undefined placeholder is refused, with AWS's message for the target.
	_, err = transform.New(nil, `"<who>"`)
	fmt.Println(err)
	if ve, ok := err.(*transform.ValidationError); ok {
		fmt.Println(ve.AWSMessage("NotifySlack"))
	}
	// Output:
	// {"instance": "i-0123456789", "status": "i-0123456789 is RUNNING", "rule": "example", "m": ""}
	// "now RUNNING"
	// target input: input_template contains invalid placeholder who
	// InputTemplate for target NotifySlack contains invalid placeholder who.
}
