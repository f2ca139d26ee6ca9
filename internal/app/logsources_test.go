package app

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/source/awstest"
	"github.com/trailwatch/trailwatch/internal/source/lookupsrc"
	"github.com/trailwatch/trailwatch/internal/store"
)

// serve polls a trail's CloudWatch Logs log group and the CloudTrail event
// history (test servers speaking the AWS JSON protocol on loopback, through
// the SDK): the root sign-ins in either alert once each.
func TestServePollsLogGroupAndEventHistory(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC))
	logs := awstest.NewLogs(fake.Now)
	trail := awstest.NewTrail(fake.Now)
	logsURL := awstest.Start(t, logs)
	trailURL := awstest.Start(t, trail)

	at := fake.Now().Add(-time.Minute)
	inGroup := loginAt("cwl-1", at)
	logs.Put("aws-cloudtrail-logs", awstest.LogEvent{Stream: "111122223333_CloudTrail_us-east-1", Timestamp: at, Message: inGroup})
	inHistory := loginAt("lookup-1", at)
	if err := trail.Put("us-east-1", []byte(inHistory)); err != nil {
		t.Fatal(err)
	}
	// The same event in both: one alert.
	logs.Put("aws-cloudtrail-logs", awstest.LogEvent{Stream: "s", Timestamp: at, Message: inHistory})

	var polled sync.Map
	a := start(t, Options{
		Clock:         fake,
		Stdout:        io.Discard,
		LogGroups:     []string{"aws-cloudtrail-logs"},
		LookupRegions: []string{"all"}, // every enabled region, from Account Management's ListRegions
		AccountClient: account.NewFromConfig(awstest.Config(awstest.Start(t, &awstest.Account{Regions: map[string]string{
			"us-east-1": "ENABLED_BY_DEFAULT", "eu-north-1": "ENABLED_BY_DEFAULT", "me-south-1": "DISABLED",
		}}), "us-east-1")),
		LogsClient: cloudwatchlogs.NewFromConfig(awstest.Config(logsURL, "us-east-1")),
		TrailClient: func(region string) lookupsrc.API {
			polled.Store(region, true)
			return cloudtrail.NewFromConfig(awstest.Config(trailURL, region))
		},
	})
	for _, r := range []string{"us-east-1", "eu-north-1"} {
		if _, ok := polled.Load(r); !ok {
			t.Errorf("region %s not polled", r)
		}
	}
	if _, ok := polled.Load("me-south-1"); ok {
		t.Error("a disabled region is polled")
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		rows, err := a.Store().Alerts(ctx, store.AlertFilter{Rule: "console-signin-without-mfa"})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]int{}
		for _, r := range rows {
			ids[r.Alert.EventID]++
		}
		if ids["cwl-1"] == 1 && ids["lookup-1"] == 1 && len(rows) == 2 {
			break
		}
		if i > 500 {
			t.Fatalf("alerts %v, want cwl-1 and lookup-1 once each", ids)
		}
		fake.Advance(time.Second) // the pollers' token buckets and intervals run on the fake clock
		time.Sleep(5 * time.Millisecond)
	}
}
