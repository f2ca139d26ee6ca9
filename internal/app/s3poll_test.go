package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/source/s3poll"
	"github.com/trailwatch/trailwatch/internal/source/s3src/s3srctest"
	"github.com/trailwatch/trailwatch/internal/store"
)

// serve with an S3 source (gofakes3 on loopback, reached through the
// endpoint override and static credentials from the environment) polls the
// bucket: an uploaded example CloudTrail file's alerts are recorded and the
// region folder's checkpoint names the file. Not parallel: it sets the AWS
// environment.
func TestServePollsS3(t *testing.T) {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": s3srctest.AccessKey, "AWS_SECRET_ACCESS_KEY": s3srctest.SecretKey,
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_REGION": s3srctest.Region,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"),
	} {
		t.Setenv(k, v)
	}
	s3srv := s3srctest.Start(t)
	s3srv.CreateBucket(t, "trail")
	const (
		folder = "logs/AWSLogs/218007301253/CloudTrail/us-east-1/"
		key    = folder + "2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1230Z_ZtUNbBkwAu98FPZb.json.gz"
	)
	body, err := os.ReadFile("../../examples/cloudtrail/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1230Z_ZtUNbBkwAu98FPZb.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	s3srv.Put(t, "trail", key, body)
	// The file was delivered 15 minutes ago: within the first round's Since.
	clk := clock.NewFake(time.Date(2023, 7, 10, 12, 45, 0, 0, time.UTC))
	a := start(t, Options{S3Sources: []string{"s3://trail/logs/"}, AWSEndpoint: s3srv.URL, Clock: clk, Stdout: io.Discard})
	ctx := context.Background()
	for i := 0; ; i++ {
		rows, err := a.Store().Alerts(ctx, store.AlertFilter{Rule: "access-key-created"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 2 {
			break
		}
		if i > 1000 {
			t.Fatalf("%d access-key-created alerts from the polled log file, want 2", len(rows))
		}
		time.Sleep(10 * time.Millisecond) // polling the source's progress
	}
	for i := 0; ; i++ {
		cp, ok, err := a.Store().Checkpoint(ctx, s3poll.CheckpointKey("trail", folder))
		if err != nil {
			t.Fatal(err)
		}
		if ok && cp == key {
			break
		}
		if i > 1000 {
			t.Fatalf("checkpoint = %q, %v; want %q", cp, ok, key)
		}
		time.Sleep(10 * time.Millisecond) // polling the source's progress
	}
	if g := s3srv.Gets(); g != 1 {
		t.Errorf("%d object GETs, want 1", g)
	}
}
