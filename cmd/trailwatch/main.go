// Command trailwatch watches AWS account activity recorded by CloudTrail.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/trailwatch/trailwatch/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.OSEnv())
	stop()
	os.Exit(code)
}
